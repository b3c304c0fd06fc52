"""`case_issue_notice` under real concurrency: each thread has its own PostgreSQL connection."""

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from notices.models import Notice
from notices.services import case_issue_notice
from replenish.models import ArrearsCase, AuditEntry, CaseState, NumberSequence
from replenish.services.ledger import ledger_differences
from tests.factories import SYSTEM, ArrearsRowFactory, import_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ISSUED_ON = date(2026, 3, 2)


def at_once(case_ids: list[int]) -> list[object]:
    """Issue a notice for each case, each in its own thread, released together by a barrier.

    Returns what each call returned or raised, in the order of `case_ids`.
    """
    barrier = threading.Barrier(len(case_ids))
    outcomes: list[object] = [None] * len(case_ids)

    def issue(index: int, case_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = case_issue_notice(case_id=case_id, actor=SYSTEM, issued_on=ISSUED_ON)
        except Exception as exc:  # the test inspects it
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=issue, args=(i, case_id)) for i, case_id in enumerate(case_ids)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_two_issuers_of_the_same_case_make_one_notice_and_one_clear_refusal():
    # given a registered case
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = ArrearsCase.objects.get()

    # when two clerks issue its notice at the same moment
    outcomes = at_once([case.pk, case.pk])

    # then one notice was issued and the other call was refused because the case is notified
    notices = [o for o in outcomes if isinstance(o, Notice)]
    refusals = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(notices), len(refusals)) == (1, 1), outcomes
    # (in Chinese, the default language: the threads have no language activated)
    assert refusals[0].messages == [
        "案件 AC2026-0000001 的状态为“已通知”：只有已登记或已逾期的案件才能下达通知单。"
    ]
    assert list(Notice.objects.values_list("number", "state")) == [
        ("N310101-2026-000001", "issued")
    ]
    assert NumberSequence.objects.get(scope="notice:310101:2026").last_value == 1
    assert ArrearsCase.objects.get().state == CaseState.NOTIFIED
    assert AuditEntry.objects.filter(transition="issue_notice").count() == 1
    assert ledger_differences() == []


def test_four_issuers_in_one_region_get_four_consecutive_numbers():
    # given four registered cases of one region, and no notice number taken yet
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in range(1, 5)])
    case_ids = list(ArrearsCase.objects.order_by("pk").values_list("pk", flat=True))

    # when all four are issued at the same moment
    outcomes = at_once(case_ids)

    # then every call succeeded, with distinct numbers and no gap
    assert all(isinstance(o, Notice) for o in outcomes), outcomes
    assert sorted(o.number for o in outcomes) == [f"N310101-2026-{n:06d}" for n in range(1, 5)]
    assert sorted(Notice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4]
    assert NumberSequence.objects.get(scope="notice:310101:2026").last_value == 4
    assert set(ArrearsCase.objects.values_list("state", flat=True)) == {CaseState.NOTIFIED}
    assert ledger_differences() == []
