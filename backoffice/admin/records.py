"""Employees' records: the paid person-month batches sent to the core contribution system, a
person's months (opened by exact citizen ID number, with the reason recorded), and the access
log audit reads."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backoffice.admin.helpers import ReadOnlyAdmin
from backoffice.admin.shown import reason_column
from replenish.labels import actor_display
from replenish.models import PaidMonthBatch, PaidMonthRow, PersonRecordAccess
from replenish.services.records import paid_months_batch_make, paid_months_csv, person_records_open
from units.identifiers import mask_id_number, validate_id_number

FULL_ID = "replenish.view_full_id_number"


class PaidMonthRowInline(admin.TabularInline):
    model = PaidMonthRow
    fields = ("unit_uscc", "shown_id_number", "period", "employer_amount", "employee_amount",
              "status_shown", "status_on")  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = False
    verbose_name_plural = _("months in this batch (first 200; download the file for all)")

    def get_queryset(self, request):
        pks = super().get_queryset(request).values_list("pk", flat=True)[:200]
        return PaidMonthRow.objects.filter(pk__in=list(pks))

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("status"))
    def status_shown(self, row):
        return row.get_status_display()

    @admin.display(description=_("citizen ID number"))
    def shown_id_number(self, row):
        return row.id_number if self._full else mask_id_number(row.id_number)

    def get_formset(self, request, obj=None, **kwargs):
        self._full = request.user.has_perm(FULL_ID)
        return super().get_formset(request, obj, **kwargs)


@admin.register(PaidMonthBatch)
class PaidMonthBatchAdmin(ReadOnlyAdmin):
    list_display = ("number", "made_at", "made_by_shown", "rows", "download")
    fields = ("number", "made_at", "made_by_shown", "rows", "download")
    readonly_fields = fields
    inlines = [PaidMonthRowInline]
    change_list_template = "admin/replenish/paidmonthbatch/change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:number>/file/", wrap(self.file_view), name="replenish_paidmonthbatch_file"),
            path("make/", wrap(self.make_view), name="replenish_paidmonthbatch_make"),
            *super().get_urls(),
        ]

    @admin.display(description=_("made by"))
    def made_by_shown(self, batch):
        return actor_display(batch.made_by)

    @admin.display(description=_("file"))
    def download(self, batch):
        url = reverse("admin:replenish_paidmonthbatch_file", args=[batch.number])
        return format_html('<a href="{}">{}</a>', url, _("download CSV"))

    def file_view(self, request, number: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        get_object_or_404(PaidMonthBatch, number=number)
        response = StreamingHttpResponse(paid_months_csv(number), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="paid-months-{number}.csv"'
        return response

    def make_view(self, request):
        if request.method != "POST":
            return redirect("admin:replenish_paidmonthbatch_changelist")
        try:
            batch = paid_months_batch_make(actor=request.user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect("admin:replenish_paidmonthbatch_changelist")
        if batch is None:
            self.message_user(
                request, _("No month changed since the last batch: no batch made."), messages.INFO
            )
        else:
            self.message_user(
                request,
                _("Batch %(number)s made: %(rows)s month(s) restored or reopened.")
                % {"number": batch.number, "rows": batch.rows},
            )
        return redirect("admin:replenish_paidmonthbatch_changelist")

    def changelist_view(self, request, extra_context=None):
        extra = {"may_make": request.user.has_perm("replenish.add_paidmonthbatch")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})


class PersonSearchForm(forms.Form):
    id_number = forms.CharField(
        label=_("citizen ID number"), max_length=18, validators=[validate_id_number]
    )
    reason = forms.CharField(
        label=_("why you open this person's records"),
        max_length=500,
        help_text=_(
            "Recorded in the access log with your name (Personal Information Protection Law)."
        ),
    )


@admin.register(PersonRecordAccess)
class PersonRecordAccessAdmin(ReadOnlyAdmin):
    """The access log; its 'person's months' page is where staff open a person's months."""

    list_display = (
        "at",
        "actor_label",
        "channel",
        "masked_id_number",
        "person_name",
        reason_column,
    )
    list_filter = ("channel",)
    fields = ("at", "actor_label", "channel", "masked_id_number", "person_name", reason_column)
    readonly_fields = fields
    change_list_template = "admin/replenish/personrecordaccess/change_list.html"

    @admin.display(description=_("insured person"))
    def person_name(self, access):
        return access.person.name if access.person_id else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("person/", wrap(self.person_view), name="replenish_person_records"),
            *super().get_urls(),
        ]

    def person_view(self, request):
        """Search by exact citizen ID number (sent by POST, so the number is in no URL and no
        access log of the web server), then every month of that person across every unit."""
        if not request.user.has_perm("replenish.view_person_records"):
            raise PermissionDenied
        form = PersonSearchForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("A person's months"),
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            try:
                person, months = person_records_open(
                    id_number=form.cleaned_data["id_number"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                full = request.user.has_perm(FULL_ID)
                context.update(
                    form=PersonSearchForm(),  # the number is not echoed back into the page
                    searched=True,
                    person=person,
                    shown_id_number=(
                        person.id_number if person and full else mask_id_number(person.id_number)
                    )
                    if person
                    else "",
                    months=months,
                    restored=sum(1 for m in months if m.restored),
                )
        return TemplateResponse(request, "admin/replenish/person_records.html", context)
