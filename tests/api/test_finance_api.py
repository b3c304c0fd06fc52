"""The finance system posts arrivals through the arrivals file's code path: the same fields,
checks, matching and idempotency on arrival_ref; it reads the unmatched arrivals."""

import pytest

from replenish.models import Arrival, ArrivalImport, ArrivalState
from tests.factories import ArrearsRowFactory, all_table_counts, import_rows
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def owing(db):
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])


def arrival(**overrides) -> dict:
    return {
        "arrival_ref": "BANK-API-1",
        "arrived_on": "2026-03-01",
        "amount": "100.00",
        "payer_uscc": sample_uscc(1),
        "reference": "",
        "channel": "bank",
        **overrides,
    }


def test_an_arrival_is_received_and_matched_to_the_payers_case(finance, owing):
    response = finance.post("/api/finance/arrivals/", arrival(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["replayed"] is False
    assert (
        body["arrival"]["arrival_ref"],
        body["arrival"]["state"],
        body["arrival"]["amount"],
    ) == (
        "BANK-API-1",
        ArrivalState.MATCHED,
        "100.00",
    )
    assert body["arrival"]["case_no"] == Arrival.objects.get().case.case_no


def test_a_replay_returns_the_original_and_writes_no_arrival(finance, owing):
    first = finance.post("/api/finance/arrivals/", arrival(), format="json").json()
    arrivals = Arrival.objects.count()

    again = finance.post("/api/finance/arrivals/", arrival(), format="json")

    assert again.status_code == 200
    assert again.json() == {**first, "replayed": True}
    assert Arrival.objects.count() == arrivals


def test_the_same_reference_with_other_money_is_refused(finance, owing):
    finance.post("/api/finance/arrivals/", arrival(), format="json")
    before = all_table_counts()
    refused = finance.post("/api/finance/arrivals/", arrival(amount="99.00"), format="json")
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["amount"]
    assert all_table_counts() == before


@pytest.mark.parametrize(
    ("fields", "at_fault"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"payer_uscc": "91310101000000001X"}, "payer_uscc"),
        ({"arrived_on": "2999-01-01"}, "arrived_on"),
        ({"channel": "cash"}, "channel"),
        ({"arrival_ref": ""}, "arrival_ref"),
    ],
)
def test_a_bad_arrival_names_the_field_and_writes_nothing(finance, owing, fields, at_fault):
    before = all_table_counts()
    response = finance.post("/api/finance/arrivals/", arrival(**fields), format="json")
    assert response.status_code == 400
    body = response.json()
    assert at_fault in {e["field"] for e in body["errors"]}
    assert all(e["message"] for e in body["errors"])
    assert all_table_counts() == before
    assert not ArrivalImport.objects.exists()


def test_unmatched_arrivals_are_listed_for_finance(finance, owing):
    finance.post(
        "/api/finance/arrivals/",
        arrival(arrival_ref="BANK-X", payer_uscc=sample_uscc(77)),
        format="json",
    )
    listed = finance.get("/api/finance/arrivals/unmatched/").json()
    assert [(a["arrival_ref"], a["state"], a["case_no"]) for a in listed] == [
        ("BANK-X", ArrivalState.UNMATCHED, None)
    ]
