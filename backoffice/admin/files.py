"""The case list's files: the arrears file upload (preview with every error, then confirm,
through `arrears_import`, the service of `manage.py import_arrears`) and the export of the list
shown as CSV (the `export_cases` format, docs/formats.md) or Excel."""

import csv
import dataclasses
import io
import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backoffice.admin.case_actions import refuse
from backoffice.admin.file_formats import ARREARS_COLUMNS, FORMATS, template_file
from kernel.csvfiles import FileRejected
from kernel.spreadsheets import csv_row, xlsx_row
from kernel.uploads import import_file_check
from replenish.models import CaseState, ImportJob, ImportJobState
from replenish.services.arrears_import import (
    PREVIEW_MAX,
    ArrearsImportResult,
    arrears_import,
    arrears_import_preview,
)
from replenish.services.export import EXPORT_COLUMNS, export_rows
from replenish.services.import_jobs import (
    import_job_confirm,
    import_job_progress,
    import_job_start,
    preview_rows,
    preview_rows_keep,
    preview_rows_path,
)

UPLOADS = "arrears-imports"
SESSION_KEY = "arrears_import"


class ArrearsFileForm(forms.Form):
    file = forms.FileField(
        label=_("arrears file"),
        help_text=_("CSV (UTF-8 or GB18030, as Excel saves it) or an Excel workbook (XLSX)"),
        validators=[import_file_check],
    )


# A page of the preview lists this many new lines.
PREVIEW_PAGE = 100


def import_view(modeladmin, request):
    """Upload, preview (the import itself, rolled back), confirm."""
    if not request.user.has_perm("replenish.add_arrearsline"):
        return refuse(modeladmin, request, _("Your department may not import arrears files."))
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Import an arrears file"),
        "opts": modeladmin.model._meta,
        "columns": ARREARS_COLUMNS,
        "template_kind": "arrears",
        # The large files this clerk left to a worker, to come back to.
        "jobs": ImportJob.objects.filter(created_by=request.user).order_by("-created_at")[:10],
    }
    pending = request.session.get(SESSION_KEY)
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(modeladmin, request, pending)
    form = ArrearsFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if pending:
            default_storage.delete(pending["path"])
            default_storage.delete(preview_rows_path(pending["path"]))
            del request.session[SESSION_KEY]
        upload = form.cleaned_data["file"]
        if upload.size > settings.ARREARS_IMPORT_INLINE_BYTES:
            # Too large to read within this request: a worker previews it, the page follows.
            job = import_job_start(file=upload, file_name=upload.name, actor=request.user)
            return HttpResponseRedirect(
                reverse("admin:replenish_arrearscase_import_job", args=[job.pk])
            )
        try:
            # The upload itself is previewed; it is kept for the confirmation only once valid
            # (a rejected file holds citizen ID numbers: it is never stored).
            result, rows = arrears_import_preview(
                file=upload, file_name=upload.name, actor=request.user
            )
        except FileRejected as rejected:
            context["errors"] = rejected.errors
        else:
            upload.seek(0)
            stored = default_storage.save(f"{UPLOADS}/{secrets.token_hex(16)}.csv", upload)
            preview_rows_keep(stored, rows)
            token = secrets.token_urlsafe(16)
            request.session[SESSION_KEY] = {
                "token": token,
                "path": stored,
                "name": upload.name,
                "result": dataclasses.asdict(result),
            }
            context.update(result=result, token=token, file_name=upload.name)
            context.update(_preview_page(rows, 1))
    elif request.method == "GET" and pending and "page" in request.GET:
        # Another page of the preview waiting for confirmation.
        rows = preview_rows(pending["path"])
        context.update(
            result=ArrearsImportResult(**pending["result"]),
            token=pending["token"],
            file_name=pending["name"],
        )
        context.update(_preview_page(rows, request.GET.get("page")))
    context["form"] = form
    return TemplateResponse(request, "admin/replenish/arrearscase/import.html", context)


STAGE_LABELS = {
    "": pgettext_lazy("import job", "waiting for a worker"),
    "reading": _("reading the file"),
    "checking": _("checking the rules across rows"),
    "writing": _("writing cases and lines"),
    "done": pgettext_lazy("import job", "done"),
}


