"""A clerk's day on the demo data, at 1440×900 in Chinese: what each department's user sees on
the index, the case list, a case page and the dashboard. Screenshots go to var/screenshots/
(CI artefacts). What a clerk must see is asserted: the case list fits the screen with state,
owed today and days overdue; the case page's owed today is the money rules' figure."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from replenish.models import ArrearsCase, CaseState, WriteOffApplication, WriteOffState
from replenish.selectors import case_owed
from tests.groups import groups_restore

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture
def demo(db):
    """The demo data, with the groups data migrations made (a transactional test before this
    one may have flushed them: a flush re-creates permissions, not data migrations' rows)."""
    groups_restore()
    call_command("demo", stdout=io.StringIO())


@pytest.fixture
def clerk(browser, live_server, demo):
    contexts = []

    def login(username: str):
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1440, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", f"demo-{username}")
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        return page

    yield login
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def horizontal_overflow(page) -> int:
    """How far the page, or the list's own scrolling box, runs past the screen's width."""
    return page.evaluate(
        """Math.max(
            document.documentElement.scrollWidth - document.documentElement.clientWidth,
            ...[...document.querySelectorAll('#changelist .results')].map(
                (box) => box.scrollWidth - box.clientWidth))"""
    )


def test_collection_reads_its_queues_the_case_list_and_a_case_page(clerk, live_server):
    # given the collection clerk at the index
    page = clerk("collector")
    shot(page, "collection-1-index")

    # when the case list is opened
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/")
    shot(page, "collection-2-case-list")

    # then state, owed today and days overdue are visible without scrolling sideways
    assert horizontal_overflow(page) <= 0
    for column in ("column-state", "column-owed_today", "column-days_overdue"):
        box = page.locator(f"#result_list th.{column}").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1440, column

    # when a case with a late fee running is opened
    case = (
        ArrearsCase.objects.filter(state=CaseState.OVERDUE).order_by("case_no").first()
        or ArrearsCase.objects.filter(state=CaseState.NOTIFIED).order_by("case_no").first()
    )
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/{case.pk}/change/")
    shot(page, "collection-3-case-page")

    # then its summary shows owed today as the money rules compute it
    owed = case_owed(case.pk, as_of=timezone.localdate())
    assert page.locator("#owed-today").inner_text().strip() == f"{owed.total:,.2f}"
    assert owed.late_fee > 0

    # and the dashboard opens
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/dashboard/")
    shot(page, "collection-4-dashboard")
    assert page.locator("#aging").is_visible()


@pytest.mark.parametrize("username", ["finance", "auditor"])
def test_finance_and_audit_read_their_index_and_lists(clerk, live_server, username):
    page = clerk(username)
    shot(page, f"{username}-1-index")
    if username == "finance":
        page.goto(f"{live_server.url}/admin/replenish/arrival/?state__exact=unmatched")
    else:
        page.goto(f"{live_server.url}/admin/replenish/writeoffapplication/")
    shot(page, f"{username}-2-list")
    assert horizontal_overflow(page) <= 0


def test_audit_reads_the_statistics_and_collection_keeps_the_holiday_calendar(clerk, live_server):
    # the statistics of this year, with their two charts, fit the screen
    page = clerk("auditor")
    page.goto(f"{live_server.url}/admin/")
    page.click("text=统计报表")
    page.wait_for_selector("#chart-by-month svg")
    shot(page, "auditor-3-statistics")
    assert page.locator("#chart-outstanding svg").is_visible()
    assert horizontal_overflow(page) <= 0
    assert page.locator("#by-month tbody tr").count() == 12

    # collection enters a holiday the maintained calendar does not know, and is told when a
    # make-up working day falls on a weekday
    page = clerk("collector")
    page.goto(f"{live_server.url}/admin/notices/calendarexception/add/")
    page.fill("#id_day", "2027-06-08")
    page.check("#id_working")
    page.fill("#id_name", "端午节调休")
    page.click("input[name=_save]")
    assert "调休上班日须为上班的周六或周日" in page.locator(".errorlist").first.inner_text()
    page.uncheck("#id_working")
    page.fill("#id_name", "2027年端午节")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/notices/calendarexception/")
    shot(page, "collection-5-holiday-calendar")
    assert "2027年端午节" in page.locator("#result_list").inner_text()


def test_audit_decides_a_write_off_on_its_page(clerk, live_server):
    # given the demo's write-off waiting in audit, and what its case owes today
    application = WriteOffApplication.objects.get(state=WriteOffState.ACCEPTED)
    owed = case_owed(application.case_id, as_of=timezone.localdate())
    page = clerk("auditor")

    # when the auditor opens it from the queue and its page
    page.click("tr.queue-writeoffs_to_decide a")
    page.click(f"text={application.writeoff_no}")
    page.click("a.decide")
    page.wait_for_selector("#writeoff-facts")
    page.locator("#writeoff-documents details").first.locator("summary").click()
    shot(page, "auditor-4-writeoff-decision")

    # then it shows the amount it would write off and the five documents, and approving says so
    assert page.locator("#writeoff-amount").inner_text().strip() == f"{owed.total:,.2f}"
    assert page.locator("#writeoff-documents iframe").count() == 5
    page.fill("#id_reason", "破产程序终结，无财产可供清偿")
    page.click("button.approve")
    page.wait_for_selector(".messagelist")
    message = page.locator(".messagelist").inner_text()
    shot(page, "auditor-5-writeoff-approved")
    assert application.writeoff_no in message and f"{owed.total:,.2f}" in message
    assert WriteOffApplication.objects.get(pk=application.pk).state == WriteOffState.APPROVED
