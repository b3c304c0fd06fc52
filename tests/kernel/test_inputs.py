"""Bad input is refused where it enters, the same way by the files, the forms and the API: one
parser for amounts and dates; NUL characters, over-long values, extra values, undecodable bytes
and amounts a case cannot hold are reported as `line N: column: reason`, never a traceback, and
nothing is written."""

import dataclasses
import io
import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kernel.csvfiles import FileRejected
from kernel.inputs import AmountField, DateField
from replenish.departments import COLLECTION, FINANCE
from replenish.services.arrears_import import arrears_import
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    all_table_counts,
    arrears_csv_text,
    department_user,
    import_arrivals,
    import_rows,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(db):
    from tests.api.conftest import client_with

    return client_with(department_user(FINANCE, "finance-system"))


def refusal_of(call) -> list[str]:
    before = all_table_counts()
    with pytest.raises(FileRejected) as refused:
        call()
    assert all_table_counts() == before
    return [str(e) for e in refused.value.errors]


def arrears_bytes(data: bytes):
    return lambda: arrears_import(file=io.BytesIO(data), file_name="a.csv", actor=SYSTEM)


def arrears_row(**values) -> list:
    return [dataclasses.replace(ArrearsRowFactory(unit_no=1, person_no=1), **values)]


# --- the files ---------------------------------------------------------------------------------


def test_a_nul_character_in_an_arrears_file_is_a_bad_value():
    assert refusal_of(lambda: import_rows(arrears_row(unit_name="单位\x00有限公司"))) == [
        "line 2: unit_name: contains a NUL character"
    ]


def test_an_over_long_unit_or_person_name_is_a_bad_value():
    rows = [
        dataclasses.replace(ArrearsRowFactory(unit_no=1, person_no=1), unit_name="单" * 201),
        dataclasses.replace(ArrearsRowFactory(unit_no=2, person_no=2), person_name="职" * 101),
    ]
    assert refusal_of(lambda: import_rows(rows)) == [
        "line 2: unit_name: longer than 200 characters",
        "line 3: person_name: longer than 100 characters",
    ]


def test_a_nul_character_or_a_long_value_in_an_arrivals_file_is_a_bad_value():
    assert refusal_of(
        lambda: import_arrivals(
            [
                ArrivalRowFactory(arrival_ref="A\x00B", unit_no=1),
                ArrivalRowFactory(reference="R" * 300, unit_no=1),
            ]
        )
    ) == [
        "line 2: arrival_ref: contains a NUL character",
        "line 3: reference: longer than 200 characters",
    ]


def test_a_row_with_more_values_than_the_header_is_a_bad_row():
    row = ArrearsRowFactory(unit_no=1, person_no=1).values()
    text = arrears_csv_text([[*row, "extra"]])
    assert refusal_of(arrears_bytes(text.encode())) == [
        "line 2: row: 11 values, the header has 10 columns"
    ]


def test_a_gbk_byte_is_reported_on_its_own_line():
    rows = [
        ArrearsRowFactory(unit_no=1, person_no=1),
        ArrearsRowFactory(unit_no=1, person_no=2),
        ArrearsRowFactory(unit_no=1, person_no=3),
    ]
    text = arrears_csv_text(rows)
    lines = text.encode("utf-8").split(b"\n")
    lines[2] = lines[2].decode().encode("gbk")  # the second data row, line 3
    assert refusal_of(arrears_bytes(b"\n".join(lines))) == [
        "line 3: row: not UTF-8 (byte 0xb5, the line's byte 20)"
    ]


