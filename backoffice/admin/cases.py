from functools import partial

from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.admin import (
    collection,  # noqa: F401  (registers payments, arrivals, credit)
    files,
    id_search,
)
from backoffice.admin.agreements import AgreementInline, SuccessorCaseInline, case_tools
from backoffice.admin.case_actions import (
    case_transition_buttons,
    dashboard_view,
    issue_notice_view,
    statistics_view,
)
from backoffice.admin.case_list import (
    AgreementKindFilter,
    CaseListPaginator,
    ObligorStatusFilter,
    OverdueFilter,
    QueueFilter,
    RegionFilter,
    search_by_id_number,
)
from backoffice.admin.case_summary import case_summary
from backoffice.admin.credit import CreditOffsetInline
from backoffice.admin.helpers import PagedInline, ReadOnlyAdmin, ReadOnlyInline, id_number_fields
from backoffice.admin.shown import (
    actor_column,
    reason_column,
    source_column,
    sources_name,
    yuan,
)
from backoffice.admin.writeoff import WriteOffInline
from backoffice.queues import queue_shown
from notices.models import Notice
from replenish.labels import subject_label
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    AuditEntry,
    ImportBatch,
    LedgerEntry,
    Payment,
)
from replenish.owed_today import case_owed_fen, fen_to_yuan, oldest_unpaid_due
from units.regions import region_label


def _correct(request) -> list[str]:
    """The lines' "Correct" link, for the collection users who record corrections."""
    return ["correct_link"] if request.user.has_perm("replenish.correct_line") else []


