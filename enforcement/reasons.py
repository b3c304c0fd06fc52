"""Why a dossier changed, as codes of `replenish.reasons` (registered from
`EnforcementConfig.ready`), so its trail reads in the reader's language as the workflow's does."""

from django.utils.translation import gettext_noop as _

ENFORCEMENT_REASONS = {
    "dossier_opened": _("case %(case)s overdue"),
    "document_served": _("%(document)s served by %(served_by)s on %(on)s"),
    "inquiry_sent_to": _("account inquiry sent to %(banks)s"),
    "accounts_found": _("%(count)s account(s), balance %(balance)s"),
    "owed_and_found": _("%(owed)s owed, %(found)s found"),
    "arrival_amount": _("arrival %(arrival)s of %(amount)s"),
    "fine_referred": _("%(document)s, %(owed)s owed"),
    "case_closes_dossier": _("case %(case)s %(case_state)s (as of %(on)s)"),
    "guarantee_lapsed": _("no guarantee by %(on)s"),
    "dossier_closed": _("closed: %(close_reason)s"),
}
