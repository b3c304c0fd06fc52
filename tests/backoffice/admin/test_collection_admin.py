"""Admin screens of money in: what each department sees and may do, the arrivals import with its
preview, the unmatched queue, the adjustment."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notices.services import case_issue_notice
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import (
    ArrearsCase,
    Arrival,
    ArrivalState,
    CaseState,
    CreditEntry,
    Payment,
    PaymentState,
)
from replenish.services.arrival import arrivals_post
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    accepted_payment,
    all_table_counts,
    arrivals_csv,
    case_of,
    department_user,
    import_arrivals,
    import_rows,
)
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client):
    """These tests read the pages' messages in their English source text (the back office is
    in Chinese by default since the project's catalogue exists)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


PAYMENTS = reverse("admin:replenish_payment_changelist")
ARRIVALS = reverse("admin:replenish_arrival_changelist")
IMPORT = reverse("admin:replenish_arrival_import")
ADJUST = reverse("admin:replenish_arrival_adjust")
TODAY = timezone.localdate()


@pytest.fixture
def case():
    """Unit 1 owes 1,000.00 due 2026-01-15, notified; unit 2 owes the same, registered."""
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2)])
    case = case_of(sample_uscc(1))
    case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 2, 2))
    return ArrearsCase.objects.get(pk=case.pk)


def logged_in(client, department: str, username: str):
    client.force_login(department_user(department, username))
    return client


def page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def actions_offered(html: str) -> set[str]:
    names = {"accept", "reject", "confirm_arrival", "fail", "match", "post", "reverse"}
    return {name for name in names if f'<option value="{name}">' in html}


def test_each_department_is_offered_the_payment_actions_of_its_duties_only(client, case):
    accepted_payment(case, "10.00")
    assert actions_offered(page(logged_in(client, COLLECTION, "c"), PAYMENTS)) == {
        "accept",
        "reject",
    }
    assert actions_offered(page(logged_in(client, FINANCE, "f"), PAYMENTS)) == {
        "confirm_arrival",
        "fail",
    }
    html = page(logged_in(client, AUDIT, "a"), PAYMENTS)
    assert actions_offered(html) == set()
    assert "10.00" in html


def test_the_counter_records_a_payment_through_the_form(client, case):
    # given the collection department
    logged_in(client, COLLECTION, "counter")

    # when the form is posted
    response = client.post(
        reverse("admin:replenish_payment_add"),
        {
            "case_no": "AC2026-0000001",
            "amount": "300.00",
            "channel": "alipay",
            "paid_on": "2026-03-01",
            "reference": "N310101-2026-000001",
            "channel_ref": "",
        },
    )

    # then the payment is recorded by the counter clerk
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.channel, payment.state, payment.recorded_by.username) == (
        D("300.00"),
        "alipay",
        PaymentState.RECORDED,
        "counter",
    )


def test_a_bad_payment_form_shows_the_services_reason(client, case):
    logged_in(client, COLLECTION, "counter")
    html = client.post(
        reverse("admin:replenish_payment_add"),
        {"case_no": "AC2026-0000001", "amount": "300.00", "channel": "bank",
         "paid_on": "2026-03-01", "reference": "N310101-2099-000001"},
    ).content.decode()  # fmt: skip
    assert "N310101-2099-000001 is not a reference of case AC2026-0000001." in html
    assert not Payment.objects.exists()


def test_finance_cannot_open_the_payment_form(client, case):
    logged_in(client, FINANCE, "f")
    assert client.get(reverse("admin:replenish_payment_add")).status_code == 403


def test_collection_accepts_and_finance_confirms_through_the_actions(client, case):
    # given a recorded payment
    accepted = accepted_payment(case, "100.00")
    recorded = Payment.objects.create(
        case=case, payer=case.unit, amount=D("5.00"), channel="bank", paid_on=TODAY, via="counter"
    )

    # when the collection department accepts it
    logged_in(client, COLLECTION, "c")
    client.post(PAYMENTS, {"action": "accept", "_selected_action": [recorded.pk]})
    assert Payment.objects.get(pk=recorded.pk).state == PaymentState.ACCEPTED

    # when finance confirms the other one: first asked when it arrived, then confirmed
    logged_in(client, FINANCE, "f")
    form = client.post(PAYMENTS, {"action": "confirm_arrival", "_selected_action": [accepted.pk]})
    assert "When did the money arrive?" in form.content.decode()
    client.post(
        PAYMENTS,
        {"action": "confirm_arrival", "_selected_action": [accepted.pk], "apply": "1",
         "arrived_on": "2026-03-01", "arrival_ref": "BK-1"},
    )  # fmt: skip

    # then
    assert Payment.objects.get(pk=accepted.pk).state == PaymentState.ARRIVED
    assert Arrival.objects.values_list("arrival_ref", "state", "case_id").get() == (
        "BK-1",
        ArrivalState.MATCHED,
        case.pk,
    )


