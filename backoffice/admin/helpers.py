"""What the admin screens share: read-only lists and inlines, actions that call a service for
each selected row (asking for a form first), a service's refusal shown on a form, the audit trail
of one subject, and the ID-number columns only some may see in full."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from backoffice.admin.facts import FACTS_RELATED, facts
from backoffice.queues import queue_shown
from kernel.forms import form_errors_add
from replenish.models import ArrearsCase, AuditEntry


def _errors_of(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list and a page to read; every change goes through the services' actions."""

    def get_ordering(self, request):
        # A department's queue (replenish/queues.py) is worked oldest first.
        changelist = f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
        shown = queue_shown(changelist, request.GET)
        if shown is not None:
            return [shown.oldest_first, "pk"]
        return super().get_ordering(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _audit_trail(subject: str, pk: int) -> str:
    rows = (
        AuditEntry.objects.filter(subject=subject, subject_id=pk)
        .select_related("actor")
        .order_by("at", "id")
    )
    return format_html(
        "<table><tbody>{}</tbody></table>",
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M"),
                    r.transition_shown,
                    r.states_shown,
                    r.actor_shown,
                    r.reason_shown,
                )
                for r in rows
            ),
        ),
    )


# --- actions that ask for something first (a reason, a date, a case) --------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea)


def form_action(modeladmin, request, queryset, *, form_class, title, apply):
    """An action that first asks for a form, showing the facts of each selected object, then
    calls `apply(obj, cleaned_data)` (a service) for each, reporting each refusal and, at the
    end, what was done to which."""
    queryset = queryset.select_related(*FACTS_RELATED.get(queryset.model._meta.model_name, ()))
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            done = []
            for obj in queryset.order_by("pk"):
                try:
                    with transaction.atomic():
                        apply(obj, form.cleaned_data)
                        done.append(facts(obj))
                except (ValidationError, PermissionDenied) as exc:
                    modeladmin.message_user(
                        request, f"{facts(obj)}: {_errors_of(exc)}", messages.ERROR
                    )
            if done:
                modeladmin.message_user(
                    request,
                    _("%(title)s — %(n)d done: %(objects)s")
                    % {"title": title, "n": len(done), "objects": "; ".join(done)},
                    messages.SUCCESS,
                )
            return None
    else:
        form = form_class()
    return TemplateResponse(
        request,
        "admin/replenish/action_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "objects": [facts(obj) for obj in queryset.order_by("pk")],
            "action": request.POST.get("action"),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "opts": modeladmin.model._meta,
        },
    )


def run_each(modeladmin, request, queryset: QuerySet, apply) -> None:
    """An action that calls `apply(obj)` (a service) for each selected object, reporting each
    refusal and, at the end, what was done to which: the action's name and each object's
    facts (the amount, the unit, the case)."""
    queryset = queryset.select_related(*FACTS_RELATED.get(queryset.model._meta.model_name, ()))
    done = []
    for obj in queryset.order_by("pk"):
        try:
            with transaction.atomic():
                apply(obj)
                done.append(facts(obj))
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{facts(obj)}: {_errors_of(exc)}", messages.ERROR)
    if done:
        action = modeladmin.get_action(request.POST.get("action", ""))
        title = action[2] if action else ""
        modeladmin.message_user(
            request,
            _("%(title)s — %(n)d done: %(objects)s")
            % {"title": title, "n": len(done), "objects": "; ".join(done)},
            messages.SUCCESS,
        )


def id_number_fields(request, fields) -> list[str]:
    """ID numbers are shown in full only to users with `replenish.view_full_id_number`; the
    others see them masked (docs/rules.md: personal data)."""
    if request.user.has_perm("replenish.view_full_id_number"):
        return ["full_id_number" if f == "masked_id_number" else f for f in fields]
    return list(fields)


# The tabular inline without a form a row, for the parts nobody edits (templatetags/read_only.py).
READ_ONLY_TABULAR = "admin/replenish/edit_inline/read_only_tabular.html"


class ReadOnlyInline(admin.TabularInline):
    """A part of the case shown on its page: whoever may see the case sees its parts, read-only."""

    template = READ_ONLY_TABULAR
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("replenish.view_arrearscase")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PagedInline(ReadOnlyInline):
    """A read-only inline shown `per_page` rows at a time (the page's `<prefix>-page` parameter),
    so a case of thousands of lines renders as fast as one of ten: two queries, a count and the
    page (and whatever `page_loaded` reads for the page's rows, at once)."""

    per_page = 50
    template = "admin/replenish/edit_inline/paged_tabular.html"

    def page_loaded(self, rows: list) -> None:
        """Called with the rows of the page shown, before they render: a column that names
        another object reads them all here in one query rather than one a row."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        per_page = self.per_page
        inline = self

        class Paged(formset):  # type: ignore[misc, valid-type]
            def get_queryset(self):
                if not hasattr(self, "_page"):
                    rows = super().get_queryset()
                    self.total = rows.count()
                    self.pages = max(1, -(-self.total // per_page))
                    try:
                        number = int(request.GET.get(f"{self.prefix}-page", 1))
                    except ValueError:
                        number = 1
                    self.page_number = min(max(1, number), self.pages)
                    # The first and last pages and those near this one.
                    near = range(self.page_number - 3, self.page_number + 4)
                    self.page_links = [
                        (n, f"?{self.prefix}-page={n}#{self.prefix}-group")
                        for n in range(1, self.pages + 1)
                        if n in near or n in (1, self.pages)
                    ]
                    start = (self.page_number - 1) * per_page
                    self._page = list(rows[start : start + per_page])
                    inline.page_loaded(self._page)
                return self._page

        return Paged


def case_form_view(modeladmin, request, *, make_form, title, submit, multipart=False):
    """An add page whose form names a case (`case_no`) and calls a service with it:
    `submit(case, cleaned_data)` does it and returns the message of success, then the list is
    shown; a refusal (the service's ValidationError or PermissionDenied) shows on the form."""
    if not modeladmin.has_add_permission(request):
        raise PermissionDenied
    form = make_form()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = ArrearsCase.objects.filter(case_no=data["case_no"].strip()).first()
        if case is None:
            form.add_error("case_no", _("There is no such case."))
        else:
            try:
                # Its own savepoint: a refusal undoes whatever the service did before refusing
                # (the request's transaction goes on, to show the form again).
                with transaction.atomic():
                    message = submit(case, data)
            except ValidationError as exc:
                form_errors_add(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                modeladmin.message_user(request, message, messages.SUCCESS)
                opts = modeladmin.model._meta
                return redirect(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return TemplateResponse(
        request,
        "admin/replenish/form_page.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "multipart": multipart,
            "opts": modeladmin.model._meta,
        },
    )
