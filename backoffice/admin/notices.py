from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backoffice.admin.case_list import RegionFilter
from backoffice.admin.helpers import ReadOnlyAdmin
from backoffice.queues import queue_shown
from kernel.forms import form_errors_add
from kernel.inputs import DateField
from notices.deadlines import (
    calendar_exception_check,
    calendar_exception_remove,
    calendar_exception_save,
    library_says,
)
from notices.documents import pdf_response
from notices.messages import KIND_LABELS, kind_label
from notices.models import (
    CalendarException,
    DeliveryChannel,
    Notice,
    NoticeState,
    Notification,
    NotificationState,
    Reminder,
    ReminderRule,
    UnitContact,
)
from notices.printing import notices_print, notices_undelivered_late, undelivered_notices
from notices.reminders import RULES, SOURCES, reminder_rule_change
from notices.sending import notifications_retry
from notices.services import notice_deliver
from replenish.labels import subject_label


class DeliveryForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("delivered by"), choices=DeliveryChannel.choices, initial=DeliveryChannel.POST
    )
    delivered_on = DateField(
        label=_("delivered on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    proof = forms.FileField(label=_("proof of delivery"), required=False)
    note = forms.CharField(label=_("delivery note"), max_length=200, required=False)


class UndeliveredLateFilter(admin.SimpleListFilter):
    """Collection's queue of notices issued and not delivered after
    NOTICE_UNDELIVERED_WORKING_DAYS working days (`backoffice.queues`)."""

    title = _("delivery")
    parameter_name = "undelivered"

    def lookups(self, request, model_admin):
        return [
            (
                "late",
                _("not delivered %(days)s working days after issue")
                % {"days": settings.NOTICE_UNDELIVERED_WORKING_DAYS},
            )
        ]

    def queryset(self, request, queryset):
        if self.value() == "late":
            return queryset.filter(pk__in=notices_undelivered_late().values("pk"))
        return queryset


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "case",
        "state",
        "issued_on",
        "delivered_on",
        "deadline",
        "total",
    ]
    list_filter = [UndeliveredLateFilter, "state", "delivery_channel", RegionFilter, "year"]
    search_fields = ["=number", "=case__case_no", "=case__unit__uscc"]
    list_select_related = ["case"]
    readonly_fields = [
        "number",
        "case",
        "state",
        "documents",
        "issued_on",
        "delivered_on",
        "delivery_channel",
        "delivery_proof",
        "delivery_note",
        "deadline",
        "acknowledged_at",
        "acknowledged_by",
        "principal",
        "late_fee",
        "total",
        "document",
    ]
    fields = readonly_fields
    actions = ["print_notices"]
    change_list_template = "admin/notices/notice/change_list.html"

    def has_add_permission(self, request):
        return False

    def get_ordering(self, request):
        # Collection's queue of undelivered notices is worked oldest first.
        shown = queue_shown("admin:notices_notice_changelist", request.GET)
        if shown is not None:
            return [shown.oldest_first, "pk"]
        return super().get_ordering(request)

    @admin.action(
        description=_("Print the selected notices with their delivery receipts (one PDF)"),
        permissions=["view"],
    )
    def print_notices(self, request, queryset):
        return self._print(request, queryset.order_by("region_code", "number"), "notices.pdf")

    def print_undelivered_view(self, request):
        """Every notice issued and not yet delivered, with its receipt, for the post room."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._print(request, undelivered_notices(), "undelivered-notices.pdf")

    def _print(self, request, notices, filename: str):
        try:
            pdf = notices_print(notices)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return redirect("admin:notices_notice_changelist")
        return pdf_response(pdf, filename, attachment=True)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("documents"))
    def documents(self, obj):
        links = format_html(
            '<a href="{}">HTML</a> · <a href="{}">PDF</a> · <a href="{}?lang=en">{}</a>',
            reverse("notices:notice_html", args=[obj.pk]),
            reverse("notices:notice_pdf", args=[obj.pk]),
            reverse("notices:notice_pdf", args=[obj.pk]),
            _("PDF in English"),
        )
        if obj.state == NoticeState.ISSUED:
            links += format_html(
                ' · <a href="{}">{}</a>',
                reverse("admin:notices_notice_deliver", args=[obj.pk]),
                _("record delivery"),
            )
        return links

    @admin.display(description=_("the notice"))
    def document(self, obj):
        """The notice as the unit reads it (rendered from its snapshot), not the snapshot."""
        return format_html(
            '<iframe src="{}" title="{}" class="notice-document" '
            'style="width:100%;max-width:60rem;height:70vh;border:1px solid #ccc"></iframe>',
            reverse("notices:notice_html", args=[obj.pk]),
            _("the notice"),
        )

    def get_urls(self):
        return [
            path(
                "print-undelivered/",
                self.admin_site.admin_view(self.print_undelivered_view),
                name="notices_notice_print_undelivered",
            ),
            path(
                "<int:pk>/deliver/",
                self.admin_site.admin_view(self.deliver_view),
                name="notices_notice_deliver",
            ),
            *super().get_urls(),
        ]

    def deliver_view(self, request, pk: int):
        """Staff record a delivery (by post: the date on the return receipt and its scan)."""
        notice = get_object_or_404(Notice, pk=pk)
        form = DeliveryForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    notice_deliver(
                        notice_id=notice.pk,
                        channel=form.cleaned_data["channel"],
                        delivered_on=form.cleaned_data["delivered_on"],
                        proof=form.cleaned_data["proof"],
                        note=form.cleaned_data["note"],
                        actor=request.user,
                    )
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                notice.refresh_from_db()
                self.message_user(
                    request,
                    _("Notice %(number)s delivered on %(date)s; deadline %(deadline)s.")
                    % {
                        "number": notice.number,
                        "date": notice.delivered_on,
                        "deadline": notice.deadline,
                    },
                    messages.SUCCESS,
                )
                return redirect("admin:notices_notice_change", notice.pk)
        return TemplateResponse(
            request,
            "admin/notices/notice/deliver.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "notice": notice,
                "form": form,
                "title": _("Record the delivery of notice %(number)s") % {"number": notice},
            },
        )


class KindFilter(admin.SimpleListFilter):
    title = _("message")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, label) for kind, label in KIND_LABELS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind_shown",
        "channel",
        "recipient",
        "state",
        "attempts",
        "short_error",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = [
        "state",
        "channel",
        KindFilter,
        "department",
        ("last_error", admin.EmptyFieldListFilter),
    ]
    search_fields = ["=dedupe_key", "=notice__number", "=case__case_no", "=unit__uscc", "address"]
    list_select_related = ["unit"]
    actions = ["retry"]
    date_hierarchy = "created_at"
    # The context is what the text was made from; the text itself is shown.
    readonly_fields = [
        "kind_shown",
        "key",
        *(
            f.name
            for f in Notification._meta.concrete_fields
            if f.name not in ("id", "kind", "context", "language", "dedupe_key")
        ),
    ]

    @admin.display(description=_("dedupe key"))
    def key(self, obj):
        return format_html("<code>{}</code>", obj.dedupe_key)

    fields = readonly_fields

    @admin.display(description=_("message"), ordering="kind")
    def kind_shown(self, obj):
        return kind_label(obj.kind)

    @admin.display(description=pgettext_lazy("message recipient", "to"))
    def recipient(self, obj):
        if obj.department:
            return obj.get_department_display()
        return f"{obj.unit.name if obj.unit else ''} {obj.address}".strip()

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error.splitlines()[0][:80] if obj.last_error else ""

    def has_retry_permission(self, request):
        return request.user.has_perm("notices.retry_notification")

    @admin.action(
        description=_("Send the selected failed notifications again"), permissions=["retry"]
    )
    def retry(self, request, queryset):
        failed = list(queryset.filter(state=NotificationState.FAILED).values_list("pk", flat=True))
        skipped = queryset.exclude(state=NotificationState.FAILED).count()
        try:
            with transaction.atomic():
                count = notifications_retry(notification_ids=failed, actor=request.user)
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(request, "; ".join(getattr(exc, "messages", [str(exc)])), "error")
            return
        self.message_user(
            request,
            _("%(count)d notification(s) queued again; %(skipped)d not failed, left alone.")
            % {"count": count, "skipped": skipped},
            messages.SUCCESS,
        )


class ReminderRuleForm(forms.ModelForm):
    class Meta:
        model = ReminderRule
        fields = ["enabled", "days"]


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    form = ReminderRuleForm
    list_display = ["description", "recipients", "enabled", "days", "installed"]
    list_display_links = ["description"]
    list_editable = ["enabled", "days"]
    fields = ["enabled", "days"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("what"))
    def description(self, obj):
        return RULES[obj.code].label if obj.code in RULES else ""

    @admin.display(description=pgettext_lazy("message recipient", "to"))
    def recipients(self, obj):
        return RULES[obj.code].recipients if obj.code in RULES else ""

    @admin.display(description=pgettext_lazy("reminder rule", "active"), boolean=True)
    def installed(self, obj):
        """False while nothing provides what the rule reminds of (see notices/reminders.py)."""
        return obj.code in SOURCES

    def save_model(self, request, obj, form, change):
        reminder_rule_change(
            rule_id=obj.pk,
            enabled=form.cleaned_data["enabled"],
            days=form.cleaned_data["days"],
            actor=request.user,
        )


class RuleFilter(admin.SimpleListFilter):
    title = _("rule")
    parameter_name = "rule__code"

    def lookups(self, request, model_admin):
        return [(code, spec.label) for code, spec in RULES.items()]

    def queryset(self, request, queryset):
        return queryset.filter(rule__code=self.value()) if self.value() else queryset


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = [
        "due_at",
        "rule_shown",
        "about",
        "subject_id",
        "case",
        "anchor",
        "state",
        "done_at",
    ]
    list_filter = ["state", RuleFilter]
    fields = ["due_at", "rule_shown", "about", "subject_id", "case", "anchor", "state", "done_at"]
    readonly_fields = fields

    @admin.display(description=_("rule"), ordering="rule")
    def rule_shown(self, obj):
        return RULES[obj.rule.code].label if obj.rule.code in RULES else obj.rule.code

    @admin.display(description=_("about"), ordering="subject")
    def about(self, obj):
        return subject_label(obj.subject)

    search_fields = ["=dedupe_key", "=case__case_no"]
    list_select_related = ["rule", "case"]
    date_hierarchy = "due_at"


@admin.register(UnitContact)
class UnitContactAdmin(admin.ModelAdmin):
    list_display = ["unit", "person", "email", "mobile"]
    search_fields = ["=unit__uscc", "unit__name", "email", "mobile"]
    raw_id_fields = ["unit"]


class CalendarExceptionForm(forms.ModelForm):
    day = DateField(label=_("day"))

    class Meta:
        model = CalendarException
        fields = ["day", "working", "name", "source"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            # The service's rules, on the form before anything is saved.
            try:
                calendar_exception_check(
                    pk=self.instance.pk,
                    day=cleaned["day"],
                    working=cleaned["working"],
                    name=cleaned["name"],
                )
            except ValidationError as exc:
                form_errors_add(self, exc)
        return cleaned


@admin.register(CalendarException)
class CalendarExceptionAdmin(admin.ModelAdmin):
    """The holiday calendar every deadline counts on: the days staff add to or correct in the
    maintained calendar. Each change goes through `notices.deadlines` and is in the history."""

    form = CalendarExceptionForm
    list_display = [
        "day",
        "weekday",
        "working",
        "name",
        "maintained_calendar",
        "source",
        "changed_by",
        "changed_at",
    ]
    list_filter = ["working"]
    date_hierarchy = "day"
    search_fields = ["name", "source"]
    readonly_fields = ["changed_by", "changed_at"]
    fields = ["day", "working", "name", "source", *readonly_fields]

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return date_format(obj.day, "l")

    @admin.display(description=_("the maintained calendar says"))
    def maintained_calendar(self, obj):
        return _("working day") if library_says(obj.day) else _("day off")

    def save_model(self, request, obj, form, change):
        saved = calendar_exception_save(
            pk=obj.pk,
            day=form.cleaned_data["day"],
            working=form.cleaned_data["working"],
            name=form.cleaned_data["name"],
            source=form.cleaned_data["source"],
            actor=request.user,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        calendar_exception_remove(pk=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            calendar_exception_remove(pk=pk, actor=request.user)
