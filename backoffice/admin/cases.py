from functools import partial

from django.contrib import admin
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from backoffice.admin import (
    collection,  # noqa: F401  (registers payments, arrivals, credit)
    files,
)
from backoffice.admin.agreements import AgreementInline, SuccessorCaseInline, case_tools
from backoffice.admin.case_actions import (
    case_transition_buttons,
    dashboard_view,
    issue_notice_view,
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
from backoffice.admin.credit import CreditOffsetInline
from backoffice.admin.writeoff import WriteOffInline
from backoffice.queues import queue_shown
from notices.models import Notice
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    Arrival,
    AuditEntry,
    ImportBatch,
    LedgerEntry,
    Payment,
)


def id_number_fields(request, fields) -> list[str]:
    """ID numbers are shown in full only to users with `replenish.view_full_id_number`; the
    others see them masked (DESIGN.md: personal data)."""
    if request.user.has_perm("replenish.view_full_id_number"):
        return ["full_id_number" if f == "masked_id_number" else f for f in fields]
    return list(fields)


class ReadOnlyInline(admin.TabularInline):
    """A part of the case shown on its page: whoever may see the case sees its parts, read-only."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("replenish.view_arrearscase")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = ArrearsLine
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
        return id_number_fields(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return id_number_fields(request, super().get_readonly_fields(request, obj))

    @admin.display(description=_("insured person"))
    def person_name(self, line):
        return line.person.name

    @admin.display(description=_("citizen ID number"))
    def masked_id_number(self, line):
        return line.person.masked_id_number

    @admin.display(description=_("citizen ID number"))
    def full_id_number(self, line):
        return line.person.id_number


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    fields = [
        "id",
        "kind",
        "line",
        "employer",
        "employee",
        "late_fee",
        "effective_on",
        "recorded_at",
        "actor_label",
        "source",
        "reason",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # A line shows as its period and person.
        return super().get_queryset(request).select_related("line__person")


class AuditInline(ReadOnlyInline):
    model = AuditEntry
    fields = [
        "at",
        "subject",
        "subject_id",
        "transition",
        "from_state",
        "to_state",
        "actor_label",
        "reason",
    ]
    readonly_fields = fields


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
        "unit",
        "obligor",
        "state",
        "principal_unpaid",
        "fee_unpaid",
        "paid_total",
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
        "region_code",
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

    def get_ordering(self, request):
        # A department's queue (replenish/queues.py) is worked oldest first.
        shown = queue_shown("admin:replenish_arrearscase_changelist", request.GET)
        if shown is not None:
            return [shown.oldest_first, "pk"]
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
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
                "dashboard/",
                self.admin_site.admin_view(partial(dashboard_view, self)),
                name="replenish_dashboard",
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
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "case_tools": tools}
        )


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "imported_at",
        "rows",
        "lines_created",
        "lines_skipped",
        "cases_opened",
        "actor_label",
    ]
    readonly_fields = [*list_display, "sha256"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
