"""The departments and their duties: groups made by migrations 0006 and 0008, and the permission
matrix — for every collection and write-off service and every department, who may and who may not.

To add services (the write-off's), add their module to SERVICE_MODULES, a `Duty` per service to
MATRIX with who may call it, and what it needs to the `World`.
"""

import inspect
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from notices.services import case_issue_notice
from replenish import departments
from replenish.departments import AUDIT, COLLECTION, DEPARTMENTS, FINANCE
from replenish.models import (
    ArrearsLine,
    Arrival,
    ArrivalState,
    CreditRefund,
    LineCorrection,
    Payment,
    PaymentState,
    WriteOffApplication,
)
from replenish.services import (
    adjustment,
    arrival,
    arrivals_import,
    corrections,
    credit,
    payment,
    writeoff,
)
from replenish.services.adjustment import adjustments_post
from replenish.services.arrival import (
    arrival_confirm,
    arrival_fail,
    arrival_match,
    arrival_post,
    arrival_reverse,
    arrivals_post,
)
from replenish.services.corrections import (
    correction_approve,
    correction_record,
    correction_reject,
    corrections_import,
)
from replenish.services.credit import (
    credit_offset,
    credits_offset,
    refund_apply,
    refund_approve,
    refund_pay,
    refund_reject,
    refund_withdraw,
)
from replenish.services.payment import payment_accept, payment_record, payment_reject
from replenish.services.writeoff import (
    writeoff_accept,
    writeoff_approve,
    writeoff_post,
    writeoff_reject,
    writeoff_resubmit,
    writeoff_return,
    writeoff_submit,
    writeoff_withdraw,
    writeoffs_post,
)
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    UserFactory,
    accepted_payment,
    all_table_counts,
    case_of,
    department_user,
    go_bankrupt,
    import_arrivals,
    import_rows,
    submitted_writeoff,
    writeoff_uploads,
)
from units.samples import sample_id_number, sample_uscc

pytestmark = pytest.mark.django_db
NOBODY = "no department"
SERVICE_MODULES = (payment, arrival, arrivals_import, adjustment, writeoff, corrections, credit)


def test_each_department_is_a_group_with_exactly_its_duties():
    # given the groups migration 0005 made
    groups = {
        g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()}
        for g in Group.objects.prefetch_related("permissions__content_type")
    }

    # then they are the three departments, each with the permissions of its duties
    assert {name: groups.get(name) for name in DEPARTMENTS} == {
        name: set(perms) for name, perms in departments.DUTIES.items()
    }


def test_the_duties_keep_money_and_supervision_apart():
    duties = departments.DUTIES
    assert "replenish.add_payment" in duties[COLLECTION]
    assert "replenish.confirm_arrival" not in duties[COLLECTION]
    assert "replenish.confirm_arrival" in duties[FINANCE]
    assert {"replenish.add_payment", "replenish.decide_writeoff"}.isdisjoint(duties[FINANCE])
    assert {
        "replenish.add_payment",
        "replenish.accept_payment",
        "replenish.confirm_arrival",
        "replenish.add_arrival",
        "replenish.post_arrival",
        "replenish.reverse_arrival",
    }.isdisjoint(duties[AUDIT])
    assert "replenish.decide_writeoff" in duties[AUDIT]


# --- the permission matrix --------------------------------------------------------------------


