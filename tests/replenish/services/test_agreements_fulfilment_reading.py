"""The fulfilment check reads what changed since its mark (`replenish.services.changes`): after its
first reading it looks only at the cases with a ledger entry or an audit entry since then, and it
misses none that became fulfilled, whatever the order of events."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from operations.daily import DAILY_ACTOR
from replenish.models import (
    Agreement,
    AgreementState,
    ArrearsCase,
    AuditEntry,
    CaseState,
    ReadingMark,
)
from replenish.services import agreements as agreements_service
from replenish.services.agreements import agreements_fulfil_due
from replenish.services.changes import (
    PROCESS_CLOCK_MARGIN,
    cases_changed_since,
    reading_mark_advance,
    reading_mark_of,
)
from replenish.services.transitions import transition_apply
from tests.factories import COLLECTOR_PERMISSIONS, UserFactory, pay
from tests.replenish.services.test_agreements_daily import sign_for_units

FULFILMENT = ReadingMark.Reader.AGREEMENT_FULFILMENT
IN_FULL = "1358.16"  # what sign_for_units's agreements come to
ON = date(2026, 3, 20)


@pytest.fixture
def officer(db):
    return UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)


def fulfil() -> list[int]:
    return agreements_fulfil_due(as_of=ON, actor=DAILY_ACTOR)


# Each step commits: on PostgreSQL an entry is recorded at its transaction's start.
@pytest.mark.django_db(transaction=True)
def test_after_its_first_reading_the_check_looks_only_at_the_cases_changed_since(officer):
    # given three agreements signed a while ago (their trail older than the margin for the
    # hosts' clocks), and a first reading that finds none fulfilled
    _first, second, _third = sign_for_units(officer, [1, 2, 3])
    AuditEntry.objects.update(at=F("at") - 2 * PROCESS_CLOCK_MARGIN)
    assert fulfil() == []
    mark = reading_mark_of(FULFILMENT)
    assert mark is not None

    # when one of them is paid in full
    pay(second.case_id, IN_FULL, on=ON)

    # then only its case changed since the mark, and the next reading fulfils it and no other
    assert list(cases_changed_since(mark, transitions=Q(pk__isnull=False))) == [second.case_id]
    with CaptureQueriesContext(connection) as queries:
        assert fulfil() == [second.pk]
    assert any("recorded_at" in q["sql"] for q in queries.captured_queries)
    assert Agreement.objects.get(pk=second.pk).state == AgreementState.FULFILLED
    assert ArrearsCase.objects.get(pk=second.case_id).state == CaseState.SETTLED
    assert {a.state for a in Agreement.objects.exclude(pk=second.pk)} == {AgreementState.IN_FORCE}
    # and the mark moved on
    assert reading_mark_of(FULFILMENT) > mark


@pytest.mark.django_db
def test_money_paid_during_a_write_off_examination_fulfils_the_agreement_once_it_ends(officer):
    # given an agreement whose case went to write-off examination and was paid in full there
    (agreement,) = sign_for_units(officer, [1])
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=agreement.case_id)
        transition_apply(case, "writeoff_submit", actor=DAILY_ACTOR, reason="清算组申请核销")
    pay(agreement.case_id, IN_FULL, on=ON)
    # and a reading while it waits for the decision, so the payment is before the mark
    assert fulfil() == []

    # when the application is withdrawn: the case is back under its agreement, no money moved
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=agreement.case_id)
        transition_apply(case, "writeoff_withdraw", actor=DAILY_ACTOR, reason="申请撤回")
    assert ArrearsCase.objects.get(pk=agreement.case_id).state == CaseState.AGREEMENT

    # then the next reading sees the case's transition and fulfils the agreement
    assert fulfil() == [agreement.pk]
    assert ArrearsCase.objects.get(pk=agreement.case_id).state == CaseState.SETTLED


@pytest.mark.django_db
def test_a_reading_that_fails_leaves_the_mark_and_the_next_one_reads_again(officer, monkeypatch):
    # given a first reading, then an agreement paid in full
    (agreement,) = sign_for_units(officer, [1])
    assert fulfil() == []
    mark = reading_mark_of(FULFILMENT)
    pay(agreement.case_id, IN_FULL, on=ON)

    # when the next reading fails while it fulfils
    def refused(*args, **kwargs):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(agreements_service, "transition_apply_bulk", refused)
        with pytest.raises(RuntimeError):
            fulfil()

    # then the mark stayed where it was, and the reading after fulfils the agreement
    assert reading_mark_of(FULFILMENT) == mark
    assert Agreement.objects.get().state == AgreementState.IN_FORCE
    assert fulfil() == [agreement.pk]


@pytest.mark.django_db
def test_a_mark_never_moves_back():
    later = timezone.now()
    reading_mark_advance(FULFILMENT, later)
    reading_mark_advance(FULFILMENT, later - timedelta(hours=1))
    assert reading_mark_of(FULFILMENT) == later
    reading_mark_advance(FULFILMENT, later + timedelta(seconds=1))
    assert reading_mark_of(FULFILMENT) == later + timedelta(seconds=1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_money_posted_by_a_transaction_open_while_the_check_reads_is_seen_by_the_next_one():
    officer = UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)
    (agreement,) = sign_for_units(officer, [1])
    assert fulfil() == []
    posted, release, failures = threading.Event(), threading.Event(), []

    def pay_and_wait():
        # an adjustment that has posted the case's money in full and not committed yet
        try:
            with transaction.atomic():
                pay(agreement.case_id, IN_FULL, on=ON)
                posted.set()
                assert release.wait(timeout=30)
        except Exception as exc:  # reported by the test below
            failures.append(exc)
            posted.set()
        finally:
            connection.close()

    payer = threading.Thread(target=pay_and_wait)
    payer.start()
    assert posted.wait(timeout=30) and not failures

    # when the check reads meanwhile, after the money's entries were recorded
    assert fulfil() == []
    release.set()
    payer.join(timeout=30)
    assert not failures and not payer.is_alive()

    # then the next reading fulfils the agreement, though its money was recorded before the
    # previous reading's mark was taken
    assert fulfil() == [agreement.pk]
