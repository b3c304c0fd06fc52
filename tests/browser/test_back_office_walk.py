"""Walks through the back office by clicking, as each department: one case from its import (a
GB18030 file) through its notice, printed and delivered by post, to its settlement; one from the
unit's bankruptcy to its liquidation agreement; finance resolving an unmatched arrival by its
candidate. Audit's decision of a write-off on its page is in test_clerks_day."""

from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from notices.models import Notice
from notices.services import case_issue_notice
from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsCase, Arrival, ArrivalState, CaseState
from replenish.selectors import case_owed
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    arrears_csv_text,
    department_user,
    import_arrivals,
    import_rows,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def department_groups(db):
    """The groups of migration 0006: a transactional test before this one may have flushed them
    (a flush re-creates permissions, not data migrations' rows)."""
    from django.contrib.auth.models import Group, Permission

    from replenish.departments import DUTIES

    for name, duties in DUTIES.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            for duty in duties:
                app_label, codename = duty.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )


@pytest.fixture
def as_user(browser, live_server):
    """A fresh browser context logged in as `username` (the clerk of one department)."""
    contexts = []

    def do(username: str):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "pw-for-tests")
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        return page

    yield do
    for context in contexts:
        context.close()


def run_action(page, action: str):
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", action)
    page.locator("button[name=index]").click()


def test_a_case_from_import_to_settlement(live_server, as_user):
    # given a collection clerk and a finance clerk
    department_user(COLLECTION, "collector")
    department_user(FINANCE, "cashier")
    today = timezone.localdate()
    csv_text = arrears_csv_text([ArrearsRowFactory(unit_no=5, person_no=5, due_date=str(today))])

    # when collection imports the arrears file: preview, then confirm
    page = as_user("collector")
    assert "待下达通知的案件" in page.locator("#work-queues").inner_text()
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/")
    page.get_by_role("link", name="导入欠费文件").click()
    # (saved by Excel on Chinese Windows: GB18030)
    page.set_input_files(
        "input[type=file]",
        {"name": "欠费.csv", "mimeType": "text/csv", "buffer": csv_text.encode("gb18030")},
    )
    page.locator("#content input[type=submit]").click()
    preview = page.locator(".preview-summary").inner_text()
    assert "新立案件数\t1" in preview
    page.locator("input[name=confirm]").click()
    # the import's answer first: the database is read once the server has answered
    expect(page.locator("#result_list")).to_contain_text("AC")
    case = ArrearsCase.objects.get()
    assert case.case_no in page.locator("#result_list").inner_text()

    # and issues the notice from the case page, through the confirmation page
    page.get_by_role("link", name=case.case_no).click()
    page.get_by_role("link", name="下达通知书").click()
    # `#content` is on the page before as well: wait for the confirmation's text, not a moment
    for text in ("已登记", "已通知", "1000.00"):
        expect(page.locator("#content")).to_contain_text(text)
    page.locator("#content input[type=submit]").click()
    assert "已为案件" in page.locator(".messagelist").inner_text()
    notice = Notice.objects.get(case=case)

    # and prints every undelivered notice for the post room: one PDF, the notice and its receipt
    page.goto(f"{live_server.url}/admin/notices/notice/")
    with page.expect_download() as printed:
        page.click("#print-undelivered")
    assert printed.value.suggested_filename == "undelivered-notices.pdf"
    assert printed.value.path().read_bytes().startswith(b"%PDF")

    # and records its delivery by post, from the notice's page
    page.goto(f"{live_server.url}/admin/notices/notice/{notice.pk}/change/")
    page.get_by_role("link", name="登记送达").click()
    page.select_option("#id_channel", "post")
    page.fill("#id_delivered_on", today.isoformat())
    # (by post: the scan of the return receipt is the proof)
    page.set_input_files(
        "#id_proof",
        {"name": "回执.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% receipt\n"},
    )
    page.locator("#content input[type=submit]").click()
    # (read from the page: on SQLite the live server shares the test's connection, so the test
    # reads the database only once the server is idle, at the end)
    assert f"{notice.number}" in page.locator(".messagelist").inner_text()
    assert str(today) in page.locator(".messagelist").inner_text()
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/{case.pk}/change/")

    # and records the counter payment and accepts it
    page.get_by_role("link", name="登记柜台缴款").click()
    assert page.input_value("#id_case_no") == case.case_no
    page.fill("#id_amount", "1000.00")
    page.select_option("#id_channel", "counter")
    page.locator("#content input[type=submit]").click()
    # the form's answer first: leaving the page at once could cancel the submission
    assert "登记缴款" in page.locator(".messagelist").inner_text()
    page.goto(f"{live_server.url}/admin/replenish/payment/")
    run_action(page, "accept")
    assert "已完成 1 项" in page.locator(".messagelist").inner_text()

    # then finance sees the payment in its queue and confirms its arrival
    finance = as_user("cashier")
    assert "待收款的缴款" in finance.locator("#work-queues").inner_text()
    finance.locator("#work-queues").get_by_role("link", name="待收款的缴款").click()
    run_action(finance, "confirm_arrival")
    finance.locator("#content input[name=apply]").click()
    assert "已完成 1 项" in finance.locator(".messagelist").inner_text()

    # and collection posts the adjustment
    page.goto(f"{live_server.url}/admin/replenish/arrival/adjust/")
    page.locator("#content input[type=submit]").click()
    expect(page.locator("#content")).to_contain_text(case.case_no)

    # and the case shows settled
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/{case.pk}/change/")
    assert "已结清" in page.locator("#content").inner_text()
    case.refresh_from_db()
    assert case.state == CaseState.SETTLED
    notice.refresh_from_db()
    assert (notice.delivered_on, notice.delivery_channel) == (today, "post")


