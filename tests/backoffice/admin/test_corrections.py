"""Admin screens of corrections: "Correct" on a case page's lines, the upload of many, and
approval or rejection by a second collection user."""

from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsLine, CorrectionState, LedgerKind, LineCorrection
from tests.factories import ArrearsRowFactory, department_user, import_rows

pytestmark = pytest.mark.django_db
LIST = reverse("admin:replenish_linecorrection_changelist")
UPLOAD = reverse("admin:replenish_linecorrection_upload")


@pytest.fixture
def line():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=n) for n in (1, 2)])
    return ArrearsLine.objects.order_by("pk").first()


def client_of(department: str, username: str) -> Client:
    client = Client()
    client.force_login(department_user(department, username))
    return client


def test_a_line_is_corrected_from_the_case_page_and_approved_by_a_second_user(line):
    # given a collection user on the case page
    recorder = client_of(COLLECTION, "recorder")
    page = recorder.get(reverse("admin:replenish_arrearscase_change", args=[line.case_id]))
    record_url = reverse("admin:replenish_linecorrection_record", args=[line.pk])
    assert record_url in page.content.decode()

    # when they record the right amounts
    form = recorder.get(record_url)
    assert "800.00" in form.content.decode()
    response = recorder.post(
        record_url,
        {
            "employer_amount": "700.00",
            "employee_amount": "200.00",
            "reason": "核定基数错误",
            "document_ref": "稽核通知书 2026-017",
        },
        follow=True,
    )

    # then it waits on the list; their own approval is refused, a second user's takes effect
    assert "记录" in response.content.decode() or "recorded" in response.content.decode()
    correction = LineCorrection.objects.get()
    action = {"action": "approve_selected", "_selected_action": [correction.pk]}
    refused = recorder.post(LIST, action, follow=True)
    assert "双人复核" in refused.content.decode()
    assert LineCorrection.objects.get().state == CorrectionState.RECORDED
    approver = client_of(COLLECTION, "approver")
    approver.post(LIST, action, follow=True)
    assert LineCorrection.objects.get().state == CorrectionState.APPROVED
    assert line.ledger_entries.filter(kind=LedgerKind.CORRECTION).get().employer == D("-100.00")


def test_finance_sees_no_correct_link_and_cannot_record(line):
    cashier = client_of(FINANCE, "cashier")
    page = cashier.get(reverse("admin:replenish_arrearscase_change", args=[line.case_id]))
    assert "linecorrection/record" not in page.content.decode()
    response = cashier.post(
        reverse("admin:replenish_linecorrection_record", args=[line.pk]),
        {"employer_amount": "1", "employee_amount": "1", "reason": "x", "document_ref": "y"},
    )
    assert "征缴部门" in response.content.decode() or response.status_code == 403
    assert not LineCorrection.objects.exists()


def test_an_upload_records_every_row_or_none_and_the_list_shows_them(line):
    recorder = client_of(COLLECTION, "recorder")
    rows = [ArrearsRowFactory(unit_no=1, person_no=n) for n in (1, 2)]
    body = "unit_uscc,period,id_number,employer_amount,employee_amount,reason\n" + "".join(
        f"{r.unit_uscc},2025-12,{r.id_number},{amount},200.00,核定通知 17\n"
        for r, amount in zip(rows, ("700.00", "abc"), strict=True)
    )
    # a bad row: nothing recorded, the row named
    bad = recorder.post(UPLOAD, {"file": SimpleUploadedFile("c.csv", body.encode())})
    assert "line 3: employer_amount" in bad.content.decode()
    assert not LineCorrection.objects.exists()
    # a good file: both recorded
    good = body.replace("abc", "600.00")
    recorder.post(UPLOAD, {"file": SimpleUploadedFile("c.csv", good.encode())})
    assert LineCorrection.objects.count() == 2
    with CaptureQueriesContext(connection) as queries:
        listed = recorder.get(LIST)
    assert "700.00" in listed.content.decode() and "600.00" in listed.content.decode()
    assert len(queries) <= 12
