"""A liquidation group files its write-off application in the portal (step 4 of the workflow):
with the five documents it enters the collection department's queue; without them, or for a case
it does not owe, nothing is written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.queues import queue
from replenish.models import CaseState, WriteOffApplication, WriteOffDocumentKind, WriteOffState
from tests.factories import (
    ArrearsRowFactory,
    all_table_counts,
    case_of,
    go_bankrupt,
    import_rows,
    portal_user,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
URL = "/portal/writeoffs/apply/"


@pytest.fixture
def bankrupt():
    """Units 1 and 2 bankrupt; each case owed by its unit's liquidation group."""
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2)])
    return [go_bankrupt(case_of(sample_uscc(n))) for n in (1, 2)]


def documents(kinds=tuple(WriteOffDocumentKind.values)) -> dict:
    return {
        f"doc_{kind}": SimpleUploadedFile(f"{kind}.pdf", b"%PDF-1.4", "application/pdf")
        for kind in kinds
    }


def test_the_liquidation_group_files_an_application_that_collection_then_examines(client, bankrupt):
    # given a portal user of unit 1's liquidation group
    case = bankrupt[0]
    client.force_login(portal_user("qingsuan", counterparty=case.obligor))

    # when it opens the form and files it with the five documents
    page = client.get(URL).content.decode()
    response = client.post(URL, {"case": case.pk, "note": "破产财产已分配完毕", **documents()})

    # then the form offered only its own case, the application is waiting for collection with
    # its documents, and the case is under examination
    assert case.case_no in page and bankrupt[1].case_no not in page
    assert (response.status_code, response["Location"]) == (302, "/portal/agreements/")
    application = WriteOffApplication.objects.get()
    assert (application.case_id, application.state) == (case.pk, WriteOffState.SUBMITTED)
    assert sorted(application.documents.values_list("kind", flat=True)) == sorted(
        WriteOffDocumentKind.values
    )
    case.refresh_from_db()
    assert case.state == CaseState.WRITEOFF
    assert list(queue("writeoffs_to_examine").items()) == [application]


def test_an_application_missing_a_document_is_refused_and_writes_nothing(client, bankrupt):
    case = bankrupt[0]
    client.force_login(portal_user("qingsuan", counterparty=case.obligor))
    before = all_table_counts()

    # when the distribution plan is missing
    kinds = [k for k in WriteOffDocumentKind.values if k != "distribution_plan"]
    response = client.post(URL, {"case": case.pk, **documents(kinds)})

    # then the form says so and nothing changed
    assert response.status_code == 200
    assert "doc_distribution_plan" in response.context["form"].errors
    assert all_table_counts() == before
    case.refresh_from_db()
    assert case.state != CaseState.WRITEOFF


def test_a_group_cannot_apply_for_a_case_it_does_not_owe(client, bankrupt):
    # given the liquidation group of unit 2
    client.force_login(portal_user("other", counterparty=bankrupt[1].obligor))
    before = all_table_counts()

    # when it names unit 1's case
    response = client.post(URL, {"case": bankrupt[0].pk, **documents()})

    # then the case is not one it may choose, and nothing changed
    assert response.status_code == 200
    assert "case" in response.context["form"].errors
    assert all_table_counts() == before


def test_a_unit_user_has_no_write_off_page(client, bankrupt):
    client.force_login(portal_user("danwei", unit=bankrupt[0].unit))
    assert client.get(URL).status_code == 404


def test_the_form_runs_the_same_queries_for_one_case_as_for_three(client):
    # given the liquidation group of a unit with one line and that of a unit with three
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_rows([ArrearsRowFactory(unit_no=2, person_no=n) for n in (2, 3, 4)])
    small, large = (go_bankrupt(case_of(sample_uscc(n))) for n in (1, 2))
    measured = []
    for n, case in enumerate((small, large)):
        client.force_login(portal_user(f"group{n}", counterparty=case.obligor))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        measured.append(len(captured))
    assert measured[0] == measured[1]
