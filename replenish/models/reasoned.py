from django.db import models
from django.utils.translation import gettext_lazy as _

from replenish.reasons import reason_text


class Reasoned(models.Model):
    """The reason of a row as a code of `replenish.reasons` and its arguments, read in the
    reader's language (`reason_shown`); both empty for a reason a person typed, which the row's
    own `reason` keeps as typed. The row's `reason` keeps the English sentence of a coded reason.

    Database defaults too: the set-based inserts (imports, bulk issuing) name their columns.
    """

    reason_code = models.CharField(_("reason code"), max_length=48, blank=True, db_default="")
    reason_args = models.JSONField(
        _("reason arguments"), default=dict, blank=True, db_default=models.Value("{}")
    )

    reason: str  # each row's own field: the English sentence, or the reason as typed

    class Meta:
        abstract = True

    @property
    def reason_shown(self) -> str:
        typed: str = self.reason  # the concrete model's own field
        return reason_text(self.reason_code, self.reason_args) if self.reason_code else typed
