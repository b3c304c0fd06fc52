"""`manage.py demo`: demo data through the product's services, safe to run twice."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from notices.models import CURRENT_NOTICE_STATES, Notice
from replenish.models import ArrearsCase, CaseState
from replenish.services.ledger import ledger_differences
from tests.factories import table_counts

pytestmark = pytest.mark.django_db


def test_demo_runs_twice_and_leaves_cases_in_several_states_and_one_user_per_role():
    # given / when the demo is loaded twice
    call_command("demo", stdout=io.StringIO())
    after_first = table_counts()
    out = io.StringIO()
    call_command("demo", stdout=out)

    # then the second run added no case, line or notice
    after_second = table_counts()
    for label in ("replenish.ArrearsCase", "replenish.ArrearsLine", "notices.Notice"):
        assert after_second[label] == after_first[label], label
    assert out.getvalue().startswith(
        f"demo arrears: 0 lines imported, {after_first['replenish.ArrearsLine']} already there\n"
    )

    # and there are cases registered, notified and overdue, each notified or overdue one with
    # its current notice, and every role can log in
    states = set(ArrearsCase.objects.values_list("state", flat=True))
    assert {CaseState.REGISTERED, CaseState.NOTIFIED, CaseState.OVERDUE} <= states
    assert (
        Notice.objects.filter(state__in=CURRENT_NOTICE_STATES).count()
        == ArrearsCase.objects.filter(state__in=[CaseState.NOTIFIED, CaseState.OVERDUE]).count()
    )
    # the overdue ones were delivered by post, with the return receipt as proof
    assert set(
        Notice.objects.filter(case__state=CaseState.OVERDUE).values_list(
            "state", "delivery_channel"
        )
    ) == {("delivered", "post")}
    assert ArrearsCase.objects.filter(unit__uscc__startswith="N2").exists()
    users = {u.username: u for u in get_user_model().objects.all()}
    assert {"collector", "finance", "auditor", "admin", "unit"} <= set(users)
    assert users["admin"].is_superuser
    assert users["collector"].has_perm("replenish.issue_notice")
    assert not users["finance"].has_perm("replenish.decide_writeoff")
    assert users["auditor"].has_perm("replenish.decide_writeoff")
    assert users["collector"].check_password("demo-collector")
    assert ledger_differences() == []
    check = io.StringIO()
    call_command("check_ledger", stdout=check)
    assert check.getvalue() == "ledger and cached figures agree\n"