class LineInline(PagedInline):
    model = ArrearsLine
    # Folded: the summary above says what the case owes; a clerk opens the detail to check it.
    # By period, then person: a month's lines together, fifty a page.
    classes = ["collapse"]
    ordering = ["period", "person__id_number", "pk"]
    fields = [
        "period",
        "person_name",
        "masked_id_number",
        "base",
        "employer_amount",
        "employee_amount",
        "due_date",
        "employer_unpaid",
        "employee_unpaid",
        "fee_unpaid",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person")

    def get_fields(self, request, obj=None):
        return [*id_number_fields(request, super().get_fields(request, obj)), *_correct(request)]

    def get_readonly_fields(self, request, obj=None):
        fields = id_number_fields(request, super().get_readonly_fields(request, obj))
        return [*fields, *_correct(request)]

    @admin.display(description=_("correction"))
    def correct_link(self, line):
        url = reverse("admin:replenish_linecorrection_record", args=[line.pk])
        return format_html('<a href="{}">{}</a>', url, _("Correct"))

    @admin.display(description=_("insured person"))
    def person_name(self, line):
        return line.person.name

    @admin.display(description=_("citizen ID number"))
    def masked_id_number(self, line):
        return line.person.masked_id_number

    @admin.display(description=_("citizen ID number"))
    def full_id_number(self, line):
        return line.person.id_number


class LedgerInline(PagedInline):
    model = LedgerEntry
    # Folded: the summary above says what the case owes; a clerk opens the detail to check it.
    # The newest entries first, fifty a page.
    classes = ["collapse"]
    ordering = ["-id"]
    fields = [
        "id",
        "kind",
        "line",
        "employer",
        "employee",
        "late_fee",
        "effective_on",
        "recorded_at",
        actor_column,
        source_column,
        reason_column,
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # A line shows as its period and person.
        return super().get_queryset(request).select_related("line__person")

    def page_loaded(self, rows):
        sources_name(rows)


class AuditInline(PagedInline):
    """The case's trail in the reader's language (codes through replenish.labels)."""

    model = AuditEntry
    classes = ["collapse"]
    ordering = ["-at", "-id"]
    fields = ["at", "what", "subject_id", "change", "states", "by", "why"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("about"))
    def what(self, entry):
        return subject_label(entry.subject)

    @admin.display(description=_("transition"))
    def change(self, entry):
        return entry.transition_shown

    @admin.display(description=_("state"))
    def states(self, entry):
        return entry.states_shown

    @admin.display(description=_("by"))
    def by(self, entry):
        return entry.actor_shown

    @admin.display(description=_("reason"))
    def why(self, entry):
        return entry.reason_shown


class NoticeInline(ReadOnlyInline):
    model = Notice
    fields = ["number", "state", "issued_on", "delivered_on", "deadline", "total"]
    readonly_fields = fields
    show_change_link = True
    ordering = ["-issued_on", "-id"]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["amount", "channel", "via", "paid_on", "reference", "state", "recorded_at"]
    readonly_fields = fields
    show_change_link = True


class ArrivalInline(ReadOnlyInline):
    model = Arrival
    fields = [
        "arrival_ref",
        "amount",
        "arrived_on",
        "reference",
        "state",
        "applied_amount",
        "credit_amount",
    ]
    readonly_fields = fields
    show_change_link = True


@admin.register(ArrearsCase)
class ArrearsCaseAdmin(admin.ModelAdmin):
    list_display = [
        "case_no",
        "unit_shown",
        "state",
        "principal_shown",
        "owed_today",
        "days_overdue",
        "opened_on",
    ]
    list_filter = [
        "state",
        RegionFilter,
        ObligorStatusFilter,
        OverdueFilter,
        AgreementKindFilter,
        QueueFilter,
    ]
    search_fields = ["=case_no", "=unit__uscc", "unit__name", "=notices__number"]
    search_help_text = _(
        "Case number, unified social credit code, unit name, notice number, or a citizen ID "
        "number (exact)."
    )
    list_select_related = ["unit", "obligor"]
    show_full_result_count = False
    paginator = CaseListPaginator
    readonly_fields = [
        "case_no",
        "unit",
        "obligor",
        "predecessor",
        "region",
        "state",
        "state_changed_at",
        "opened_on",
        "principal_assessed",
        "principal_unpaid",
        "fee_unpaid",
        "paid_total",
        "written_off_total",
        "transferred_total",
    ]
    fields = readonly_fields
    inlines = [
        LineInline,
        NoticeInline,
        AgreementInline,
        WriteOffInline,
        PaymentInline,
        ArrivalInline,
        CreditOffsetInline,
        SuccessorCaseInline,
        LedgerInline,
        AuditInline,
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # What each case owes today and how old its oldest unpaid month is, computed by the
        # database for the page shown (replenish/owed_today.py): no query per row.
        today = timezone.localdate()
        return (
            super()
            .get_queryset(request)
            .annotate(owed_today_fen=case_owed_fen(today), oldest_due=oldest_unpaid_due())
        )

    @admin.display(description=_("unit"), ordering="unit__name")
    def unit_shown(self, case):
        """The unit, and under it whoever owes the case now when that is not the unit itself."""
        if not case.obligor_id:
            return format_html("{}<br><small>{}</small>", case.unit.name, case.unit.uscc)
        return format_html(
            "{}<br><small>{}</small><br><small>{}</small>",
            case.unit.name,
            case.unit.uscc,
            _("owed by %(party)s") % {"party": case.obligor},
        )

    @admin.display(description=_("principal unpaid"), ordering="principal_unpaid")
    def principal_shown(self, case):
        return yuan(case.principal_unpaid)

    @admin.display(description=_("region"))
    def region(self, case):
        return region_label(case.region_code)

    @admin.display(description=_("owed today"), ordering="owed_today_fen")
    def owed_today(self, case):
        return yuan(fen_to_yuan(case.owed_today_fen))

    @admin.display(description=_("days overdue"), ordering="oldest_due")
    def days_overdue(self, case):
        if case.oldest_due is None:
            return "—"
        return max(0, (timezone.localdate() - case.oldest_due).days)

    def get_ordering(self, request):
        # A department's queue (replenish/queues.py) is worked oldest first.
        shown = queue_shown("admin:replenish_arrearscase_changelist", request.GET)
        if shown is not None:
            return [shown.oldest_first, "pk"]
        return super().get_ordering(request)

    def get_changelist(self, request, **kwargs):
        return id_search.IdSearchChangeList

    def changelist_view(self, request, extra_context=None):
        number = id_search.searched_id_number(request)
        context = {**(extra_context or {}), "id_searched": number or ""}
        return super().changelist_view(request, context)

    def get_search_results(self, request, queryset, search_term):
        # A citizen ID number comes by its session token (admin/id_search.py), never in the URL.
        search_term = id_search.searched_id_number(request) or search_term
        by_id_number = search_by_id_number(queryset, search_term) if search_term else None
        if by_id_number is not None:
            return by_id_number, False
        return super().get_search_results(request, queryset, search_term)

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(partial(files.import_view, self)),
                name="replenish_arrearscase_import",
            ),
            path(
                "import/job/<int:pk>/",
                self.admin_site.admin_view(partial(files.import_job_view, self)),
                name="replenish_arrearscase_import_job",
            ),
            path(
                "template/<str:kind>.<str:extension>",
                self.admin_site.admin_view(partial(files.template_view, self)),
                name="replenish_file_template",
            ),
            path(
                "export.csv",
                self.admin_site.admin_view(partial(files.export_csv_view, self)),
                name="replenish_arrearscase_export_csv",
            ),
            path(
                "export.xlsx",
                self.admin_site.admin_view(partial(files.export_xlsx_view, self)),
                name="replenish_arrearscase_export_xlsx",
            ),
            path(
                "search/",
                self.admin_site.admin_view(partial(id_search.search_view, self)),
                name="replenish_arrearscase_search",
            ),
            path(
                "dashboard/",
                self.admin_site.admin_view(partial(dashboard_view, self)),
                name="replenish_dashboard",
            ),
            path(
                "statistics/",
                self.admin_site.admin_view(partial(statistics_view, self)),
                name="replenish_statistics",
            ),
            path(
                "<int:pk>/issue-notice/",
                self.admin_site.admin_view(partial(issue_notice_view, self)),
                name="replenish_arrearscase_issue_notice",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        tools = []
        if case is not None:
            tools = [*case_transition_buttons(request, case), *case_tools(request, case)]
            if request.user.has_perm("replenish.add_payment") and case.is_open:
                url = reverse("admin:replenish_payment_add")
                tools.append((f"{url}?case_no={case.case_no}", _("Record a counter payment")))
        today = timezone.localdate()
        summary = case_summary(case, today=today) if case is not None else None
        return super().change_view(
            request,
            object_id,
            form_url,
            {**(extra_context or {}), "case_tools": tools, "summary": summary, "today": today},
        )


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "file_name",
        "imported_at",
        "rows",
        "lines_created",
        "lines_skipped",
        "cases_opened",
        actor_column,
    ]
    readonly_fields = [*list_display, "sha256"]
    fields = readonly_fields
