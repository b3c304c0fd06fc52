"""The case page: its parts, the buttons of the transitions the user may make, the confirmation
page, and the refusal of an action the user's department may not take."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.admin.cases import ArrearsCaseAdmin
from notices.models import Notice
from notices.services import case_issue_notice
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import ArrearsCase, CaseState
from replenish.selectors import case_owed
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    accepted_payment,
    deliver,
    department_user,
    import_rows,
    table_counts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1, employer_amount="812.34")])
    return ArrearsCase.objects.get()


def issue_url(case) -> str:
    return reverse("admin:replenish_arrearscase_issue_notice", args=[case.pk])


def test_collection_sees_the_issue_and_payment_buttons(client, case):
    # given
    client.force_login(department_user(COLLECTION))

    # when
    html = client.get(reverse("admin:replenish_arrearscase_change", args=[case.pk])).content
    html = html.decode()

    # then
    assert issue_url(case) in html
    assert f"{reverse('admin:replenish_payment_add')}?case_no={case.case_no}" in html


@pytest.mark.parametrize("department", [FINANCE, AUDIT])
def test_other_departments_see_no_collection_buttons(client, case, department):
    # given
    client.force_login(department_user(department))

    # when
    html = client.get(reverse("admin:replenish_arrearscase_change", args=[case.pk])).content
    html = html.decode()

    # then the case is there, its buttons are not
    assert case.case_no in html
    assert issue_url(case) not in html
    assert reverse("admin:replenish_payment_add") not in html


def test_the_confirmation_shows_what_will_change_and_changes_nothing(client, case):
    # given
    client.force_login(department_user(COLLECTION))
    before = table_counts()

    # when
    response = client.get(issue_url(case), HTTP_ACCEPT_LANGUAGE="en")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "registered" in html and "notified" in html
    assert "1012.34" in html
    assert table_counts() == before
    assert Notice.objects.count() == 0


def test_confirming_issues_the_notice_through_the_service(client, case):
    # given
    client.force_login(department_user(COLLECTION))

    # when
    response = client.post(issue_url(case), HTTP_ACCEPT_LANGUAGE="en")

    # then
    case.refresh_from_db()
    notice = Notice.objects.get(case=case)
    assert response.status_code == 302
    assert case.state == CaseState.NOTIFIED
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Notice {notice.number} issued for case {case.case_no}." in page
    assert notice.number in page  # the notices inline


@pytest.mark.parametrize("department", [FINANCE, AUDIT])
def test_another_department_issuing_by_url_is_refused_not_crashed(client, case, department):
    # given
    client.force_login(department_user(department))

    # when
    response = client.post(issue_url(case), HTTP_ACCEPT_LANGUAGE="en", follow=True)

    # then
    case.refresh_from_db()
    assert response.status_code == 200
    assert "Your department may not issue notices." in response.content.decode()
    assert case.state == CaseState.REGISTERED
    assert Notice.objects.count() == 0


def test_a_notice_that_cannot_be_issued_is_a_message(client, case):
    # given the case was notified already
    case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    client.force_login(department_user(COLLECTION))

    # when
    response = client.post(issue_url(case), HTTP_ACCEPT_LANGUAGE="en", follow=True)

    # then
    assert response.status_code == 200
    assert Notice.objects.count() == 1
    assert 'class="error"' in response.content.decode()


def test_the_case_page_runs_the_same_queries_for_one_line_and_for_many(client):
    # given a case with one line, and a case with twelve lines of six persons
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_rows(
        [
            ArrearsRowFactory(unit_no=2, person_no=10 + n % 6, period=f"2025-{1 + n // 6:02d}")
            for n in range(12)
        ]
    )
    one, many = (ArrearsCase.objects.get(unit__name=f"单位{n}有限公司") for n in (1, 2))
    client.force_login(department_user(COLLECTION, "collector"))

    def queries(case) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("admin:replenish_arrearscase_change", args=[case.pk]))
        assert response.status_code == 200
        return len(captured)

    # when / then: the lines, the ledger entries and their persons cost no query each
    assert queries(many) == queries(one)


def test_the_case_page_opens_with_what_the_case_owes_today_by_the_money_rules(client, case):
    # given a notice delivered, and the money rules' figures for today
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    deliver(notice, date(2026, 3, 3))
    today = timezone.localdate()
    owed = case_owed(case.pk, as_of=today)
    client.force_login(department_user(COLLECTION, "collector"))

    # when the clerk opens the case, reading in Chinese
    html = client.get(
        reverse("admin:replenish_arrearscase_change", args=[case.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()

    # then the summary comes before the case's fields and lines, with today's figures
    summary = html.split('id="case-summary"')[1].split("</dl>")[0]
    assert html.index('id="case-summary"') < html.index("field-case_no")
    assert f'<dd id="owed-today">{owed.total:,.2f}</dd>' in summary
    assert f"<dd>{owed.principal:,.2f}</dd>" in summary
    assert f"<dd>{owed.late_fee - case.fee_unpaid:,.2f}</dd>" in summary
    days = (today - date(2026, 1, 15)).days
    assert f"<dd>{days} <small>(应缴日 2026-01-15)</small></dd>" in summary
    notice.refresh_from_db()
    assert f"缴款期限 {notice.deadline:%Y-%m-%d}（通知单 {notice.number}）" in summary
    # and a deadline that has passed says so, with how long ago
    assert f"已过期 {(today - notice.deadline).days} 天" in summary


def test_a_case_of_many_lines_shows_them_fifty_a_page_by_period(client):
    # given a case of 120 lines, over two periods
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=n, period=period)
            for n in range(1, 61)
            for period in ("2025-11", "2025-12")
        ]
    )
    case = ArrearsCase.objects.get()
    client.force_login(department_user(COLLECTION, "collector"))
    url = reverse("admin:replenish_arrearscase_change", args=[case.pk])

    # when the clerk opens the case, then its third page of lines
    first = client.get(url).content.decode()
    third = client.get(url, {"lines-page": "3"}).content.decode()

    # then fifty lines a page, by period: the first page is November's, the last December's
    def lines(html):
        group = html.split('id="lines-group"')[1].split('id="lines-pager"')[0]
        return group.count('class="form-row')

    assert (lines(first), lines(third)) == (50, 20)
    assert "第 1 页，共 3 页（共 120 条）" in first
    first_lines = first.split('id="lines-group"')[1].split('id="lines-pager"')[0]
    assert "2025-11" in first_lines and "2025-12" not in first_lines
    # and a page number out of range shows the last page
    assert lines(client.get(url, {"lines-page": "99"}).content.decode()) == 20


def test_the_read_only_parts_draw_the_cells_the_admins_tabular_template_draws(
    client, case, monkeypatch
):
    # given a case with a delivered notice, a counter payment, lines, ledger and audit entries
    notice = case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    deliver(notice, date(2026, 3, 3))
    accepted_payment(case, "100.00")
    import_rows([ArrearsRowFactory(unit_no=1, person_no=2, period="2025-12")])
    client.force_login(department_user(COLLECTION, "collector"))
    url = reverse("admin:replenish_arrearscase_change", args=[case.pk])

    def parts(html: str) -> dict[str, list[tuple[str, str]]]:
        """Each part's rows: its title cell (name and link), then each cell's class and contents."""
        shown = {}
        for group in re.findall(r'id="([\w-]+)-group"(.*?)</table>', html, re.S):
            rows = []
            for row in re.findall(r'<tr class="form-row[^"]*"[^>]*>(.*?)</tr>', group[1], re.S):
                title = re.search(r'<td class="original">\s*(?:<p>(.*?)</p>)?', row, re.S)
                cells = re.findall(r'<td class="(field-[^"]+)">\s*<p>(.*?)</p>', row, re.S)
                rows.append((" ".join((title.group(1) or "").split()), cells))
            shown[group[0]] = rows
        return shown

    # when the page is drawn with the read-only table, and with the admin's tabular template
    read_only = parts(client.get(url).content.decode())
    for inline in ArrearsCaseAdmin.inlines:
        monkeypatch.setattr(inline, "template", "admin/edit_inline/tabular.html")
    tabular_html = client.get(url).content.decode()
    # (the tabular template hides the ledger's id cells, the form's key, under a visible
    # heading, so that the columns slip by one; the read-only table shows them)
    assert 'class="field-id hidden"' in tabular_html
    tabular = parts(tabular_html.replace('class="field-id hidden"', 'class="field-id"'))

    # then every part shows the same rows, cells and links, and none of the forms' inputs
    assert read_only == tabular
    assert {"lines", "ledger_entries", "audit_entries", "notices", "payments"} <= set(read_only)
    assert all(read_only[part] for part in ("lines", "ledger_entries", "notices", "payments"))
    assert "inlineviewlink" in str(read_only["notices"])
    page = client.get(url).content.decode()
    assert 'name="lines-0-id"' in page  # the tabular template's input, with the patch on
    monkeypatch.undo()
    assert 'name="lines-0-id"' not in client.get(url).content.decode()


def test_the_ledger_names_an_arrival_by_its_reference_in_one_query_for_the_page(client):
    # given a case of twelve lines paid by one arrival, and a case paid by three
    from replenish.services.arrival import arrivals_post
    from tests.factories import ArrivalRowFactory, import_arrivals
    from units.samples import sample_uscc

    for unit in (1, 2):
        import_rows(
            [
                ArrearsRowFactory(unit_no=unit, person_no=10 + n, employer_amount="300.00")
                for n in range(12)
            ]
        )
    refs = {1: ["BANK-A1"], 2: ["BANK-B1", "BANK-B2", "BANK-B3"]}
    for unit, unit_refs in refs.items():
        for ref in unit_refs:
            import_arrivals(
                [ArrivalRowFactory(arrival_ref=ref, amount="700.00", unit_no=unit)],
                today=date(2026, 3, 31),
            )
    arrivals_post(actor=SYSTEM)
    client.force_login(department_user(COLLECTION, "collector"))

    def page(unit) -> tuple[str, int]:
        case = ArrearsCase.objects.get(unit__uscc=sample_uscc(unit))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(
                reverse("admin:replenish_arrearscase_change", args=[case.pk]),
                HTTP_ACCEPT_LANGUAGE="zh-hans",
            )
        assert response.status_code == 200
        return response.content.decode(), len(captured)

    # when the clerk opens each case's page
    (one, one_queries), (three, three_queries) = page(1), page(2)

    # then the ledger's source column names each arrival by the bank's reference, not by its id
    assert "到账 BANK-A1" in one
    assert all(f"到账 {ref}" in three for ref in refs[2])
    assert not re.search(r"到账 \d+<", one + three)
    # and the references of the page's entries are read at once, whatever their number
    assert three_queries == one_queries