def upload(client, rows, name="bank-0301.csv"):
    data = arrivals_csv(rows).getvalue()
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data, "text/csv")})


def test_the_import_previews_what_will_be_matched_posted_or_left_then_imports_on_confirm(
    client, case, settings, tmp_path
):
    # given finance, and a file with a matched, an unmatched and a re-sent row
    settings.MEDIA_ROOT = tmp_path
    import_arrivals([ArrivalRowFactory(arrival_ref="OLD", unit_no=2, amount="1.00")])
    logged_in(client, FINANCE, "cashier")
    rows = [
        ArrivalRowFactory(arrival_ref="R1", unit_no=1, amount="5000.00",
                          reference="N310101-2026-000001", arrived_on=str(TODAY)),
        ArrivalRowFactory(arrival_ref="R2", unit_no=9, amount="5.00", arrived_on=str(TODAY)),
        ArrivalRowFactory(arrival_ref="OLD", unit_no=2, amount="1.00"),
    ]  # fmt: skip
    before = all_table_counts()

    # when the file is uploaded
    response = upload(client, rows)

    # then the preview shows each row's fate, and nothing is written yet
    html = response.content.decode()
    assert response.status_code == 200
    assert "3 rows: 2 arrivals received (1 matched, 1 unmatched), 1 already received" in html
    assert "N310101-2026-000001" in html
    assert "settles the case" in html
    assert "unmatched: waits for finance" in html
    assert "already received: posts nothing" in html
    assert all_table_counts() == before

    # when confirmed
    token = client.session["arrival_import"]["token"]
    response = client.post(IMPORT, {"confirm": "1", "token": token})

    # then imported, and the uploaded file is gone
    assert response.status_code == 302
    assert set(Arrival.objects.values_list("arrival_ref", "state")) == {
        ("OLD", ArrivalState.MATCHED),
        ("R1", ArrivalState.MATCHED),
        ("R2", ArrivalState.UNMATCHED),
    }
    assert list(tmp_path.rglob("*.*")) == []
    # and confirming twice does nothing more
    assert client.post(IMPORT, {"confirm": "1", "token": token}).status_code == 302
    assert Arrival.objects.count() == 3


