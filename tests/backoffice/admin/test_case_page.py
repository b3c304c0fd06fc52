"""The case page: its parts, the buttons of the transitions the user may make, the confirmation
page, and the refusal of an action the user's department may not take."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notices.models import Notice
from notices.services import case_issue_notice
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import ArrearsCase, CaseState
from replenish.selectors import case_owed
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
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
