"""Any bytes as an arrears file, an arrivals file or the body of the arrivals API: imported, or
refused with `line N: column: reason` (files) or a JSON error (API) and nothing written; never
a traceback."""

import csv
import io
import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kernel.csvfiles import FileRejected, parse_amount, parse_date
from replenish.departments import FINANCE
from replenish.services.arrears_import import COLUMNS as ARREARS_COLUMNS
from replenish.services.arrears_import import arrears_import
from replenish.services.arrivals_import import COLUMNS as ARRIVALS_COLUMNS
from replenish.services.arrivals_import import arrivals_import
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    all_table_counts,
    department_user,
    import_rows,
)

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ERROR = re.compile(r"line [1-9][0-9]*: [a-z_]+: \S.*", re.DOTALL)

# Values that reach each parser's edges: what the formats forbid and what they barely allow.
awkward = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "0",
            "0.00",
            "1e3",
            "１００",
            "100.001",
            "NaN",
            "inf",
            "-1",
            "9999999999999.99",
            "99999999999999",
            "20261130",
            "0001-01-01",
            "2026-02-30",
            "2026-13",
            "\x00",
            "a\x00b",
            "x" * 300,
            '"',
            "\r",
            "=1+1",
        ]
    ),
)


def rows_with_one_value_changed(factory, columns):
    """A valid row, as a list of values, with one value replaced or values added or removed."""
    return st.builds(
        lambda row, column, value, extra: (
            [value if i == column else v for i, v in enumerate(row)] + extra
        ),
        st.builds(lambda: [getattr(factory(unit_no=1, person_no=1), c) for c in columns])
        if factory is ArrearsRowFactory
        else st.builds(lambda: [getattr(factory(unit_no=1), c) for c in columns]),
        st.integers(0, len(columns) - 1),
        awkward,
        st.lists(awkward, max_size=2),
    )


def csv_bytes(header, rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def files(columns, factory):
    return st.one_of(
        st.binary(max_size=400),
        st.builds(
            csv_bytes,
            st.just(columns),
            st.lists(rows_with_one_value_changed(factory, columns), min_size=1, max_size=4),
            st.sampled_from(["utf-8", "gbk"]),
        ),
        st.builds(
            lambda head, tail: head + tail,
            st.just(",".join(columns).encode() + b"\n"),
            st.binary(max_size=300),
        ),
    )


def imported_or_refused_cleanly(call) -> None:
    before = all_table_counts()
    try:
        call()
    except FileRejected as refused:
        assert refused.errors
        for error in refused.errors:
            assert ERROR.fullmatch(str(error)), str(error)
        assert all_table_counts() == before


def arrears_example(**values) -> bytes:
    rows = [ArrearsRowFactory(unit_no=1, person_no=n) for n in (1, 2)]
    return csv_bytes(
        ARREARS_COLUMNS,
        [[values.get(c, getattr(r, c)) for c in ARREARS_COLUMNS] for r in rows],
    )


def arrivals_example(**values) -> bytes:
    row = ArrivalRowFactory(unit_no=1)
    return csv_bytes(ARRIVALS_COLUMNS, [[values.get(c, getattr(row, c)) for c in ARRIVALS_COLUMNS]])


# The attacks of issue 15, always tried, besides what hypothesis draws.
@FUZZ
@example(data=arrears_example(unit_name="单位\x00"))
@example(data=arrears_example(person_name="职" * 150))
@example(data=arrears_example(employer_amount="9999999999999.99"))
@example(data=arrears_example(due_date="0001-01-01"))
@example(data=arrears_example(unit_name="单位").replace("单位".encode(), "单位".encode("gbk")))
@given(data=files(ARREARS_COLUMNS, ArrearsRowFactory))
def test_any_arrears_file_is_imported_or_refused_line_by_line(data):
    imported_or_refused_cleanly(
        lambda: arrears_import(
            file=io.BytesIO(data), file_name="fuzz.csv", actor=SYSTEM, today=IMPORT_DAY
        )
    )


@FUZZ
@example(data=arrivals_example(arrival_ref="A\x00"))
@example(data=arrivals_example(reference="R" * 300))
@example(data=arrivals_example(arrived_on="0001-01-01"))
@given(data=files(ARRIVALS_COLUMNS, ArrivalRowFactory))
def test_any_arrivals_file_is_imported_or_refused_line_by_line(data):
    imported_or_refused_cleanly(
        lambda: arrivals_import(
            file=io.BytesIO(data), file_name="fuzz.csv", actor=SYSTEM, today=IMPORT_DAY
        )
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | awkward,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


def arrival_bodies():
    valid = {
        "arrival_ref": "FUZZ-1",
        "arrived_on": "2026-03-01",
        "amount": "100.00",
        "payer_uscc": ArrivalRowFactory(unit_no=1).payer_uscc,
        "reference": "",
        "channel": "bank",
    }
    changed = st.builds(
        lambda key, value: json.dumps({**valid, key: value}).encode(),
        st.sampled_from([*valid, "other"]),
        json_values,
    )
    return st.one_of(
        st.binary(max_size=300), changed, json_values.map(lambda v: json.dumps(v).encode())
    )


@pytest.fixture
def finance_client(db):
    from tests.api.conftest import client_with

    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return client_with(department_user(FINANCE, "finance-system"))


@FUZZ
@example(body=b"[" * 100_000)
@example(body=json.dumps({"amount": 1e3}).encode())
@given(body=arrival_bodies())
def test_any_body_of_the_arrivals_api_is_taken_or_answered_with_a_json_error(finance_client, body):
    before = all_table_counts()

    response = finance_client.generic(
        "POST", "/api/finance/arrivals/", body, content_type="application/json"
    )

    assert response.status_code in (200, 201, 400), response.content[:500]
    assert response["Content-Type"] == "application/json"
    answer = json.loads(response.content)
    if response.status_code == 400:
        assert answer["detail"]
        assert all_table_counts() == before
    else:
        # Taken only what a row of the arrivals file may hold: the one parser of both.
        sent = json.loads(body)
        assert isinstance(sent["amount"], str) and parse_amount(sent["amount"], allow_zero=False)
        assert isinstance(sent["arrived_on"], str) and parse_date(sent["arrived_on"])