def test_a_rejected_file_lists_its_bad_rows_and_offers_no_confirm(client, case, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    logged_in(client, FINANCE, "cashier")
    html = upload(
        client, [ArrivalRowFactory(amount="1.001"), ArrivalRowFactory(channel="cash")]
    ).content.decode()
    assert "nothing was written" in html
    assert "line 2: amount: &#x27;1.001&#x27; has more than 2 decimals" in html
    assert "line 3: channel: &#x27;cash&#x27; is not a channel" in html
    assert 'name="confirm"' not in html
    assert not Arrival.objects.exists()
    assert list(tmp_path.rglob("*.*")) == []


def test_only_finance_may_import_and_only_collection_may_post(client, case):
    logged_in(client, COLLECTION, "c")
    assert client.get(IMPORT).status_code == 403
    assert client.get(ADJUST).status_code == 200
    logged_in(client, FINANCE, "f")
    assert client.get(IMPORT).status_code == 200
    assert client.get(ADJUST).status_code == 403
    logged_in(client, AUDIT, "a")
    assert client.get(IMPORT).status_code == 403
    assert client.get(ADJUST).status_code == 403


def test_finance_resolves_the_unmatched_queue_by_choosing_the_case(client, case):
    # given an unmatched arrival
    import_arrivals([ArrivalRowFactory(arrival_ref="LOST", unit_no=9)])
    logged_in(client, FINANCE, "cashier")

    # when the queue is listed
    html = page(client, ARRIVALS, state__exact="unmatched")
    assert "LOST" in html
    assert "the payer is not a known unit" in html
    assert actions_offered(html) == {"match", "reverse"}

    # when finance matches it to unit 2's case
    lost = Arrival.objects.get()
    client.post(
        ARRIVALS,
        {"action": "match", "_selected_action": [lost.pk], "apply": "1",
         "case_no": "AC2026-0000002", "reason": "phoned the payer"},
    )  # fmt: skip

    # then
    assert Arrival.objects.values_list("state", "case__case_no").get() == (
        ArrivalState.MATCHED,
        "AC2026-0000002",
    )


def test_collection_posts_the_adjustments_and_sees_the_report(client, case):
    # given money for unit 2, beyond its debt, arrived by today
    import_arrivals([ArrivalRowFactory(arrival_ref="R1", unit_no=2, amount="5000.00")])
    logged_in(client, COLLECTION, "c")
    assert "1 matched arrival" in page(client, ADJUST) or "1 matched arrivals" in page(
        client, ADJUST
    )

    # when
    html = client.post(ADJUST).content.decode()

    # then the report lists it, the case is settled and the rest is credit
    assert "1 arrival(s) posted" in html
    assert "AC2026-0000002" in html
    assert ArrearsCase.objects.get(case_no="AC2026-0000002").state == CaseState.SETTLED
    assert CreditEntry.objects.get().amount > 0


def test_the_arrival_page_shows_its_audit_trail(client, case):
    import_arrivals([ArrivalRowFactory(arrival_ref="R1", unit_no=2)])
    arrivals_post(actor=SYSTEM)
    logged_in(client, AUDIT, "a")
    html = page(client, reverse("admin:replenish_arrival_change", args=[Arrival.objects.get().pk]))
    assert "R1" in html
    assert "adjustment: posted to the ledger" in html
    assert "matched by the reference quoted" not in html  # it was matched by payer
    assert "matched to the payer&#x27;s single open case" in html


def test_the_arrival_list_runs_the_same_queries_for_5_arrivals_as_for_50(client, case):
    logged_in(client, AUDIT, "a")
    import_arrivals([ArrivalRowFactory(unit_no=2) for _ in range(5)])
    client.get(ARRIVALS)
    with CaptureQueriesContext(connection) as five:
        page(client, ARRIVALS)
    import_arrivals([ArrivalRowFactory(unit_no=2) for _ in range(45)])
    with CaptureQueriesContext(connection) as fifty:
        html = page(client, ARRIVALS)
    assert html.count('class="field-arrival_ref"') == 50
    assert len(fifty) == len(five)


def test_every_money_page_shows_its_figures_to_a_superuser(staff_client, case):
    # given a posted overpayment from an arrivals file, and a confirmed counter payment
    import_arrivals([ArrivalRowFactory(arrival_ref="R1", unit_no=2, amount="1100.00")])
    arrivals_post(actor=SYSTEM)
    payment = accepted_payment(case, "12.34", channel_ref="WX-77")
    arrival = Arrival.objects.get()
    credit = CreditEntry.objects.get()

    # when / then each list and page shows what it is about
    pages = {
        PAYMENTS: ["12.34", "AC2026-0000001"],
        reverse("admin:replenish_payment_change", args=[payment.pk]): ["WX-77", "accept"],
        reverse("admin:replenish_payment_add"): ['name="case_no"'],
        ARRIVALS: ["R1", "1022.50", "77.50"],
        reverse("admin:replenish_arrival_change", args=[arrival.pk]): ["R1", "1022.50"],
        reverse("admin:replenish_arrivalimport_changelist"): ["arrivals.csv"],
        reverse("admin:replenish_creditentry_changelist"): ["77.50", "R1"],
        reverse("admin:replenish_creditentry_change", args=[credit.pk]): ["77.50"],
        IMPORT: ['type="file"'],
        ADJUST: ["0 matched arrivals"],
    }
    for url, expected in pages.items():
        html = page(staff_client, url)
        for text in expected:
            assert text in html, (url, text)


def test_finance_confirms_an_arrival_seeing_the_unit_case_and_amount_and_is_told_what_happened(
    client,
):
    # given a payment accepted by collection
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = ArrearsCase.objects.get()
    payment = accepted_payment(case, "300.00")
    client.force_login(department_user(FINANCE))
    url = reverse("admin:replenish_payment_changelist")
    chosen = {"action": "confirm_arrival", "_selected_action": [payment.pk]}

    # when finance opens the confirmation
    form = client.post(url, chosen, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then it names the unit, the case and the amount
    assert f"payment of 300.00 yuan by {case.unit.name} for case {case.case_no}" in form

    # when it confirms, the message says what was done, with the figures
    response = client.post(
        url,
        {**chosen, "apply": "1", "arrived_on": "2026-03-05", "arrival_ref": ""},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = [str(m) for m in response.context["messages"]]
    assert any("1 done: payment of 300.00 yuan by" in t and case.case_no in t for t in text), text