class World:
    """What the services act on: a notified case of unit 1 with a payment recorded, one accepted,
    an arrival matched, one unmatched and one posted."""

    def __init__(self):
        import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
        self.case = case_of(sample_uscc(1))
        case_issue_notice(case_id=self.case.pk, actor=SYSTEM, issued_on=date(2026, 2, 2))
        self.recorded = payment_record(
            case_id=self.case.pk,
            amount=D("10.00"),
            channel="counter",
            paid_on=IMPORT_DAY,
            actor=SYSTEM,
            today=IMPORT_DAY,
        )
        self.accepted = accepted_payment(self.case, "20.00")
        import_arrivals(
            [
                ArrivalRowFactory(arrival_ref="POSTED", unit_no=1, amount="1.00"),
                ArrivalRowFactory(arrival_ref="UNMATCHED", unit_no=9),
            ]
        )
        arrivals_post(actor=SYSTEM)
        import_arrivals([ArrivalRowFactory(arrival_ref="MATCHED", unit_no=1, amount="2.00")])
        self.arrivals = {a.arrival_ref: a for a in Arrival.objects.all()}
        # Bankrupt units 2 to 6: one case without an application, then one application in each
        # state a service acts on.
        import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in range(2, 7)])
        bankrupt = [go_bankrupt(case_of(sample_uscc(n))) for n in range(2, 7)]
        self.bankrupt_case = bankrupt[0]
        submitted, returned, accepted, approved = (submitted_writeoff(c) for c in bankrupt[1:])
        self.writeoff = {"submitted": submitted}
        self.writeoff["returned"] = writeoff_return(
            application_id=returned.pk, reason="缺件", actor=SYSTEM
        )
        self.writeoff["accepted"] = writeoff_accept(application_id=accepted.pk, actor=SYSTEM)
        writeoff_accept(application_id=approved.pk, actor=SYSTEM)
        self.writeoff["approved"] = writeoff_approve(
            application_id=approved.pk, actor=department_user(AUDIT, "approver"), today=IMPORT_DAY
        )
        # Unit 7 overpaid its case by 477.50 and owes a new one; two refund applications of 100.00,
        # one applied for, one approved.
        import_rows([ArrearsRowFactory(unit_no=7, person_no=7)])
        import_arrivals([ArrivalRowFactory(arrival_ref="OVER", unit_no=7, amount="1500.00")])
        arrivals_post(actor=SYSTEM, arrival_ids=[Arrival.objects.get(arrival_ref="OVER").pk])
        import_rows([ArrearsRowFactory(unit_no=7, person_no=8, period="2026-01")])
        self.credit_unit = case_of(sample_uscc(7)).unit_id
        self.refund = {
            state: refund_apply(
                unit_id=self.credit_unit, amount=D("100.00"), account_name="单位7",
                account_bank="工商银行", account_no="6222", actor=SYSTEM,
            )
            for state in ("applied", "approved")
        }  # fmt: skip
        refund_approve(refund_id=self.refund["approved"].pk, actor=SYSTEM)

        # A correction of the case's line, recorded by another collection user.
        self.line = ArrearsLine.objects.get(case=self.case)
        self.correction = correction_record(
            line_id=self.line.pk,
            employer_amount=D("700.00"),
            employee_amount=D("200.00"),
            reason="核定错误",
            document_ref="稽核通知书 17",
            actor=department_user(COLLECTION, "recorder"),
        )

    def arrival(self, ref: str) -> int:
        return self.arrivals[ref].pk


@dataclass(frozen=True)
class Duty:
    service: Callable
    departments: frozenset[str]
    call: Callable[[World, object], object]

    def __str__(self) -> str:
        return self.service.__name__


