"""One new arrival_ref sent several times at once with different values: exactly one is received,
every other one is refused (never taken as a replay), through the file and through the API."""

from decimal import Decimal as D

import pytest

from kernel.csvfiles import FileRejected
from replenish.departments import FINANCE
from replenish.models import Arrival, ArrivalImport
from replenish.services.arrivals_import import ArrivalsImportResult
from tests.api.conftest import client_with
from tests.factories import (
    ArrearsRowFactory,
    ArrivalRowFactory,
    department_user,
    ensure_department_groups,
    import_arrivals,
    import_rows,
)
from tests.replenish.services.test_collection_concurrency import at_once
from units.samples import sample_uscc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def department_groups():
    ensure_department_groups()


@pytest.fixture
def owing():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])


def test_six_imports_at_once_of_one_reference_with_six_amounts_receive_one_and_refuse_five(
    owing,
):
    # given: six files, each with the same new reference and another amount
    amounts = [f"{n}00.00" for n in range(1, 7)]

    # when
    outcomes = at_once(
        *(
            lambda amount=amount: import_arrivals(
                [ArrivalRowFactory(arrival_ref="SAME-1", unit_no=1, amount=amount)]
            )
            for amount in amounts
        )
    )

    # then: one import received it; the five others were refused naming the amount
    received = [o for o in outcomes if isinstance(o, ArrivalsImportResult)]
    refused = [o for o in outcomes if isinstance(o, FileRejected)]
    assert [(r.received, r.resent) for r in received] == [(1, 0)]
    assert len(refused) == 5
    assert {tuple((e.line, e.column) for e in r.errors) for r in refused} == {((2, "amount"),)}
    stored = Arrival.objects.get(arrival_ref="SAME-1")
    assert str(stored.amount) == amounts[outcomes.index(received[0])]
    assert ArrivalImport.objects.count() == 1


@pytest.mark.parametrize(
    "other",
    [
        {"arrived_on": "2026-02-28"},
        {"payer_uscc": sample_uscc(2)},
        {"reference": "SOMETHING-ELSE"},
        {"channel": "wechat"},
    ],
)
def test_imports_at_once_of_one_reference_differing_in_any_value_receive_one(owing, other):
    # given: one file as sent, one with a single other value
    rows = [
        ArrivalRowFactory(arrival_ref="SAME-2", unit_no=1),
        ArrivalRowFactory(arrival_ref="SAME-2", unit_no=1, **other),
    ]

    # when
    outcomes = at_once(*(lambda row=row: import_arrivals([row]) for row in rows))

    # then
    refused = [o for o in outcomes if isinstance(o, FileRejected)]
    assert len(refused) == 1, outcomes
    assert [e.column for e in refused[0].errors] == list(other)
    assert Arrival.objects.count() == 1


def test_the_same_file_twice_at_once_is_received_once_and_replayed_once(owing):
    row = ArrivalRowFactory(arrival_ref="SAME-3", unit_no=1)

    outcomes = at_once(lambda: import_arrivals([row]), lambda: import_arrivals([row]))

    assert sorted((o.received, o.resent) for o in outcomes) == [(0, 1), (1, 0)]
    assert Arrival.objects.count() == 1


@pytest.mark.usefixtures("department_groups")
def test_ten_api_posts_at_once_of_one_reference_with_amounts_1_to_10(owing):
    # given: ten finance clients (each thread its own connection and client)
    user = department_user(FINANCE, "finance-system")
    clients = [client_with(user) for _ in range(10)]

    def post(client, amount):
        body = {
            "arrival_ref": "API-SAME",
            "arrived_on": "2026-03-01",
            "amount": f"{amount}.00",
            "payer_uscc": sample_uscc(1),
            "reference": "",
            "channel": "bank",
        }
        response = client.post("/api/finance/arrivals/", body, format="json")
        return response.status_code, response.json()

    # when
    outcomes = at_once(*(lambda c=c, n=n: post(c, n) for n, c in enumerate(clients, start=1)))

    # then: one 201 with replayed false, nine 400 naming the amount
    codes = sorted(code for code, _body in outcomes)
    assert codes == [201] + [400] * 9, outcomes
    created = next(body for code, body in outcomes if code == 201)
    assert created["replayed"] is False
    assert D(created["arrival"]["amount"]) == Arrival.objects.get().amount
    for code, body in outcomes:
        if code == 400:
            assert [e["field"] for e in body["errors"]] == ["amount"]


@pytest.mark.usefixtures("department_groups")
def test_ten_api_posts_at_once_of_one_identical_arrival_create_once(owing):
    user = department_user(FINANCE, "finance-system")
    clients = [client_with(user) for _ in range(10)]
    body = {
        "arrival_ref": "API-SAME-2",
        "arrived_on": "2026-03-01",
        "amount": "100.00",
        "payer_uscc": sample_uscc(1),
        "reference": "",
        "channel": "bank",
    }

    def post(client):
        response = client.post("/api/finance/arrivals/", body, format="json")
        return response.status_code, response.json()["replayed"]

    outcomes = at_once(*(lambda c=c: post(c) for c in clients))

    assert sorted(outcomes) == [(200, True)] * 9 + [(201, False)]
    assert Arrival.objects.count() == 1
