"""Admin screens of the write-off: recording an application with its documents, the list, the
page with its documents, and the actions of each department."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.documents_serving import document_url
from replenish.models import (
    ArrearsCase,
    CaseState,
    WriteOffApplication,
    WriteOffDocumentKind,
    WriteOffState,
)
from replenish.selectors import case_owed
from replenish.services.writeoff import writeoff_accept
from tests.factories import (
    ArrearsRowFactory,
    case_of,
    department_user,
    go_bankrupt,
    import_rows,
    submitted_writeoff,
    table_counts,
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


# --- the decision page --------------------------------------------------------------------------


def decide_url(application) -> str:
    return reverse("admin:replenish_writeoffapplication_decide", args=[application.pk])


@pytest.fixture
def accepted(case):
    application = submitted_writeoff(case)
    writeoff_accept(application_id=application.pk, actor=department_user(COLLECTION, "clerk"))
    return application


def test_the_decision_page_shows_what_would_be_written_off_today_and_the_documents(
    client, accepted
):
    logged_in(client, AUDIT, "auditor")
    owed = case_owed(accepted.case_id, as_of=timezone.localdate())

    page = client.get(reverse("admin:replenish_writeoffapplication_change", args=[accepted.pk]))
    assert decide_url(accepted) in page.content.decode()
    html = client.get(decide_url(accepted)).content.decode()

    assert f'<dd id="writeoff-amount">{owed.total:,.2f}</dd>' in html
    documents = html.split('id="writeoff-documents"')[1].split('id="writeoff-history"')[0]
    assert documents.count("<iframe") == len(WriteOffDocumentKind.values) == 5
    assert "受理" in html.split('id="writeoff-history"')[1]  # the examination history
    assert f"核销 {owed.total:,.2f} 元" in html  # the approve button names the amount
    # the documents open inside the page: their view lets the back office's own pages frame it
    document = accepted.documents.first()
    served = client.get(document_url("writeoff-document", document))
    assert served["X-Frame-Options"] == "SAMEORIGIN"


def test_approving_on_the_page_says_what_is_written_off(client, accepted):
    auditor = logged_in(client, AUDIT, "auditor")

    response = client.post(decide_url(accepted), {"decision": "approve", "reason": "清算终结"})

    application = WriteOffApplication.objects.get()
    assert (application.state, application.approver) == (WriteOffState.APPROVED, auditor)
    assert response.status_code == 302
    message = next(str(m) for m in client.get(response.url).context["messages"])
    total = application.principal + application.late_fee
    assert message.startswith(f"核销申请 {application.writeoff_no} 已批准：{total:,.2f} 元")


def test_rejecting_needs_a_reason_and_returns_the_case(client, accepted):
    logged_in(client, AUDIT, "auditor")
    before = table_counts()

    refused = client.post(decide_url(accepted), {"decision": "reject", "reason": " "})
    assert refused.status_code == 200 and table_counts() == before
    assert "此字段是必填项" in refused.content.decode() or "请" in refused.content.decode()

    response = client.post(decide_url(accepted), {"decision": "reject", "reason": "尚有财产"})
    assert response.status_code == 302
    assert WriteOffApplication.objects.get().state == WriteOffState.REJECTED
    assert ArrearsCase.objects.get().state != CaseState.WRITEOFF
    message = next(str(m) for m in client.get(response.url).context["messages"])
    assert "已驳回" in message and ArrearsCase.objects.get().case_no in message


def test_only_audit_opens_the_decision_page(client, accepted):
    logged_in(client, COLLECTION, "clerk")
    assert client.get(decide_url(accepted)).status_code == 403
    assert (
        client.post(decide_url(accepted), {"decision": "approve", "reason": "x"}).status_code == 403
    )
    assert WriteOffApplication.objects.get().state == WriteOffState.ACCEPTED