MATRIX = [
    Duty(
        payment_record,
        frozenset({COLLECTION}),
        lambda w, actor: payment_record(
            case_id=w.case.pk, amount=D("5.00"), channel="bank", paid_on=IMPORT_DAY,
            actor=actor, today=IMPORT_DAY,
        ),
    ),
    Duty(
        payment_accept,
        frozenset({COLLECTION}),
        lambda w, actor: payment_accept(payment_id=w.recorded.pk, actor=actor),
    ),
    Duty(
        payment_reject,
        frozenset({COLLECTION}),
        lambda w, actor: payment_reject(payment_id=w.recorded.pk, reason="dup", actor=actor),
    ),
    Duty(
        arrival_confirm,
        frozenset({FINANCE}),
        lambda w, actor: arrival_confirm(
            payment_id=w.accepted.pk, arrived_on=IMPORT_DAY, actor=actor, today=IMPORT_DAY
        ),
    ),
    Duty(
        arrival_fail,
        frozenset({FINANCE}),
        lambda w, actor: arrival_fail(payment_id=w.accepted.pk, reason="returned", actor=actor),
    ),
    Duty(
        arrivals_import.arrivals_import,
        frozenset({FINANCE}),
        lambda w, actor: import_arrivals([ArrivalRowFactory(unit_no=1)], actor=actor),
    ),
    Duty(
        arrival_match,
        frozenset({FINANCE}),
        lambda w, actor: arrival_match(
            arrival_id=w.arrival("UNMATCHED"), case_id=w.case.pk, actor=actor
        ),
    ),
    Duty(
        arrival_reverse,
        frozenset({FINANCE}),
        lambda w, actor: arrival_reverse(
            arrival_id=w.arrival("POSTED"), reason="wrong", actor=actor, on=IMPORT_DAY
        ),
    ),
    Duty(
        arrival_post,
        frozenset({COLLECTION}),
        lambda w, actor: arrival_post(arrival_id=w.arrival("MATCHED"), actor=actor),
    ),
    Duty(
        arrivals_post,
        frozenset({COLLECTION}),
        lambda w, actor: arrivals_post(actor=actor),
    ),
    Duty(
        adjustments_post,
        frozenset({COLLECTION}),
        lambda w, actor: adjustments_post(actor=actor, as_of=IMPORT_DAY),
    ),
    Duty(
        writeoff_submit,
        frozenset({COLLECTION}),
        lambda w, actor: writeoff_submit(
            case_id=w.bankrupt_case.pk, documents=writeoff_uploads(), actor=actor
        ),
    ),
    Duty(
        writeoff_resubmit,
        frozenset({COLLECTION}),
        lambda w, actor: writeoff_resubmit(
            application_id=w.writeoff["returned"].pk, documents=writeoff_uploads(), actor=actor
        ),
    ),
    Duty(
        writeoff_accept,
        frozenset({COLLECTION}),
        lambda w, actor: writeoff_accept(application_id=w.writeoff["submitted"].pk, actor=actor),
    ),
    Duty(
        writeoff_return,
        frozenset({COLLECTION}),
        lambda w, actor: writeoff_return(
            application_id=w.writeoff["submitted"].pk, reason="缺件", actor=actor
        ),
    ),
    Duty(
        writeoff_withdraw,
        frozenset({COLLECTION}),
        lambda w, actor: writeoff_withdraw(application_id=w.writeoff["returned"].pk, actor=actor),
    ),
    Duty(
        writeoff_approve,
        frozenset({AUDIT}),
        lambda w, actor: writeoff_approve(
            application_id=w.writeoff["accepted"].pk, actor=actor, today=IMPORT_DAY
        ),
    ),
    Duty(
        writeoff_reject,
        frozenset({AUDIT}),
        lambda w, actor: writeoff_reject(
            application_id=w.writeoff["accepted"].pk, reason="有财产", actor=actor
        ),
    ),
    Duty(
        writeoff_post,
        frozenset({COLLECTION}),
        lambda w, actor: writeoff_post(application_id=w.writeoff["approved"].pk, actor=actor),
    ),
    Duty(
        writeoffs_post,
        frozenset({COLLECTION}),
        lambda w, actor: writeoffs_post(actor=actor),
    ),
    Duty(
        correction_record,
        frozenset({COLLECTION}),
        lambda w, actor: correction_record(
            line_id=ArrearsLine.objects.get(case=w.bankrupt_case).pk,
            employer_amount=D("1.00"), employee_amount=D("1.00"), reason="错", document_ref="17",
            actor=actor,
        ),
    ),
    Duty(
        correction_approve,
        frozenset({COLLECTION}),
        lambda w, actor: correction_approve(correction_id=w.correction.pk, actor=actor),
    ),
    Duty(
        correction_reject,
        frozenset({COLLECTION}),
        lambda w, actor: correction_reject(
            correction_id=w.correction.pk, reason="不符", actor=actor
        ),
    ),
    Duty(
        corrections_import,
        frozenset({COLLECTION}),
        lambda w, actor: corrections_import(
            file=io.BytesIO(
                (
                    "unit_uscc,period,id_number,employer_amount,employee_amount,reason\n"
                    f"{w.bankrupt_case.unit.uscc},2025-12,"
                    f"{sample_id_number(2, region_code='110101')},1.00,1.00,错\n"
                ).encode()
            ),
            file_name="c.csv",
            actor=actor,
        ),
    ),
    Duty(
        credit_offset,
        frozenset({COLLECTION}),
        lambda w, actor: credit_offset(unit_id=w.credit_unit, actor=actor, on=IMPORT_DAY),
    ),
    Duty(
        credits_offset,
        frozenset({COLLECTION}),
        lambda w, actor: credits_offset(actor=actor, on=IMPORT_DAY),
    ),
    Duty(
        refund_apply,
        frozenset({COLLECTION}),
        lambda w, actor: refund_apply(
            unit_id=w.credit_unit, amount=D("10.00"), account_name="单位7",
            account_bank="工商银行", account_no="6222", actor=actor,
        ),
    ),
    Duty(
        refund_withdraw,
        frozenset({COLLECTION}),
        lambda w, actor: refund_withdraw(refund_id=w.refund["applied"].pk, actor=actor),
    ),
    Duty(
        refund_approve,
        frozenset({FINANCE}),
        lambda w, actor: refund_approve(refund_id=w.refund["applied"].pk, actor=actor),
    ),
    Duty(
        refund_reject,
        frozenset({FINANCE}),
        lambda w, actor: refund_reject(
            refund_id=w.refund["applied"].pk, reason="账户不符", actor=actor
        ),
    ),
    Duty(
        refund_pay,
        frozenset({FINANCE}),
        lambda w, actor: refund_pay(
            refund_id=w.refund["approved"].pk, paid_on=IMPORT_DAY, payout_ref="OUT-1",
            actor=actor, today=IMPORT_DAY,
        ),
    ),
]  # fmt: skip


