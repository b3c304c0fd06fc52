from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from backoffice.admin.helpers import id_number_fields
from backoffice.forms import FORMS, PartyFields, PortalUserForm, SuccessorFormSet
from kernel.forms import form_errors_add
from notices.case_documents import claim_statement_document
from notices.documents import pdf_render, pdf_response
from replenish.documents import claim_statement_context
from replenish.documents_serving import document_url
from replenish.labels import actor_display
from replenish.models import OPEN_STATES, SUCCESSOR_KINDS, ArrearsCase
from replenish.services import unit_events as events
from units.models import (
    Counterparty,
    InsuredPerson,
    PortalMembership,
    Region,
    Unit,
    UnitEvent,
    UnitEventAttachment,
    UnitEventKind,
    UnitStatus,
)
from units.portal import portal_user_create
from units.regions import names_changed, region_label


class UnitCaseInline(admin.TabularInline):
    model = ArrearsCase
    fk_name = "unit"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["case_no", "state", "obligor", "predecessor", "principal_unpaid", "fee_unpaid"]
    readonly_fields = fields
    verbose_name_plural = _("cases")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("obligor", "predecessor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["uscc", "name", "region", "status", "obligor"]
    list_filter = ["status"]
    list_select_related = ["obligor"]
    search_fields = ["=uscc", "name"]
    # The status follows the unit's succession event: recorded with the buttons of the page.
    readonly_fields = [
        "status",
        "obligor",
        "fee_stops_on",
        "event_link",
        "cases_taken_over",
        "created_at",
        "updated_at",
    ]
    fields = ["uscc", "name", "region_code", *readonly_fields]
    inlines = [UnitCaseInline]

    @admin.display(description=_("region"), ordering="region_code")
    def region(self, unit):
        return region_label(unit.region_code)

    @admin.display(description=_("succession event"))
    def event_link(self, unit):
        event = UnitEvent.objects.filter(unit=unit).first()
        if event is None:
            return "—"
        url = reverse("admin:units_unitevent_change", args=[event.pk])
        return format_html('<a href="{}">{}</a>', url, event)

    @admin.display(description=_("cases taken over"))
    def cases_taken_over(self, unit):
        """The open cases the unit owes as a merging or separated party of another unit (its
        own are listed below); its own succession event passes them on with its own."""
        if unit.pk is None:
            return "—"
        taken_over = (
            ArrearsCase.objects.filter(
                obligor__unit=unit, obligor__kind__in=SUCCESSOR_KINDS, state__in=OPEN_STATES
            )
            .select_related("unit")
            .order_by("case_no")
        )
        rows = [
            format_html(
                '<a href="{}">{}</a> ({})',
                reverse("admin:replenish_arrearscase_change", args=[case.pk]),
                case.case_no,
                _("began with %(unit)s") % {"unit": case.unit.name},
            )
            for case in taken_over[:50]
        ]
        if not rows:
            return "—"
        more = taken_over.count() - len(rows) if len(rows) == 50 else 0
        if more:
            rows.append(_("and %(count)s more") % {"count": more})
        return format_html_join(mark_safe("<br>"), "{}", ((row,) for row in rows))

    def get_urls(self):
        return [
            path(
                "<int:unit_id>/record/<str:kind>/",
                self.admin_site.admin_view(self.record_event_view),
                name="units_unit_record_event",
            ),
            path(
                "<int:unit_id>/portal-user/",
                self.admin_site.admin_view(self.portal_user_view),
                name="units_unit_portal_user",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        unit = self.get_object(request, object_id)
        can_record = (
            unit is not None
            and unit.status == UnitStatus.ACTIVE
            and request.user.has_perm("units.record_unitevent")
        )
        extra_context = {
            **(extra_context or {}),
            "event_kinds": [(kind, FORMS[kind].title) for kind in FORMS] if can_record else [],
            "can_add_portal_user": request.user.has_perm("units.add_portalmembership"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def portal_user_view(self, request, unit_id: int):
        """Create a user of the unit's portal: a user name and a password for the unit."""
        if not request.user.has_perm("units.add_portalmembership"):
            raise PermissionDenied
        unit = get_object_or_404(Unit, pk=unit_id)
        form = PortalUserForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    membership = portal_user_create(
                        unit_id=unit.pk,
                        username=form.cleaned_data["username"],
                        password=form.cleaned_data["password1"],
                        actor=request.user,
                    )
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                messages.success(
                    request,
                    _("Portal user %(user)s created for %(unit)s.")
                    % {"user": membership.user.get_username(), "unit": unit.name},
                )
                return HttpResponseRedirect(reverse("admin:units_unit_change", args=[unit.pk]))
        members = PortalMembership.objects.filter(unit=unit).select_related("user")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Create a portal user"),
            "unit": unit,
            "form": form,
            "members": members,
        }
        return TemplateResponse(request, "admin/units/unit/portal_user.html", context)

    def record_event_view(self, request, unit_id: int, kind: str):
        """One page per event kind: the event's facts, its party (or the successors with their
        shares), then the service call."""
        if kind not in FORMS:
            raise Http404
        if not request.user.has_perm("units.record_unitevent"):
            raise PermissionDenied
        if kind == "split" and not request.user.has_perm("replenish.transfer_case"):
            raise PermissionDenied  # a split apportions the unit's cases at once
        unit = get_object_or_404(Unit, pk=unit_id)
        form_class = FORMS[kind]
        data = request.POST if request.method == "POST" else None
        form = form_class(data)
        party_form = PartyFields(data, prefix="party") if kind != "split" else None
        successors = SuccessorFormSet(data, prefix="successor") if kind == "split" else None
        if request.method == "POST":
            parts = [form] + ([party_form] if party_form else [successors])
            if all(part.is_valid() for part in parts):
                try:
                    with transaction.atomic():
                        event = self._record(request, unit, kind, form, party_form, successors)
                except ValidationError as exc:
                    for message in exc.messages:
                        messages.error(request, message)
                else:
                    messages.success(
                        request,
                        _("%(event)s recorded; the unit's open cases now follow it.")
                        % {"event": event},
                    )
                    return HttpResponseRedirect(
                        reverse("admin:units_unitevent_change", args=[event.pk])
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": form_class.title,
            "unit": unit,
            "kind": kind,
            "form": form,
            "party_form": party_form,
            "party_heading": getattr(form_class, "party_heading", ""),
            "successors": successors,
        }
        return TemplateResponse(request, "admin/units/unit/record_event.html", context)

    @staticmethod
    def _record(request, unit, kind, form, party_form, successors):
        actor = request.user
        if kind == "merger":
            return events.unit_record_merger(
                unit_id=unit.pk,
                merging_party=party_form.party(),
                document=form.document(),
                actor=actor,
            )
        if kind == "auction":
            return events.unit_record_auction(
                unit_id=unit.pk,
                lease=form.cleaned_data["lease"],
                competent_authority=party_form.party(),
                document=form.document(),
                actor=actor,
            )
        if kind == "bankruptcy":
            data = form.cleaned_data
            return events.unit_record_bankruptcy(
                unit_id=unit.pk,
                court=data["court"],
                court_case_no=data["court_case_no"],
                accepted_on=data["accepted_on"],
                liquidation_group=party_form.party(),
                document_ref=data["document_ref"],
                note=data["note"],
                actor=actor,
            )
        return events.unit_record_split(
            unit_id=unit.pk,
            successors=[
                f.party(share=f.cleaned_data["share"])
                for f in successors.forms
                if f.has_changed() and f.cleaned_data
            ],
            document=form.document(),
            actor=actor,
        )


@admin.register(InsuredPerson)
class InsuredPersonAdmin(admin.ModelAdmin):
    list_display = ["masked_id_number", "name"]
    # Exact match only: a partial ID number must not find people.
    search_fields = ["=id_number", "name"]
    fields = ["name", "masked_id_number"]
    readonly_fields = ["masked_id_number"]

    @admin.display(description=_("citizen ID number (masked)"))
    def masked_id_number(self, person):
        return person.masked_id_number

    # Shown in full only with `replenish.view_full_id_number` (see `id_number_fields`).
    def get_list_display(self, request):
        return id_number_fields(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        return id_number_fields(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return id_number_fields(request, super().get_readonly_fields(request, obj))

    @admin.display(description=_("citizen ID number"))
    def full_id_number(self, person):
        return person.id_number

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PartyInline(admin.TabularInline):
    model = Counterparty
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["kind", "name", "uscc", "share_display", "head", "contact", "unit"]
    readonly_fields = fields
    verbose_name_plural = _("parties")

    @admin.display(description=_("share"))
    def share_display(self, party):
        return party.share if party.share is not None else ""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    """Uploads go through `unit_event_attach` (see UnitEventAdmin.save_formset)."""

    model = UnitEventAttachment
    extra = 1
    can_delete = False
    fields = ["title", "file", "opened", "uploaded_at", "uploaded_by"]
    readonly_fields = ["opened", "uploaded_at", "uploaded_by"]
    # No link to the stored file: it is opened through the checked view (opened).
    formfield_overrides = {models.FileField: {"widget": forms.FileInput}}

    @admin.display(description=_("document"))
    def opened(self, attachment):
        if not attachment.pk:
            return "—"
        url = document_url("unit-event-attachment", attachment)
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("open"))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("units.view_unitevent")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("units.record_unitevent")

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("units.record_unitevent")


@admin.register(UnitEvent)
class UnitEventAdmin(admin.ModelAdmin):
    list_display = ["unit", "kind", "occurred_on", "document_ref", "by", "recorded_at"]
    list_filter = ["kind"]
    list_select_related = ["unit"]
    search_fields = ["=unit__uscc", "unit__name", "document_ref", "court_case_no"]
    readonly_fields = [
        "unit",
        "kind",
        "occurred_on",
        "document_ref",
        "court",
        "court_case_no",
        "note",
        "recorded_at",
        "by",
        "documents",
    ]
    fields = readonly_fields
    inlines = [PartyInline, AttachmentInline]

    @admin.display(description=_("recorded by"), ordering="recorded_by")
    def by(self, event):
        return actor_display(event.recorded_by)

    @admin.display(description=_("documents"))
    def documents(self, event):
        if event.kind != UnitEventKind.BANKRUPTCY:
            return "—"
        url = reverse("admin:units_unitevent_claim_statement", args=[event.pk])
        return format_html(
            '<a href="{}" target="_blank">{}</a> · <a href="{}?format=pdf">PDF</a>',
            url,
            _("claim statement"),
            url,
        )

    def get_urls(self):
        return [
            path(
                "<int:event_id>/claim-statement/",
                self.admin_site.admin_view(self.claim_statement_view),
                name="units_unitevent_claim_statement",
            ),
            *super().get_urls(),
        ]

    def claim_statement_view(self, request, event_id: int):
        event = get_object_or_404(UnitEvent.objects.select_related("unit"), pk=event_id)
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        if event.kind != UnitEventKind.BANKRUPTCY:
            raise Http404
        if request.GET.get("format") == "pdf":
            return pdf_response(
                pdf_render(claim_statement_document(event)), f"claim-{event.unit.uscc}.pdf"
            )
        return TemplateResponse(
            request, "units/claim_statement.html", claim_statement_context(event)
        )

    def has_add_permission(self, request):
        return False  # recorded from the unit's page, one form per kind

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Changing an event is adding attachments to it (see save_formset).
        return request.user.has_perm("units.record_unitevent")

    def save_model(self, request, obj, form, change):
        """The event itself is never edited; only attachments are added (save_formset)."""

    def save_formset(self, request, form, formset, change):
        # Nothing is saved directly; the change message reads these.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if formset.model is not UnitEventAttachment or not inline_form.has_changed():
                continue
            if inline_form.instance.pk:
                continue
            try:
                with transaction.atomic():
                    events.unit_event_attach(
                        event_id=form.instance.pk,
                        title=inline_form.cleaned_data["title"],
                        file=inline_form.cleaned_data["file"],
                        actor=request.user,
                    )
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)


@admin.register(Counterparty)
class CounterpartyAdmin(admin.ModelAdmin):
    """Who agreements are signed with. The contact details can be kept up to date; who the party
    is and its share are fixed by its event."""

    list_display = ["name", "kind", "uscc", "event", "head", "contact"]
    list_filter = ["kind"]
    search_fields = ["name", "=uscc", "=event__unit__uscc"]
    readonly_fields = ["kind", "name", "uscc", "event", "unit", "share_display"]
    fields = [*readonly_fields, "head", "contact"]

    @admin.display(description=_("share"))
    def share_display(self, party):
        return party.share if party.share is not None else "—"

    def get_queryset(self, request):
        # For the page too: the name of a unit that is its own counterparty is the unit's.
        return super().get_queryset(request).select_related("unit", "event__unit")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    """The region names shown beside the codes: seeded from the maintained division codes,
    corrected or added to by collection when the divisions change."""

    list_display = ["code", "name", "changed_by", "changed_at"]
    search_fields = ["=code", "name"]
    readonly_fields = ["changed_by", "changed_at"]
    fields = ["code", "name", *readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        # A code is the key records use: it is entered once, and its name corrected after.
        return [*self.readonly_fields, "code"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.changed_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        names_changed()
