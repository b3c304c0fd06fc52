"""The admin screens of enforcement: the queue of overdue cases without a dossier, the list of
dossiers, a dossier's page with the facts a clerk decides on, its actions and its documents."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enforcement.models import Dossier, DossierState
from replenish.departments import AUDIT, COLLECTION
from tests.enforcement.helpers import Staff, dossier_at, overdue_case
from tests.factories import all_table_counts, department_user

pytestmark = pytest.mark.django_db
QUEUE = reverse("admin:enforcement_queue")
LIST = reverse("admin:enforcement_dossier_changelist")


def logged_in(client, department: str, username: str):
    user = department_user(department, username)
    client.force_login(user)
    return user


def test_the_queue_lists_overdue_cases_without_a_dossier_oldest_first_and_opens_one(client):
    # given two overdue cases, the second overdue later, and a third with a dossier already
    first = overdue_case(1)
    second = overdue_case(2)
    dossier_at("opened", Staff(), unit_no=3)
    second.__class__.objects.filter(pk=second.pk).update(state_changed_at=first.state_changed_at)
    first.__class__.objects.filter(pk=first.pk).update(
        state_changed_at=first.state_changed_at.replace(year=2025)
    )
    logged_in(client, COLLECTION, "collector")

    # when the collector opens the queue
    page = client.get(QUEUE).content.decode()

    # then it shows the two cases without a dossier, the longest overdue first, in Chinese
    assert "未立强制执行案卷的逾期案件" in page
    assert page.index(first.case_no) < page.index(second.case_no)
    assert "单位3有限公司" not in page
    assert page.count('value="立案"') == 2
    assert page.count("<td>2026-03-09</td>") == 2  # the notices' time limit

    # when a dossier is opened from it
    response = client.post(QUEUE, {"case": first.pk}, follow=True)

    # then the dossier's page shows it, and the case left the queue
    dossier = Dossier.objects.get(case=first)
    assert (
        f"已为案件 {first.case_no} 立强制执行案卷 {dossier.dossier_no}" in response.content.decode()
    )
    assert first.case_no not in client.get(QUEUE).content.decode()


def test_the_queue_and_the_list_take_the_same_number_of_queries_for_more_rows(client):
    staff = Staff()
    overdue_case(1)
    dossier_at("opened", staff, unit_no=2)
    logged_in(client, AUDIT, "auditor")
    with CaptureQueriesContext(connection) as queue_one, CaptureQueriesContext(connection):
        client.get(QUEUE)
    with CaptureQueriesContext(connection) as list_one:
        client.get(LIST)
    for n in (3, 4):
        overdue_case(n)
    for n in (5, 6):
        dossier_at("opened", staff, unit_no=n)
    with CaptureQueriesContext(connection) as queue_three:
        queue = client.get(QUEUE).content.decode()
    with CaptureQueriesContext(connection) as list_three:
        listing = client.get(LIST).content.decode()
    assert queue.count("AC2026-") == 3 and listing.count("ZF310101-2026-") >= 3
    assert len(queue_three) == len(queue_one)
    assert len(list_three) == len(list_one)


def test_the_dossier_page_shows_the_facts_and_its_documents(client):
    # given a dossier whose transfer request waits for a second collection user
    dossier = dossier_at("transfer_proposed", Staff())
    logged_in(client, AUDIT, "auditor")

    # when audit opens it
    page = client.get(reverse("admin:enforcement_dossier_change", args=[dossier.pk]))
    text = page.content.decode()

    # then it shows the state, what is owed, the notice, the deadlines, the balance found, who
    # proposed, and the documents with their links and service
    for shown in (
        "划拨申请待复核",
        "N310101-2026-000001",
        "2026年3月26日",  # the demand's time to perform
        "2026年9月3日",  # the court window opens
        "2026年12月2日",  # and closes
        "5000.00",
        "clerk",
        "CG310101-2026-000001",
        "CX310101-2026-000001",
        "2026-03-12 (邮寄)",
    ):
        assert shown in text, shown
    html = client.get(reverse("enforcement:document_html", args=[dossier.documents.first().pk]))
    assert "催告书" in html.content.decode()
    pdf = client.get(reverse("enforcement:document_pdf", args=[dossier.documents.first().pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_an_action_calls_the_service_and_a_refusal_changes_nothing(client):
    # given a dossier whose transfer request the clerk proposed
    staff = Staff()
    dossier = dossier_at("transfer_proposed", staff)
    client.force_login(staff.clerk)
    before = all_table_counts()

    # when the clerk approves it in the admin: refused (four eyes), nothing changed
    response = client.post(
        LIST, {"action": "approve_transfer", "_selected_action": [dossier.pk]}, follow=True
    )
    assert "不能再由本人复核" in response.content.decode()
    assert all_table_counts() == before

    # when the chief approves it
    client.force_login(staff.chief)
    client.post(LIST, {"action": "approve_transfer", "_selected_action": [dossier.pk]})

    # then the request went to the department
    dossier.refresh_from_db()
    assert dossier.state == DossierState.TRANSFER_REQUESTED
    assert dossier.documents.filter(kind="transfer_request").count() == 1


def test_recording_a_service_needs_the_receipt_and_then_serves_the_demand(client):
    staff = Staff()
    dossier = dossier_at("demand_issued", staff)
    client.force_login(staff.clerk)
    url = reverse("admin:enforcement_document_deliver", args=[dossier.documents.get().pk])
    before = all_table_counts()
    refused = client.post(url, {"channel": "post", "delivered_on": "2026-03-12"})
    assert "送达回证" in refused.content.decode()
    assert all_table_counts() == before
    receipt = SimpleUploadedFile("huizheng.pdf", b"%PDF-1.4", content_type="application/pdf")
    client.post(url, {"channel": "post", "delivered_on": "2026-03-12", "proof": receipt})
    dossier.refresh_from_db()
    assert dossier.state == DossierState.DEMAND_SERVED


def test_the_collection_dashboard_counts_the_cases_waiting_for_a_dossier(client):
    # given two overdue cases, one of them with a dossier
    overdue_case(1)
    dossier_at("opened", Staff(), unit_no=2)
    logged_in(client, COLLECTION, "collector")

    # when the collector opens the back office's home page
    page = client.get(reverse("admin:index")).content.decode()

    # then its work queues show the one case waiting for a dossier, linked to the queue
    assert "未立案卷的逾期案件" in page
    assert QUEUE in page
    start = page.index("未立案卷的逾期案件")
    assert ">1<" in page[start - 300 : start + 300].replace(" ", "")
