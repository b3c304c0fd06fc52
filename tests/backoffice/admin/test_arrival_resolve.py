"""Finance resolves an unmatched arrival on a page with its facts: the amount, the payer, the
reference quoted and the candidate cases with what each owes today, chosen by a click."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.services import case_issue_notice
from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsCase, Arrival, ArrivalState, CaseState
from replenish.selectors import case_owed
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    department_user,
    import_arrivals,
    import_rows,
    table_counts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def unmatched():
    """Unit 1 has two open cases (one notified, one registered since); it paid 1,500.00 quoting
    its notice number with two digits swapped, so nothing matched."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    notified = ArrearsCase.objects.get()
    notice = case_issue_notice(case_id=notified.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    import_rows([ArrearsRowFactory(unit_no=1, person_no=2, period="2026-01")])
    quoted = notice.number[:-2] + notice.number[-1] + notice.number[-2]
    assert quoted != notice.number
    import_arrivals(
        [ArrivalRowFactory(unit_no=1, amount="1500.00", reference=quoted, arrived_on="2026-03-05")],
        today=date(2026, 3, 6),
    )
    arrival = Arrival.objects.get()
    assert arrival.state == ArrivalState.UNMATCHED
    return arrival, notified, notice


def test_the_page_shows_the_arrival_and_its_candidates_with_what_each_owes(client, unmatched):
    # given
    arrival, notified, notice = unmatched
    client.force_login(department_user(FINANCE))
    today = timezone.localdate()

    # when finance opens the decision from the unmatched list
    listing = client.get(
        reverse("admin:replenish_arrival_changelist"), {"state__exact": "unmatched"}
    ).content.decode()
    url = reverse("admin:replenish_arrival_resolve", args=[arrival.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    # then the amount, the payer and the quoted reference are shown, and both open cases of
    # the payer, each with what it owes today; the notified case also as the close number
    assert url in listing
    assert '<dd id="arrival-amount">1,500.00</dd>' in html
    assert arrival.payer_uscc in html and "单位1有限公司" in html
    assert arrival.reference in html
    rows = html.split('<tr class="candidate"')[1:]
    assert len(rows) == 2
    for case in ArrearsCase.objects.filter(state__in=[CaseState.NOTIFIED, CaseState.REGISTERED]):
        row = next(r for r in rows if f'data-case="{case.case_no}"' in r)
        assert f'<td class="num">{case_owed(case.pk, as_of=today).total:,.2f}</td>' in row
    notified_row = next(r for r in rows if f'data-case="{notified.case_no}"' in r)
    assert f"通知单 {notice.number} 与缴款时填写的 {arrival.reference} 相近" in notified_row


def test_a_click_matches_the_arrival_and_says_what_happened_with_numbers(client, unmatched):
    # given
    arrival, notified, _notice = unmatched
    client.force_login(department_user(FINANCE))
    url = reverse("admin:replenish_arrival_resolve", args=[arrival.pk])

    # when finance chooses the notified case
    response = client.post(url, {"case": notified.pk}, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    # then the arrival is matched to it and the message gives the figures
    arrival.refresh_from_db()
    assert (arrival.state, arrival.case_id) == (ArrivalState.MATCHED, notified.pk)
    owed = case_owed(notified.pk, as_of=timezone.localdate()).total
    text = [str(m) for m in response.context["messages"]]
    assert text == [
        f"Arrival {arrival.arrival_ref} of 1,500.00 yuan matched to case {notified.case_no}, "
        f"which owes {owed:,.2f} yuan today; the next adjustment posts it."
    ]


def test_collection_may_not_match_and_nothing_changes(client, unmatched):
    # given
    arrival, notified, _notice = unmatched
    client.force_login(department_user(COLLECTION))
    before = table_counts()

    # when
    url = reverse("admin:replenish_arrival_resolve", args=[arrival.pk])
    response = client.post(url, {"case": notified.pk}, follow=True)

    # then
    arrival.refresh_from_db()
    assert arrival.state == ArrivalState.UNMATCHED
    assert table_counts() == before
    assert response.status_code == 200
