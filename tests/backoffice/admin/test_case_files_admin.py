"""The case list's files in the admin: the arrears upload (preview with every error, then
confirm, through `arrears_import`) and the export of the list as CSV and Excel."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import ArrearsCase
from tests.factories import (
    ArrearsRowFactory,
    arrears_csv_text,
    department_user,
    import_rows,
    table_counts,
)
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:replenish_arrearscase_import")
CSV = reverse("admin:replenish_arrearscase_export_csv")
XLSX = reverse("admin:replenish_arrearscase_export_xlsx")


def upload(client, rows, name="arrears.csv"):
    data = arrears_csv_text(rows).encode()
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def collection(client):
    client.force_login(department_user(COLLECTION))
    return client


def test_the_preview_shows_what_the_import_would_do_and_writes_nothing(collection):
    # given
    before = table_counts()

    # when
    response = upload(collection, [ArrearsRowFactory(unit_no=1), ArrearsRowFactory(unit_no=2)])

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Preview of arrears.csv" in html
    assert "<th>cases opened</th><td>2</td>" in html
    assert "<th>lines created</th><td>2</td>" in html
    assert table_counts() == before


def test_the_preview_lists_each_new_line_with_the_case_it_opens_or_joins_page_by_page(
    collection, monkeypatch
):
    # given unit 1 has a case already, and the preview shows 2 lines a page
    monkeypatch.setattr("backoffice.admin.files.PREVIEW_PAGE", 2)
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    existing = ArrearsCase.objects.get()
    before = table_counts()

    # when a file of an imported row, a new line of unit 1 and two of unit 2 is previewed
    html = upload(
        collection,
        [
            ArrearsRowFactory(unit_no=1, person_no=1),
            ArrearsRowFactory(unit_no=1, person_no=2),
            ArrearsRowFactory(unit_no=2, person_no=3),
            ArrearsRowFactory(unit_no=2, person_no=4),
        ],
    ).content.decode()

    # then the new lines are listed, the ID numbers masked, with what happens to each
    rows = html.split('id="preview-rows"')[1].split("</table>")[0]
    assert f"joins case {existing.case_no}" in rows
    assert "opens case AC2026-0000002" in rows
    assert "1 row was imported before with the same amounts: it is skipped." in html
    assert "page 1 of 2" in html
    assert sample_id_number(2, region_code="110101") not in rows and "********" in rows
    # and the next page shows the rest, with nothing written
    second = collection.get(IMPORT, {"page": 2}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "page 2 of 2" in second and second.count("opens case AC2026-0000002") == 1
    assert 'name="token"' in second
    assert table_counts() == before


def test_confirming_imports_the_file(collection):
    # given a previewed file
    html = upload(collection, [ArrearsRowFactory(unit_no=1)]).content.decode()
    token = html.split('name="token" value="')[1].split('"')[0]

    # when
    response = collection.post(IMPORT, {"confirm": "1", "token": token}, follow=True)

    # then
    assert ArrearsCase.objects.count() == 1
    assert response.status_code == 200
    assert ArrearsCase.objects.get().case_no in response.content.decode()


def test_every_error_of_a_bad_file_is_shown_and_nothing_written(collection):
    # given two bad rows
    before = table_counts()
    rows = [
        ArrearsRowFactory(unit_no=1, period="2025-13"),
        ArrearsRowFactory(unit_no=2, employer_amount="-1"),
    ]

    # when
    html = upload(collection, rows).content.decode()

    # then
    assert "The file was rejected (2 errors); nothing was written." in html
    assert "line 2: period" in html
    assert "line 3: employer_amount" in html
    assert table_counts() == before


def test_a_stale_token_is_a_message_not_an_import(collection):
    # when
    response = collection.post(
        IMPORT, {"confirm": "1", "token": "nope"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )

    # then
    assert "That preview has expired" in response.content.decode()
    assert ArrearsCase.objects.count() == 0


@pytest.mark.parametrize("department", [FINANCE, AUDIT])
def test_other_departments_may_not_import(client, department):
    # given
    client.force_login(department_user(department))

    # when
    response = upload(client, [ArrearsRowFactory(unit_no=1)])
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then
    assert response.status_code == 302
    assert "Your department may not import arrears files." in page
    assert ArrearsCase.objects.count() == 0


@pytest.fixture
def cases():
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2)])
    return list(ArrearsCase.objects.order_by("case_no"))


def test_the_csv_export_is_the_export_cases_format_of_the_filtered_list(collection, cases):
    # when the list is searched for unit 2
    response = collection.get(f"{CSV}?q=单位2")

    # then the header and unit 2's case only
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "case_no,unit_uscc,obligor,state,principal,late_fee,paid,written_off,balance"
    assert len(lines) == 2
    assert lines[1].startswith(f"{cases[1].case_no},{cases[1].unit.uscc},")
    assert ",registered,1000.00," in lines[1]


def test_the_excel_export_holds_the_same_rows(collection, cases):
    # when
    response = collection.get(XLSX)

    # then
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert [r[0] for r in rows[1:]] == [c.case_no for c in cases]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_excel_export_is_for_people_chinese_headers_states_by_name_amounts_as_numbers(
    collection, cases
):
    # when the clerk (reading in Chinese) exports the list
    response = collection.get(XLSX, HTTP_ACCEPT_LANGUAGE="zh-hans")

    # then the headers and states are in Chinese and the amounts are numbers shown with
    # thousands separators
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, first = list(sheet.iter_rows(min_row=1, max_row=2))
    assert [c.value for c in header] == [
        "案件编号",
        "统一社会信用代码",
        "欠费主体",
        "状态",
        "欠缴本金",
        "未缴滞纳金（截至今天）",
        "已缴金额",
        "已核销",
        "今日应缴",
    ]
    assert first[3].value == "已登记"
    assert first[4].value == 1000 and first[4].number_format == "#,##0.00"


def test_a_rejected_file_is_explained_to_a_chinese_clerk_line_by_line(collection):
    # given a file with a negative amount on line 2 and a month in the future on line 3
    rows = [
        ArrearsRowFactory(unit_no=1, employer_amount="-5.00"),
        ArrearsRowFactory(unit_no=1, period="2999-01"),
    ]
    before = table_counts()

    # when the clerk uploads it, reading in Chinese
    data = arrears_csv_text(rows).encode()
    response = collection.post(
        IMPORT, {"file": SimpleUploadedFile("a.csv", data)}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    # then each error says where and why, in Chinese, and nothing was written
    html = response.content.decode()
    assert "<li>第 2 行：employer_amount：不得为负数</li>" in html
    assert "<li>第 3 行：period：2999-01 晚于今天</li>" in html
    assert "must not be negative" not in html
    assert table_counts() == before
