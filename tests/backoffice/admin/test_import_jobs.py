"""Arrears files too large for a page request (issue 19, part 5): a worker previews them, the page
follows its progress, the clerk confirms the preview, a worker imports; a rejected file is listed
error by error and not kept; a preview is confirmed once. The import's progress hook and the
command's terminal line."""

import io
from datetime import date

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import OutputWrapper
from django.test import override_settings
from django.urls import reverse

from kernel.commands import terminal_progress
from replenish.departments import COLLECTION
from replenish.models import ArrearsCase, ArrearsLine, ImportJob, ImportJobState
from replenish.services import arrears_import as arrears_import_module
from replenish.services.arrears_import import arrears_import
from replenish.services.import_jobs import import_job_run
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    arrears_csv,
    arrears_csv_text,
    department_user,
    table_counts,
)

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:replenish_arrearscase_import")


def job_url(job) -> str:
    return reverse("admin:replenish_arrearscase_import_job", args=[job.pk])


@pytest.fixture
def collection(client):
    client.force_login(department_user(COLLECTION, "clerk"))
    return client


def upload(client, rows, captured, execute=True):
    data = arrears_csv_text(rows).encode()
    with captured(execute=execute):
        return client.post(IMPORT, {"file": SimpleUploadedFile("big.csv", data)})


@override_settings(ARREARS_IMPORT_INLINE_BYTES=10)
def test_a_large_file_is_previewed_by_a_worker_then_imported_once_confirmed(
    collection, django_capture_on_commit_callbacks
):
    before = table_counts()

    # when the clerk uploads a file larger than a page request reads
    response = upload(
        collection,
        [ArrearsRowFactory(unit_no=1, person_no=1), ArrearsRowFactory(unit_no=2, person_no=2)],
        django_capture_on_commit_callbacks,
    )

    # then a worker previewed it: the page shows what the import would do, nothing is written
    preview = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == job_url(preview)
    assert (preview.preview, preview.state, preview.lines_created) == (True, "done", 2)
    assert table_counts() == before
    page = collection.get(job_url(preview)).content.decode()
    assert "新立案件 AC2026-0000001" in page and 'name="confirm"' in page

    # when the clerk confirms it
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = collection.post(job_url(preview), {"confirm": "1"})

    # then a worker imported it, and the stored file is gone
    job = ImportJob.objects.get(confirms=preview)
    assert confirmed.url == job_url(job)
    assert (job.state, job.lines_created, job.cases_opened) == (ImportJobState.DONE, 2, 2)
    assert ArrearsLine.objects.count() == 2 and ArrearsCase.objects.count() == 2
    assert job.batch is not None
    assert not default_storage.exists(preview.stored)
    assert "big.csv" in collection.get(job_url(job)).content.decode()
    # and the import page lists the clerk's jobs, to come back to
    listed = collection.get(IMPORT).content.decode().split('id="import-jobs"')[1]
    assert job_url(job) in listed and job_url(preview) in listed

    # and confirming the preview again is refused, with nothing more imported
    with django_capture_on_commit_callbacks(execute=True):
        again = collection.post(job_url(preview), {"confirm": "1"}, follow=True)
    assert "已确认" in again.content.decode()
    assert ImportJob.objects.filter(preview=False).count() == 1
    assert ArrearsLine.objects.count() == 2


@override_settings(ARREARS_IMPORT_INLINE_BYTES=10)
def test_the_page_follows_the_worker_while_it_waits_and_runs(
    collection, django_capture_on_commit_callbacks
):
    upload(
        collection,
        [ArrearsRowFactory(unit_no=1, person_no=1)],
        django_capture_on_commit_callbacks,
        execute=False,
    )
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.QUEUED

    page = collection.get(job_url(job)).content.decode()
    assert "<progress" in page and "?progress=1" in page
    progress = collection.get(job_url(job), {"progress": "1"}).json()
    assert (progress["finished"], progress["stage"]) == (False, "等待后台处理")

    # when the worker runs it (a message delivered twice runs it once)
    assert import_job_run(job.pk) == "done"
    assert import_job_run(job.pk) == "skipped"
    progress = collection.get(job_url(job), {"progress": "1"}).json()
    assert progress["finished"] is True and progress["percent"] == 100


@override_settings(ARREARS_IMPORT_INLINE_BYTES=10)
def test_a_rejected_large_file_lists_its_errors_and_is_not_kept(
    collection, django_capture_on_commit_callbacks
):
    before = table_counts()
    upload(
        collection,
        [ArrearsRowFactory(unit_no=1, person_no=1, employer_amount="-1.00")],
        django_capture_on_commit_callbacks,
    )
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.REJECTED
    assert job.errors and job.errors[0].startswith("第 2 行")
    assert not default_storage.exists(job.stored)
    page = collection.get(job_url(job)).content.decode()
    assert job.errors[0] in page and 'name="confirm"' not in page
    assert table_counts() == before


def test_the_import_says_how_far_it_is(monkeypatch):
    monkeypatch.setattr(arrears_import_module, "PROGRESS_EVERY", 1)
    told = []
    rows = [ArrearsRowFactory(unit_no=1, person_no=n) for n in range(1, 5)]
    arrears_import(
        file=arrears_csv(rows),
        file_name="a.csv",
        actor=SYSTEM,
        today=date(2026, 3, 1),
        progress=lambda stage, rows, fraction: told.append((stage, rows, fraction)),
    )
    reading = [entry for entry in told if entry[0] == "reading"]
    assert [rows for _stage, rows, _fraction in reading] == [1, 2, 3, 4]
    fractions = [fraction for _stage, _rows, fraction in reading]
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1
    assert [stage for stage, _rows, _fraction in told[-2:]] == ["checking", "writing"]


def test_the_command_keeps_one_terminal_line_up_to_date():
    out = io.StringIO()
    show = terminal_progress(OutputWrapper(out))
    show("reading", 10_000, 0.5)
    show("writing", 20_000, None)
    assert out.getvalue() == ("\rreading: 10,000 rows (50%)\x1b[K\rwriting: 20,000 rows\x1b[K")
