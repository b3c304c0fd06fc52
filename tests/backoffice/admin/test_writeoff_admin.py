"""Admin screens of the write-off: recording an application with its documents, the list, the
page with its documents, and the actions of each department."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import ArrearsCase, CaseState, WriteOffApplication, WriteOffState
from replenish.services.writeoff import writeoff_accept
from tests.factories import (
    ArrearsRowFactory,
    case_of,
    department_user,
    go_bankrupt,
    import_rows,
    submitted_writeoff,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
LIST = reverse("admin:replenish_writeoffapplication_changelist")
ADD = reverse("admin:replenish_writeoffapplication_add")


@pytest.fixture
def case():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return go_bankrupt(case_of(sample_uscc(1)))


def logged_in(client, department: str, username: str):
    user = department_user(department, username)
    client.force_login(user)
    return user


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4", content_type="application/pdf")


def test_collection_records_an_application_with_its_documents(client, case):
    # given a collection clerk
    logged_in(client, COLLECTION, "clerk")

    # when the form is sent with the case number and two documents
    response = client.post(
        ADD,
        {
            "case_no": case.case_no,
            "note": "清算组提交",
            "bankruptcy_ruling": pdf("ruling.pdf"),
            "liquidation_report": pdf("report.pdf"),
        },
    )

    # then the application is recorded with them, and the case is under examination
    assert response.status_code == 302
    application = WriteOffApplication.objects.get()
    assert sorted(application.documents.values_list("kind", flat=True)) == [
        "bankruptcy_ruling",
        "liquidation_report",
    ]
    assert ArrearsCase.objects.get(pk=case.pk).state == CaseState.WRITEOFF

    # and its page shows the documents and the case page shows the application
    page = client.get(reverse("admin:replenish_writeoffapplication_change", args=[application.pk]))
    text = page.content.decode()
    for document in application.documents.all():
        assert f'href="/documents/writeoff-document/{document.pk}/"' in text
    assert "清算报告" in text or "liquidation report" in text
    case_page = client.get(reverse("admin:replenish_arrearscase_change", args=[case.pk]))
    assert application.writeoff_no in case_page.content.decode()


def test_accepting_without_all_documents_is_refused_with_the_missing_ones(client, case):
    logged_in(client, COLLECTION, "clerk")
    application = submitted_writeoff(case, kinds=["bankruptcy_ruling"])

    response = client.post(
        LIST, {"action": "accept", "_selected_action": [application.pk]}, follow=True
    )

    # the staff read it in Chinese, the default language
    assert (
        f"{application.writeoff_no}: 核销申请 {application.writeoff_no} 不能受理：缺少清算报告、"
        "破产财产分配方案、"
    ) in response.content.decode()
    assert WriteOffApplication.objects.get().state == WriteOffState.SUBMITTED


def test_each_department_sees_the_actions_of_its_duties(client, case):
    submitted_writeoff(case)
    for department, username, expected in (
        (COLLECTION, "clerk", {"accept", "return_for_documents", "withdraw"}),
        (AUDIT, "auditor", {"approve", "reject"}),
        (FINANCE, "cashier", set()),
    ):
        logged_in(client, department, username)
        form = client.get(LIST).context["action_form"]
        choices = form.fields["action"].choices if form else []
        actions = {value for value, _label in choices}
        assert actions - {"", "delete_selected"} == expected, department


def test_audit_approves_with_a_reason_through_the_action(client, case):
    # given an accepted application
    application = submitted_writeoff(case)
    writeoff_accept(application_id=application.pk, actor=department_user(COLLECTION, "clerk"))
    auditor = logged_in(client, AUDIT, "auditor")

    # when the auditor approves it with a reason
    client.post(
        LIST,
        {
            "action": "approve",
            "_selected_action": [application.pk],
            "apply": "1",
            "reason": "清算终结",
        },
    )

    # then it is approved by that auditor
    application = WriteOffApplication.objects.get()
    assert (application.state, application.approver, application.decision_reason) == (
        WriteOffState.APPROVED,
        auditor,
        "清算终结",
    )


def test_the_list_takes_the_same_number_of_queries_for_more_rows(client):
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2, 3)])
    logged_in(client, AUDIT, "auditor")
    submitted_writeoff(go_bankrupt(case_of(sample_uscc(1))))
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    for n in (2, 3):
        submitted_writeoff(go_bankrupt(case_of(sample_uscc(n))))
    with CaptureQueriesContext(connection) as three:
        response = client.get(LIST)
    assert response.content.decode().count("HX") >= 3
    assert len(three) == len(one)
