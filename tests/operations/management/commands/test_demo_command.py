"""`manage.py demo`: demo data through the product's services, safe to run twice."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from notices.models import CURRENT_NOTICE_STATES, Notice
from replenish.departments import DEPARTMENTS
from replenish.models import (
    Agreement,
    AgreementKind,
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalState,
    CaseState,
    Payment,
    PaymentState,
    WriteOffApplication,
    WriteOffDocument,
)
from replenish.services.ledger import ledger_differences
from tests.factories import all_table_counts

pytestmark = pytest.mark.django_db


def test_demo_runs_twice_and_leaves_cases_in_several_states_and_one_user_per_role():
    # given / when the demo is loaded twice
    call_command("demo", stdout=io.StringIO())
    after_first = all_table_counts()
    out = io.StringIO()
    call_command("demo", stdout=out)

    # then the second run added no case, line or notice
    after_second = all_table_counts()
    for label in (
        "replenish.ArrearsCase",
        "replenish.ArrearsLine",
        "notices.Notice",
        "replenish.Agreement",
        "units.UnitEvent",
        "replenish.LedgerEntry",
        "replenish.Payment",
        "replenish.Arrival",
        "replenish.CreditEntry",
        "replenish.WriteOffApplication",
        "replenish.WriteOffDocument",
    ):
        assert after_second[label] == after_first[label], label
    imported = ArrearsLine.objects.filter(source_line__isnull=True).count()
    assert out.getvalue().startswith(f"demo arrears: 0 lines imported, {imported} already there\n")

    # and there are cases registered, notified and overdue, each notified or overdue one with
    # its current notice, and every role can log in
    states = set(ArrearsCase.objects.values_list("state", flat=True))
    assert {CaseState.REGISTERED, CaseState.NOTIFIED, CaseState.OVERDUE} <= states
    assert (
        Notice.objects.filter(state__in=CURRENT_NOTICE_STATES).count()
        == ArrearsCase.objects.filter(
            state__in=[CaseState.NOTIFIED, CaseState.OVERDUE, CaseState.SETTLED]
        ).count()
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
    assert users["finance"].has_perm("replenish.confirm_arrival")
    assert not users["auditor"].has_perm("replenish.add_payment")
    staff = [u for name, u in users.items() if name != "unit"]
    assert {g.name for u in staff for g in u.groups.all()} == set(DEPARTMENTS)
    # and the unit user acts in the portal for a notified unit
    assert users["unit"].portal_membership.unit.cases.exclude(state=CaseState.REGISTERED).exists()
    assert users["collector"].check_password("demo-collector")
    # and one signed agreement of each kind, each with the counterparty its kind calls for
    kinds = {}
    for agreement in Agreement.objects.select_related("counterparty").order_by("number"):
        kinds.setdefault(agreement.kind, []).append((agreement.state, agreement.counterparty.kind))
    assert kinds == {
        AgreementKind.INSTALLMENT: [("in_force", "unit")],
        AgreementKind.MERGER: [("in_force", "merging_party")],
        AgreementKind.SPLIT: [("in_force", "separated_party")] * 3,
        AgreementKind.LIQUIDATION: [("in_force", "liquidation_group")],
        AgreementKind.AUCTION: [("in_force", "competent_authority")],
    }
    assert users["collector"].has_perm("units.record_unitevent")
    # and money in every stage: payments recorded, accepted and arrived, an arrival posted in
    # part, one waiting for finance, and one case settled by its payment
    assert set(Payment.objects.values_list("state", flat=True)) == {
        PaymentState.RECORDED,
        PaymentState.ACCEPTED,
        PaymentState.ARRIVED,
    }
    assert set(Arrival.objects.values_list("state", flat=True)) == {
        ArrivalState.POSTED,
        ArrivalState.UNMATCHED,
    }
    assert ArrearsCase.objects.filter(state=CaseState.SETTLED).count() == 1
    # and two write-offs with their five documents: one waiting in audit, one approved and posted
    assert sorted(WriteOffApplication.objects.values_list("state", "case__state")) == [
        ("accepted", "writeoff"),
        ("posted", "written_off"),
    ]
    assert WriteOffDocument.objects.count() == 10
    assert ledger_differences() == []
    check = io.StringIO()
    call_command("check_ledger", stdout=check)
    assert check.getvalue() == "ledger and cached figures agree\n"
