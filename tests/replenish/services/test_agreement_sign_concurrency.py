"""`agreement_sign` under real concurrency: each thread has its own PostgreSQL connection."""

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import translation

from replenish.models import (
    Agreement,
    AgreementState,
    ArrearsCase,
    AuditEntry,
    CaseState,
    Installment,
    LedgerEntry,
)
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.ledger import ledger_differences
from tests.factories import SYSTEM, ArrearsRowFactory, import_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SIGNED_ON = date(2026, 3, 1)


def at_once(calls: int, agreement_id: int) -> list[object]:
    """Sign the same agreement in `calls` threads released together by a barrier; returns what
    each call returned or raised."""
    barrier = threading.Barrier(calls)
    outcomes: list[object] = [None] * calls

    def sign(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            with translation.override("en"):  # threads do not inherit the test's language
                outcomes[index] = agreement_sign(
                    agreement_id=agreement_id, actor=SYSTEM, signed_on=SIGNED_ON
                )
        except Exception as exc:  # the test inspects it
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_two_clerks_signing_the_same_agreement_sign_it_once():
    # given a draft agreement (1,000.00 due 2026-01-15: 22.50 fee to 2026-03-01; 3 installments)
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = ArrearsCase.objects.get()
    draft = agreement_draft(
        case_id=case.pk, installment_count=3, actor=SYSTEM, drafted_on=SIGNED_ON
    )

    # when two clerks sign it at the same moment
    outcomes = at_once(2, draft.pk)

    # then one signing happened and the other was refused because it is signed
    signed = [o for o in outcomes if isinstance(o, Agreement)]
    refusals = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(signed), len(refusals)) == (1, 1), outcomes
    assert refusals[0].messages == [
        f"Agreement {draft.number} is in force: only a draft can be signed, once."
    ]
    agreement = Agreement.objects.get()
    assert (agreement.state, agreement.total) == (AgreementState.IN_FORCE, signed[0].total)
    assert str(agreement.total) == "1022.50"
    assert Installment.objects.count() == 3
    assert LedgerEntry.objects.filter(kind="late_fee_fixed").count() == 1
    assert ArrearsCase.objects.get().state == CaseState.AGREEMENT
    assert AuditEntry.objects.filter(transition="sign").count() == 1
    assert AuditEntry.objects.filter(transition="agreement_take_effect").count() == 1
    assert ledger_differences() == []


def test_four_clerks_at_once_still_sign_it_once():
    # given
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    draft = agreement_draft(
        case_id=ArrearsCase.objects.get().pk,
        installment_count=2,
        actor=SYSTEM,
        drafted_on=SIGNED_ON,
    )

    # when
    outcomes = at_once(4, draft.pk)

    # then
    assert sum(isinstance(o, Agreement) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ValidationError) for o in outcomes) == 3, outcomes
    assert LedgerEntry.objects.filter(kind="late_fee_fixed").count() == 1
    assert Installment.objects.count() == 2