def import_job_view(modeladmin, request, pk: int):
    """A file previewed or imported by a worker: its progress while it runs (the page asks
    `?progress` once a second), then what happened; a finished preview is confirmed here."""
    if not request.user.has_perm("replenish.add_arrearsline"):
        return refuse(modeladmin, request, _("Your department may not import arrears files."))
    job = get_object_or_404(ImportJob, pk=pk)
    if "progress" in request.GET:
        progress = import_job_progress(job)
        return JsonResponse(
            {
                "state": job.state,
                "finished": job.state not in (ImportJobState.QUEUED, ImportJobState.RUNNING),
                "stage": str(STAGE_LABELS.get(progress["stage"], progress["stage"])),
                "rows": progress["rows"],
                "percent": progress["percent"],
            }
        )
    if request.method == "POST":
        try:
            confirmed = import_job_confirm(job_id=job.pk, actor=request.user)
        except ValidationError as refused:
            modeladmin.message_user(request, " ".join(refused.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)
        return HttpResponseRedirect(
            reverse("admin:replenish_arrearscase_import_job", args=[confirmed.pk])
        )
    progress = import_job_progress(job)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Import an arrears file"),
        "opts": modeladmin.model._meta,
        "job": job,
        "running": job.state in (ImportJobState.QUEUED, ImportJobState.RUNNING),
        "progress": progress,
        "stage_label": STAGE_LABELS.get(progress["stage"], progress["stage"]),
        "confirmable": job.preview
        and job.state == ImportJobState.DONE
        and not ImportJob.objects.filter(confirms=job).exists(),
    }
    if job.preview and job.state == ImportJobState.DONE:
        context.update(_preview_page(preview_rows(job.stored), request.GET.get("page")))
    return TemplateResponse(request, "admin/replenish/arrearscase/import_job.html", context)


def _preview_page(rows: list[dict], number) -> dict:
    page = Paginator(rows, PREVIEW_PAGE).get_page(number)
    return {"preview_page": page, "preview_capped": len(rows) == PREVIEW_MAX}


def _confirm(modeladmin, request, pending):
    back = reverse("admin:replenish_arrearscase_import")
    if not pending or request.POST.get("token") != pending["token"]:
        modeladmin.message_user(
            request, _("That preview has expired; upload the file again."), messages.ERROR
        )
        return HttpResponseRedirect(back)
    del request.session[SESSION_KEY]
    try:
        with default_storage.open(pending["path"], "rb") as stream:
            result = arrears_import(file=stream, file_name=pending["name"], actor=request.user)
    except FileRejected as rejected:
        for error in rejected.errors:
            modeladmin.message_user(request, error.shown(), messages.ERROR)
        return HttpResponseRedirect(back)
    finally:
        default_storage.delete(pending["path"])
        default_storage.delete(preview_rows_path(pending["path"]))
    modeladmin.message_user(
        request,
        _(
            "%(name)s imported: %(rows)s rows, %(created)s lines created, %(skipped)s already "
            "imported, %(opened)s cases opened."
        )
        % {
            "name": pending["name"],
            "rows": result.rows,
            "created": result.lines_created,
            "skipped": result.lines_skipped,
            "opened": result.cases_opened,
        },
        messages.SUCCESS,
    )
    return HttpResponseRedirect(reverse("admin:replenish_arrearscase_changelist"))


class _Echo:
    def write(self, value):
        return value


def template_view(modeladmin, request, kind: str, extension: str):
    """The template of a file format: its header and an example row, as CSV or XLSX."""
    if kind not in FORMATS or extension not in ("csv", "xlsx"):
        raise Http404
    content, content_type = template_file(kind, extension)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.{extension}"'
    return response


def _listed_cases(modeladmin, request):
    """The cases of the list as filtered and searched (the export links keep the list's query)."""
    return modeladmin.get_changelist_instance(request).get_queryset(request)


def export_csv_view(modeladmin, request):
    if not request.user.has_perm("replenish.view_arrearscase"):
        return refuse(modeladmin, request, _("Your department may not export cases."))
    cases = _listed_cases(modeladmin, request)
    writer = csv.writer(_Echo(), lineterminator="\n")
    rows = export_rows(as_of=timezone.localdate(), cases=cases)
    body = (writer.writerow(csv_row(row)) for row in _with_header(rows))
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cases.csv"'
    return response


def _with_header(rows):
    yield EXPORT_COLUMNS
    yield from rows


EXCEL_HEADERS = {
    "case_no": _("case number"),
    "unit_uscc": _("unified social credit code"),
    "obligor": _("obligor"),
    "state": _("state"),
    "principal": _("principal unpaid"),
    "late_fee": _("late fee unpaid (to today)"),
    "paid": pgettext_lazy("export", "paid"),
    "written_off": _("written off"),
    "balance": _("owed today"),
}


def export_xlsx_view(modeladmin, request):
    from openpyxl import Workbook

    if not request.user.has_perm("replenish.view_arrearscase"):
        return refuse(modeladmin, request, _("Your department may not export cases."))
    cases = _listed_cases(modeladmin, request)
    today = timezone.localdate()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_("cases")))
    # For people, not a system: Chinese headers, states by name, amounts as numbers with
    # thousands separators (the CSV export keeps the contract's codes).
    sheet.append([str(EXCEL_HEADERS[name]) for name in EXPORT_COLUMNS])
    states = dict(CaseState.choices)
    state_at = EXPORT_COLUMNS.index("state")
    for row in export_rows(as_of=today, cases=cases):
        values = list(row)
        values[state_at] = str(states.get(values[state_at], values[state_at]))
        sheet.append(xlsx_row(sheet, values))
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="cases.xlsx"'
    return response
