"""Files from real desks: an arrears or arrivals file saved by Excel on Chinese Windows
(GB18030/GBK) or as a workbook (XLSX) imports as its UTF-8 CSV would, with the same
`line N: column: reason` errors; the templates to download are themselves valid files."""

import io
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from backoffice.admin.file_formats import ARREARS_COLUMNS
from kernel.csvfiles import FileRejected
from replenish.departments import COLLECTION
from replenish.models import ArrearsCase, ArrearsLine
from replenish.services.arrears_import import COLUMNS, arrears_import
from tests.factories import SYSTEM, ArrearsRowFactory, arrears_csv_text, department_user

pytestmark = pytest.mark.django_db


def workbook(rows, *, header=COLUMNS) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row.values()))
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def test_a_gb18030_file_imports_as_its_utf8_twin():
    # given the same rows saved as GB18030 (the unit names are Chinese)
    rows = [ArrearsRowFactory(unit_no=1, person_no=1), ArrearsRowFactory(unit_no=2, person_no=2)]
    data = arrears_csv_text(rows).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    # when it is imported
    result = arrears_import(file=io.BytesIO(data), file_name="gbk.csv", actor=SYSTEM)

    # then the names read right
    assert result.lines_created == 2
    assert set(ArrearsCase.objects.values_list("unit__name", flat=True)) == {
        "单位1有限公司",
        "单位2有限公司",
    }


def test_an_xlsx_workbook_imports_with_its_dates_months_and_amounts_read_as_written():
    # given a workbook whose cells Excel typed: a date, a month as a date, amounts as numbers
    row = ArrearsRowFactory(unit_no=1, person_no=1)
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    values = list(row.values())
    # A workbook's cells hold naive dates, as Excel writes them.
    values[3] = datetime(2025, 12, 1)  # noqa: DTZ001  (period)
    values[6], values[7], values[8] = 6000, 812.34, 200.0
    values[9] = datetime(2026, 1, 15)  # noqa: DTZ001  (due_date)
    sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)

    # when
    arrears_import(file=out, file_name="a.xlsx", actor=SYSTEM)

    # then
    line = ArrearsLine.objects.get()
    assert (line.period, str(line.due_date)) == ("2025-12", "2026-01-15")
    assert (str(line.employer_amount), str(line.employee_amount)) == ("812.34", "200.00")


def test_an_xlsx_with_bad_rows_is_refused_with_the_same_line_numbers_and_writes_nothing():
    # given a workbook whose second data row has a negative amount
    rows = [
        ArrearsRowFactory(unit_no=1, person_no=1),
        ArrearsRowFactory(unit_no=1, person_no=2, employer_amount="-1.00"),
    ]

    # when / then
    with pytest.raises(FileRejected) as refused:
        arrears_import(file=workbook(rows), file_name="a.xlsx", actor=SYSTEM)
    assert [str(e) for e in refused.value.errors] == [
        "line 3: employer_amount: must not be negative"
    ]
    assert ArrearsLine.objects.count() == 0


def test_a_file_that_is_neither_is_refused_with_a_message():
    # given bytes that claim to be a workbook
    with pytest.raises(FileRejected) as refused:
        arrears_import(file=io.BytesIO(b"PK\x03\x04garbage"), file_name="x.xlsx", actor=SYSTEM)

    # then
    assert str(refused.value.errors[0]).startswith("line 1: header: not a readable XLSX workbook")


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_the_templates_to_download_import_as_they_are(client, extension):
    # given a collection clerk on the upload page
    client.force_login(department_user(COLLECTION))
    page = client.get(reverse("admin:replenish_arrearscase_import")).content.decode()
    url = reverse("admin:replenish_file_template", args=["arrears", extension])
    assert url in page

    # when the template is downloaded and uploaded back
    response = client.get(url)
    content = response.content
    if extension == "xlsx":
        header = [c.value for c in next(load_workbook(io.BytesIO(content)).active.rows)]
        assert header == [code for code, _meaning in ARREARS_COLUMNS]
    preview = client.post(
        reverse("admin:replenish_arrearscase_import"),
        {"file": SimpleUploadedFile(f"template.{extension}", content)},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()

    # then its example row is a valid row
    assert "<th>lines created</th><td>1</td>" in preview


def test_an_unknown_template_is_not_found(client):
    client.force_login(department_user(COLLECTION))
    url = reverse("admin:replenish_file_template", args=["passwords", "csv"])
    assert client.get(url).status_code == 404
