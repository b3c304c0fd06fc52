"""Arrears files too large to read within a page request: a worker previews them (the import
run and rolled back) and, once a clerk has confirmed the preview, imports them, while the page
shows how far it is.

* `import_job_start` keeps the uploaded file and queues its preview job;
* `import_job_confirm` queues the import of a previewed file (once: a second confirmation of the
  same preview is refused);
* `import_job_run` is what the worker runs (`replenish.import_job_run`): it claims the job (a
  message delivered twice runs it once), reads the file through `arrears_import_preview` or
  `arrears_import` with a progress hook, and records the outcome.

Progress goes to the cache (`import_job_progress`), not to the job's row: the import is one
transaction, which nobody else sees until it commits. The job's own state is its row.
"""

import json
import logging
import secrets
from dataclasses import asdict
from typing import IO, Any

from celery import current_app
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, actor_user, require_permission
from kernel.csvfiles import FileRejected
from replenish.models import ImportJob, ImportJobState
from replenish.services.arrears_import import (
    ArrearsImportResult,
    arrears_import,
    arrears_import_preview,
)

logger = logging.getLogger(__name__)
UPLOADS = "arrears-imports"
TASK = "replenish.import_job_run"
# Row errors kept with a rejected job (the file's every error is reported by the command).
ERRORS_KEPT = 1000
PROGRESS_SECONDS = 24 * 60 * 60


def progress_key(job: ImportJob) -> str:
    # By its run and its stored file (a random name): keys of other databases never collide.
    return f"replenish:import-job:{job.pk}:{job.stored}"


def import_job_progress(job: ImportJob) -> dict[str, Any]:
    """How far the job's worker is: {stage, rows, percent} (percent None when not known)."""
    found = cache.get(progress_key(job))
    return found if isinstance(found, dict) else {"stage": "", "rows": 0, "percent": None}


def preview_rows_path(stored: str) -> str:
    """Where the preview's lines of the stored file `stored` are kept (beside it)."""
    return f"{stored}.preview.json"


def preview_rows_keep(stored: str, rows: list[dict[str, Any]]) -> None:
    default_storage.save(
        preview_rows_path(stored), ContentFile(json.dumps(rows, ensure_ascii=False).encode())
    )


def preview_rows(stored: str) -> list[dict[str, Any]]:
    """The lines a preview of the stored file listed (`arrears_import_preview`)."""
    if not default_storage.exists(preview_rows_path(stored)):
        return []
    with default_storage.open(preview_rows_path(stored)) as kept:
        rows: list[dict[str, Any]] = json.load(kept)
    return rows


def _staff(actor: Actor) -> User:
    user = actor_user(actor)
    if user is None:
        raise ValueError("an import job is a member of staff's (a command imports at once)")
    return user


def import_job_start(*, file: IO[bytes], file_name: str, actor: Actor) -> ImportJob:
    """Keep the file and queue its preview: a worker reads it, the clerk watches."""
    require_permission(actor, "replenish.add_arrearsline")
    user = _staff(actor)
    stored = default_storage.save(f"{UPLOADS}/{secrets.token_hex(16)}.csv", file)
    with transaction.atomic():
        job = ImportJob.objects.create(
            file_name=file_name[:255], stored=stored, preview=True, created_by=user
        )
        _queue(job)
    return job


def import_job_confirm(*, job_id: int, actor: Actor) -> ImportJob:
    """Queue the import of the file a finished preview job read."""
    require_permission(actor, "replenish.add_arrearsline")
    user = _staff(actor)
    with transaction.atomic():
        preview = ImportJob.objects.select_for_update().get(pk=job_id)
        if not preview.preview or preview.state != ImportJobState.DONE:
            raise ValidationError(
                _("Only a finished preview can be confirmed (this one is %(state)s).")
                % {"state": preview.get_state_display()},
                code="job_state",
            )
        if ImportJob.objects.filter(confirms=preview).exists():
            raise ValidationError(
                _("This preview was confirmed already: its import is under way or done."),
                code="confirmed",
            )
        job = ImportJob.objects.create(
            file_name=preview.file_name,
            stored=preview.stored,
            preview=False,
            confirms=preview,
            created_by=user,
        )
        _queue(job)
    return job


def _queue(job: ImportJob) -> None:
    def publish() -> None:
        try:
            current_app.tasks[TASK].apply_async((job.pk,), retry=False)
        except Exception as exc:
            logger.warning("import job %s could not be queued (%s)", job.pk, exc)
            ImportJob.objects.filter(pk=job.pk, state=ImportJobState.QUEUED).update(
                state=ImportJobState.FAILED, finished_at=timezone.now()
            )

    transaction.on_commit(publish)


def import_job_run(job_id: int) -> str:
    """The worker's part: claim the job, read the file, record what happened."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJobState.QUEUED).update(
        state=ImportJobState.RUNNING
    )
    if not claimed:
        return "skipped"
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)

    def progress(stage: str, rows: int, fraction: float | None) -> None:
        percent = None if fraction is None else round(100 * fraction)
        cache.set(
            progress_key(job),
            {"stage": stage, "rows": rows, "percent": percent},
            PROGRESS_SECONDS,
        )

    progress("reading", 0, 0.0)
    rows: list[dict[str, Any]] = []
    try:
        with default_storage.open(job.stored, "rb") as file:
            if job.preview:
                result, rows = arrears_import_preview(
                    file=file, file_name=job.file_name, actor=job.created_by, progress=progress
                )
            else:
                result = arrears_import(
                    file=file, file_name=job.file_name, actor=job.created_by, progress=progress
                )
    except FileRejected as rejected:
        _finish(job, ImportJobState.REJECTED, errors=[e.shown() for e in rejected.errors])
        return "rejected"
    except Exception:
        logger.exception("import job %s failed", job_id)
        _finish(job, ImportJobState.FAILED)
        return "failed"
    if job.preview:
        preview_rows_keep(job.stored, rows)
    _finish(job, ImportJobState.DONE, result=result)
    progress("done", result.rows, 1.0)
    return "done"


def _finish(
    job: ImportJob,
    state: str,
    *,
    result: ArrearsImportResult | None = None,
    errors: list[str] | None = None,
) -> None:
    figures = asdict(result) if result is not None else {}
    ImportJob.objects.filter(pk=job.pk).update(
        state=state,
        rows=figures.get("rows", 0),
        lines_created=figures.get("lines_created", 0),
        lines_skipped=figures.get("lines_skipped", 0),
        cases_opened=figures.get("cases_opened", 0),
        units_created=figures.get("units_created", 0),
        batch_id=None if job.preview else figures.get("batch_id"),
        errors=(errors or [])[:ERRORS_KEPT],
        finished_at=timezone.now(),
    )
    if state != ImportJobState.DONE or not job.preview:
        # The file is not needed any more: imported, or refused (it holds citizen ID numbers).
        default_storage.delete(job.stored)
        default_storage.delete(preview_rows_path(job.stored))