def snapshot() -> tuple:
    return (
        all_table_counts(),
        sorted(Payment.objects.values_list("pk", "state")),
        sorted(Arrival.objects.values_list("pk", "state", "case_id")),
        sorted(WriteOffApplication.objects.values_list("pk", "state")),
        sorted(LineCorrection.objects.values_list("pk", "state")),
        sorted(CreditRefund.objects.values_list("pk", "state")),
    )


@pytest.mark.parametrize("department", [*DEPARTMENTS, NOBODY])
@pytest.mark.parametrize("duty", MATRIX, ids=str)
def test_who_may_and_who_may_not(duty, department):
    # given the world, and a staff user of the department (or of none)
    world = World()
    user = UserFactory(username="clerk") if department == NOBODY else department_user(department)
    before = snapshot()

    # when the service is called by that user
    if department in duty.departments:
        # then it does its work
        duty.call(world, user)
        assert snapshot() != before, f"{duty} by {department} changed nothing"
    else:
        # then it is refused, saying who may not do what, and nothing changed
        with pytest.raises(PermissionDenied) as refused:
            duty.call(world, user)
        assert str(refused.value).startswith(f"{user.get_username()} may not ")
        assert "(needs permission replenish." in str(refused.value)
        assert snapshot() == before


def test_the_matrix_covers_every_service():
    # given every service of the service modules: a public function with a keyword-only actor
    services = {
        f"{module.__name__}.{name}"
        for module in SERVICE_MODULES
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and getattr(inspect.signature(function).parameters.get("actor"), "kind", None)
        == inspect.Parameter.KEYWORD_ONLY
    }

    # then each has its row in the matrix
    assert services == {f"{d.service.__module__}.{d.service.__name__}" for d in MATRIX}


def test_finance_cannot_record_a_payment_and_collection_cannot_confirm_one():
    # given
    world = World()
    cashier, collector = department_user(FINANCE, "cashier"), department_user(COLLECTION, "clerk")

    # when / then
    with pytest.raises(PermissionDenied) as refused:
        MATRIX[0].call(world, cashier)
    assert str(refused.value) == (
        "cashier may not record a payment (needs permission replenish.add_payment)."
    )
    with pytest.raises(PermissionDenied) as refused:
        arrival_confirm(
            payment_id=world.accepted.pk, arrived_on=IMPORT_DAY, actor=collector, today=IMPORT_DAY
        )
    assert str(refused.value) == (
        "clerk may not confirm an arrival (needs permission replenish.confirm_arrival)."
    )
    assert Payment.objects.get(pk=world.accepted.pk).state == PaymentState.ACCEPTED
    assert Arrival.objects.get(arrival_ref="MATCHED").state == ArrivalState.MATCHED


def test_an_inactive_user_of_the_department_is_refused():
    world = World()
    collector = department_user(COLLECTION, "left")
    collector.is_active = False
    collector.save()
    with pytest.raises(PermissionDenied):
        payment_accept(payment_id=world.recorded.pk, actor=collector)