def test_a_bankrupt_units_case_to_its_liquidation_agreement(live_server, as_user):
    # given an imported case and a collection clerk and an auditor
    from django.urls import reverse

    from replenish.departments import AUDIT
    from replenish.models import Agreement, AgreementKind, AgreementState
    from tests.factories import import_rows

    department_user(COLLECTION, "collector")
    department_user(AUDIT, "auditor")
    import_rows([ArrearsRowFactory(unit_no=6, person_no=6)])
    case = ArrearsCase.objects.select_related("unit").get()
    today = timezone.localdate()

    # when collection records the bankruptcy from the unit's page
    page = as_user("collector")
    page.goto(f"{live_server.url}{reverse('admin:units_unit_change', args=[case.unit.pk])}")
    page.locator(
        f"a[href='{reverse('admin:units_unit_record_event', args=[case.unit.pk, 'bankruptcy'])}']"
    ).click()
    page.fill("#id_court", "上海市第三中级人民法院")
    page.fill("#id_court_case_no", "(2026)沪03破12号")
    page.fill("#id_accepted_on", today.isoformat())
    page.fill("#id_party-name", "单位6清算组")
    page.fill("#id_party-head", "李律师")
    page.locator("#content input[type=submit]").click()
    page.wait_for_url("**/admin/units/unitevent/*/change/")
    assert "单位6清算组" in page.locator("#content").inner_text()

    # then the case is owed by the liquidation group; collection drafts the liquidation agreement
    page.goto(f"{live_server.url}/admin/replenish/arrearscase/?unit_status=bankrupt")
    assert case.case_no in page.locator("#result_list").inner_text()
    page.get_by_role("link", name=case.case_no).click()
    # (read while the case page was still loading, the text was cut short under load)
    expect(page.locator("#content")).to_contain_text("单位6清算组")
    page.get_by_role("link", name="起草协议").click()
    page.fill("#id_installment_count", "2")
    page.locator("input[name=_draft]").click()
    agreement = Agreement.objects.get()
    assert agreement.kind == AgreementKind.LIQUIDATION

    # and signs it
    page.goto(f"{live_server.url}{reverse('admin:replenish_agreement_sign', args=[agreement.pk])}")
    page.fill("#id_signed_on", today.isoformat())
    page.locator("#content input[type=submit].default").click()
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.IN_FORCE

    # then the auditor sees the case under the liquidation agreement, with no action buttons
    audit = as_user("auditor")
    audit.goto(f"{live_server.url}/admin/replenish/arrearscase/{case.pk}/change/")
    body = audit.locator("#content").inner_text()
    assert "协议履行中" in body and agreement.number in body
    assert audit.get_by_role("link", name="下达通知书").count() == 0
    assert audit.get_by_role("link", name="登记柜台缴款").count() == 0
    # Write-off applications (examination by collection, decision by audit) are not built yet.


def test_finance_resolves_an_unmatched_arrival_by_its_candidate(live_server, as_user):
    # given unit 6 has two open cases (one notified, one opened by later arrears), and money
    # from it quoting nothing the system knows: it waits unmatched, the payer being ambiguous
    department_user(FINANCE, "cashier")
    import_rows([ArrearsRowFactory(unit_no=6, person_no=1)])
    first = ArrearsCase.objects.get()
    case_issue_notice(case_id=first.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    import_rows([ArrearsRowFactory(unit_no=6, person_no=2, period="2026-01")])
    second = ArrearsCase.objects.exclude(pk=first.pk).get()
    import_arrivals([ArrivalRowFactory(unit_no=6, amount="1000.00", reference="转账")])
    arrival = Arrival.objects.get()
    assert arrival.state == ArrivalState.UNMATCHED

    # when finance opens its queue of unmatched arrivals and the arrival's decision page
    page = as_user("cashier")
    page.locator("#work-queues").get_by_role("link", name="未匹配的到账").click()
    page.get_by_role("link", name="选择案件").click()

    # then it sees the amount, the payer and both of the payer's open cases with what each owes
    assert page.locator("#arrival-amount").inner_text().strip() == "1,000.00"
    candidates = page.locator("#candidates tr.candidate")
    assert candidates.count() == 2
    owed = case_owed(second.pk, as_of=timezone.localdate()).total
    row = page.locator(f'#candidates tr[data-case="{second.case_no}"]')
    assert f"{owed:,.2f}" in row.inner_text()

    # and matching it to the second case by a click is done, and said
    row.get_by_role("button").click()
    assert second.case_no in page.locator(".messagelist").inner_text()
    arrival.refresh_from_db()
    assert (arrival.state, arrival.case_id) == (ArrivalState.MATCHED, second.pk)
