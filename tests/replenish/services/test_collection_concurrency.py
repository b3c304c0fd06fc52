"""Posting, importing and reversing arrivals under real concurrency: each thread has its own
PostgreSQL connection, and they are released together by a barrier."""

import threading
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from django.db import connections

from replenish.models import (
    ArrearsCase,
    Arrival,
    ArrivalState,
    AuditEntry,
    CaseState,
    CreditEntry,
    LedgerEntry,
    LedgerKind,
)
from replenish.services.adjustment import adjustments_post
from replenish.services.arrival import PostedArrival, arrival_post, arrival_reverse
from replenish.services.ledger import ledger_differences
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    generated_rows,
    import_arrivals,
    import_rows,
)
from units.samples import sample_uscc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread and connection, all released together; return what each
    returned or raised, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # the test inspects it
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.fixture
def overpaid():
    """Unit 1 owes 1,022.50 on 2026-03-01 and 1,100.00 arrived that day."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    import_arrivals([ArrivalRowFactory(arrival_ref="A1", unit_no=1, amount="1100.00")])
    return Arrival.objects.get()


def applied_once(arrival: Arrival) -> None:
    source = f"arrival:{arrival.pk}"
    assert list(
        LedgerEntry.objects.filter(source=source).order_by("id").values_list("kind", flat=True)
    ) == [LedgerKind.LATE_FEE_FIXED, LedgerKind.PAYMENT_APPLIED]
    assert list(CreditEntry.objects.values_list("amount", flat=True)) == [D("77.50")]
    assert AuditEntry.objects.filter(subject="arrival", transition="post").count() == 1
    assert AuditEntry.objects.filter(transition="settle").count() == 1
    case = ArrearsCase.objects.get()
    assert (case.state, case.paid_total) == (CaseState.SETTLED, D("1022.50"))
    assert ledger_differences() == []


def test_the_same_arrival_posted_by_two_processes_at_once_is_applied_once(overpaid):
    # when two clerks post the arrival at the same moment
    outcomes = at_once(
        lambda: arrival_post(arrival_id=overpaid.pk, actor=SYSTEM),
        lambda: arrival_post(arrival_id=overpaid.pk, actor=SYSTEM),
    )

    # then one posted it and the other found nothing left to do
    posted = [o for o in outcomes if isinstance(o, PostedArrival)]
    assert len(posted) == 1 and outcomes.count(None) == 1, outcomes
    assert (posted[0].applied, posted[0].credit, posted[0].settled) == (
        D("1022.50"),
        D("77.50"),
        True,
    )
    applied_once(overpaid)


def test_two_adjustment_runs_at_once_post_each_arrival_once():
    # given 30 cases, each paid twice
    import_rows(generated_rows(30, first_unit=1, persons_per_unit=1))
    import_arrivals(
        ArrivalRowFactory(payer_uscc=sample_uscc(n), amount=amount)
        for n in range(1, 31)
        for amount in ("100.00", "5000.00")
    )

    # when the daily run and a clerk post the adjustments at the same moment
    outcomes = at_once(
        lambda: adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY),
        lambda: adjustments_post(actor=SYSTEM, as_of=IMPORT_DAY),
    )

    # then between them every arrival was posted exactly once
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    refs = [a.arrival_ref for report in outcomes for a in report.arrivals]
    assert sorted(refs) == sorted(Arrival.objects.values_list("arrival_ref", flat=True))
    assert set(Arrival.objects.values_list("state", flat=True)) == {ArrivalState.POSTED}
    assert LedgerEntry.objects.filter(kind=LedgerKind.PAYMENT_APPLIED).count() == 60
    assert CreditEntry.objects.count() == 30
    assert set(ArrearsCase.objects.values_list("state", flat=True)) == {CaseState.SETTLED}
    assert ledger_differences() == []


def test_the_same_file_imported_by_two_processes_at_once_is_received_once():
    # given
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    rows = [ArrivalRowFactory(unit_no=1) for _ in range(50)]

    # when finance's file arrives twice at the same moment
    outcomes = at_once(lambda: import_arrivals(rows), lambda: import_arrivals(rows))

    # then the unique arrival_ref let each arrival in once
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(o.received for o in outcomes) == [0, 50]
    assert Arrival.objects.count() == 50
    assert AuditEntry.objects.filter(subject="arrival").count() == 50


def test_a_reversal_and_a_posting_at_once_leave_the_case_owing_what_it_did(overpaid):
    # when finance reverses the arrival while the adjustment posts it
    outcomes = at_once(
        lambda: arrival_reverse(
            arrival_id=overpaid.pk, reason="recalled", actor=SYSTEM, on=IMPORT_DAY
        ),
        lambda: arrival_post(arrival_id=overpaid.pk, actor=SYSTEM),
    )

    # then whichever came first, the money counts for nothing and the books agree
    assert not isinstance(outcomes[0], Exception), outcomes
    assert Arrival.objects.get().state == ArrivalState.REVERSED
    case = ArrearsCase.objects.get()
    assert case.state == CaseState.REGISTERED
    assert case.paid_total == 0
    assert case.principal_unpaid == D("1000.00")
    assert sum(CreditEntry.objects.values_list("amount", flat=True)) == 0
    assert ledger_differences() == []