def test_amounts_a_case_cannot_hold_are_refused_with_a_message():
    rows = [
        ArrearsRowFactory(
            unit_no=1, person_no=n, employer_amount="600000000000.00", employee_amount="0"
        )
        for n in range(1, 4)
    ]
    assert refusal_of(lambda: import_rows(rows)) == [
        "line 3: employer_amount: the unit's case would owe more than 1000000000000.00, the most "
        "a case can hold"
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e3", "'1e3' is not an amount (digits with at most 2 decimals)"),
        ("１００.00", "'１００.00' is not an amount (digits with at most 2 decimals)"),
        ("100.001", "'100.001' has more than 2 decimals"),
        ("NaN", "'NaN' is not an amount (digits with at most 2 decimals)"),
        ("inf", "'inf' is not an amount (digits with at most 2 decimals)"),
        ("-5.00", "must not be negative"),
        ("12345678901234", "'12345678901234' is too large (at most 13 digits before the point)"),
    ],
)
def test_an_amount_the_format_forbids_is_refused(value, reason):
    assert refusal_of(lambda: import_rows(arrears_row(employer_amount=value))) == [
        f"line 2: employer_amount: {reason}"
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("20260115", "'20260115' is not a date (YYYY-MM-DD)"),
        ("２０２６-01-15", "'２０２６-01-15' is not a date (YYYY-MM-DD)"),
        ("0001-01-01", "0001-01-01 is before 2000-01-01, the earliest date accepted"),
        ("1999-12-31", "1999-12-31 is before 2000-01-01, the earliest date accepted"),
    ],
)
def test_a_date_the_format_forbids_or_before_the_earliest_date_is_refused(value, reason):
    assert refusal_of(lambda: import_rows(arrears_row(due_date=value))) == [
        f"line 2: due_date: {reason}"
    ]
    assert refusal_of(
        lambda: import_arrivals([ArrivalRowFactory(arrived_on=value, unit_no=1)])
    ) == [f"line 2: arrived_on: {reason}"]


def test_the_earliest_date_is_a_setting(settings):
    settings.EARLIEST_DATE = date(2020, 1, 1)
    assert refusal_of(
        lambda: import_rows(arrears_row(due_date="2019-06-30", period="2025-12"))
    ) == ["line 2: due_date: 2019-06-30 is before 2020-01-01, the earliest date accepted"]


def test_a_nul_character_in_an_uploaded_file_is_shown_on_the_import_page(client):
    # given
    client.force_login(department_user(COLLECTION))
    text = arrears_csv_text(arrears_row(person_name="职\x00工"))
    before = all_table_counts()

    # when
    response = client.post(
        reverse("admin:replenish_arrearscase_import"),
        {"file": SimpleUploadedFile("a.csv", text.encode())},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    # then
    assert response.status_code == 200
    assert "line 2: person_name: contains a NUL character" in response.content.decode()
    assert all_table_counts() == before


# --- the forms and the API ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e3", "１００", "100.001", "NaN", "inf", "-1", "1,000"])
def test_the_amount_of_a_form_takes_what_the_files_take(value):
    with pytest.raises(Exception) as refused:
        AmountField().clean(value)
    assert refused.value.code == "invalid"
    assert str(AmountField().clean("1000.50")) == "1000.50"


@pytest.mark.parametrize("value", ["20261130", "2026/11/30", "11/30/2026", "２０２６-11-30"])
def test_the_date_of_a_form_takes_what_the_files_take(value):
    with pytest.raises(Exception) as refused:
        DateField().clean(value)
    assert refused.value.code == "invalid"


def test_the_date_of_a_form_is_not_before_the_earliest_date():
    with pytest.raises(Exception) as refused:
        DateField().clean("0001-01-01")
    assert refused.value.code == "early"
    assert DateField().clean("2026-11-30") == date(2026, 11, 30)


def arrival(**overrides) -> dict:
    row = dataclasses.asdict(ArrivalRowFactory(arrival_ref="API-1", unit_no=1))
    return {**row, **overrides}


@pytest.mark.parametrize(
    ("overrides", "at_fault"),
    [
        ({"amount": "1e3"}, "amount"),
        ({"amount": 100.0}, "amount"),
        ({"amount": 100}, "amount"),
        ({"amount": "１００.00"}, "amount"),
        ({"amount": "100.001"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"arrived_on": "20261130"}, "arrived_on"),
        ({"arrived_on": "0001-01-01"}, "arrived_on"),
        ({"arrived_on": 20261130}, "arrived_on"),
    ],
)
def test_the_api_refuses_what_the_arrivals_file_forbids(finance, overrides, at_fault):
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    before = all_table_counts()

    response = finance.post("/api/finance/arrivals/", arrival(**overrides), format="json")

    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == [at_fault]
    assert all_table_counts() == before


@pytest.mark.parametrize("body", ['{"amount": NaN}', '{"amount": Infinity}', "[" * 100_000])
def test_a_body_the_json_decoder_cannot_take_is_a_json_400(finance, body):
    before = all_table_counts()

    response = finance.generic(
        "POST", "/api/finance/arrivals/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["detail"].startswith("JSON parse error")
    assert all_table_counts() == before
