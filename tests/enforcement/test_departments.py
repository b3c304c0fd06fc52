"""Who may do what in enforcement: the permission matrix of every service of
`enforcement.services`, for each department (and none). Collection works the dossiers and
approves a colleague's proposal; finance confirms the money; audit reads every dossier and acts
on none. The groups themselves are checked with the product's in
tests/replenish/test_departments.py (DUTIES)."""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction

from enforcement import services
from enforcement.models import BankAccount, Dossier, EnforcementDocument, FineReferral, Guarantee
from enforcement.services import (
    BankReply,
    GuaranteeGiven,
    dossier_close,
    dossier_court_approve,
    dossier_court_propose,
    dossier_court_rule,
    dossier_deferred_sign,
    dossier_demand_issue,
    dossier_document_deliver,
    dossier_fine_refer,
    dossier_guarantee_require,
    dossier_inquiry_answer,
    dossier_inquiry_send,
    dossier_money_confirm,
    dossier_open,
    dossier_proposal_refuse,
    dossier_transfer_approve,
    dossier_transfer_grant,
    dossier_transfer_notify,
    dossier_transfer_propose,
    dossiers_follow,
)
from replenish.departments import AUDIT, COLLECTION, DEPARTMENTS, FINANCE
from replenish.models import Arrival
from tests.enforcement.helpers import (
    AFTER_DEMAND,
    COURT_OPENS,
    OPENED,
    SERVED,
    Staff,
    dossier_at,
    overdue_case,
    receipt,
)
from tests.factories import (
    ArrivalRowFactory,
    UserFactory,
    all_table_counts,
    department_user,
    import_arrivals,
)

pytestmark = pytest.mark.django_db
NOBODY = "no department"
LATER = date(2026, 4, 1)


def _notified_with_money(staff):
    dossier = dossier_at("transfer_notified", staff)
    import_arrivals(
        [ArrivalRowFactory(arrival_ref="ICBC-9", arrived_on="2026-04-01", amount="1100.00",
                           reference=dossier.transfer_decision_no)],
        today=LATER,
    )  # fmt: skip
    return dossier, Arrival.objects.get(arrival_ref="ICBC-9")


def _guarantee_served(staff):
    dossier = dossier_at("guarantee_required", staff)
    dossier_document_deliver(
        document_id=dossier.documents.get(kind="guarantee").pk, channel="post",
        delivered_on=AFTER_DEMAND, proof=receipt(), actor=staff.clerk, today=AFTER_DEMAND,
    )  # fmt: skip
    return dossier


@dataclass(frozen=True)
class Duty:
    service: Callable
    departments: frozenset[str]
    given: Callable[[Staff], object]
    call: Callable[[object, object], object]

    def __str__(self) -> str:
        return self.service.__name__


C, F = frozenset({COLLECTION}), frozenset({FINANCE})
MATRIX = [
    Duty(dossier_open, C, lambda s: overdue_case(),
         lambda case, u: dossier_open(case_id=case.pk, actor=u, today=OPENED)),
    Duty(dossier_demand_issue, C, lambda s: dossier_at("opened", s),
         lambda d, u: dossier_demand_issue(dossier_id=d.pk, actor=u, today=OPENED)),
    Duty(dossier_document_deliver, C, lambda s: dossier_at("demand_issued", s),
         lambda d, u: dossier_document_deliver(
             document_id=d.documents.get().pk, channel="post", delivered_on=SERVED,
             proof=receipt(), actor=u, today=SERVED)),
    Duty(dossier_inquiry_send, C, lambda s: dossier_at("demand_served", s),
         lambda d, u: dossier_inquiry_send(dossier_id=d.pk, banks=["建设银行"], actor=u,
                                           today=AFTER_DEMAND)),
    Duty(dossier_inquiry_answer, C, lambda s: dossier_at("inquiry_sent", s),
         lambda d, u: dossier_inquiry_answer(
             dossier_id=d.pk, replies=[BankReply("中国银行", "1", "0.00", SERVED, SERVED)],
             actor=u, today=AFTER_DEMAND)),
    Duty(dossier_transfer_propose, C, lambda s: dossier_at("inquiry_answered", s),
         lambda d, u: dossier_transfer_propose(dossier_id=d.pk, actor=u, today=AFTER_DEMAND)),
    Duty(dossier_transfer_approve, C, lambda s: dossier_at("transfer_proposed", s),
         lambda d, u: dossier_transfer_approve(dossier_id=d.pk, actor=u, today=AFTER_DEMAND)),
    Duty(dossier_proposal_refuse, C, lambda s: dossier_at("transfer_proposed", s),
         lambda d, u: dossier_proposal_refuse(dossier_id=d.pk, reason="余额已变动", actor=u)),
    Duty(dossier_transfer_grant, C, lambda s: dossier_at("transfer_requested", s),
         lambda d, u: dossier_transfer_grant(dossier_id=d.pk, decision_no="沪医保划〔2026〕88号",
                                             decided_on=LATER, actor=u, today=LATER)),
    Duty(dossier_transfer_notify, C, lambda s: dossier_at("transfer_granted", s),
         lambda d, u: dossier_transfer_notify(dossier_id=d.pk, actor=u, today=LATER)),
    Duty(dossier_money_confirm, F, _notified_with_money,
         lambda g, u: dossier_money_confirm(dossier_id=g[0].pk, arrival_id=g[1].pk, actor=u)),
    Duty(dossier_guarantee_require, C, lambda s: dossier_at("inquiry_answered", s, balance="1.00"),
         lambda d, u: dossier_guarantee_require(dossier_id=d.pk, actor=u, today=AFTER_DEMAND)),
    Duty(dossier_deferred_sign, C, lambda s: dossier_at("guarantee_required", s),
         lambda d, u: dossier_deferred_sign(
             dossier_id=d.pk, guarantee=GuaranteeGiven("pledge", "存单", "900.00"),
             installment_count=2, actor=u, today=LATER)),
    Duty(dossier_court_propose, C, lambda s: dossier_at("demand_served", s),
         lambda d, u: dossier_court_propose(dossier_id=d.pk, actor=u, today=COURT_OPENS)),
    Duty(dossier_court_approve, C, lambda s: dossier_at("court_proposed", s),
         lambda d, u: dossier_court_approve(dossier_id=d.pk, court="黄浦区人民法院", actor=u,
                                            today=COURT_OPENS)),
    Duty(dossier_court_rule, C, lambda s: dossier_at("court_applied", s),
         lambda d, u: dossier_court_rule(dossier_id=d.pk, court_case_no="(2026)沪0101执77号",
                                         ruled_on=COURT_OPENS, ruling="拍卖", actor=u,
                                         today=COURT_OPENS)),
    Duty(dossier_fine_refer, C, lambda s: dossier_at("opened", s),
         lambda d, u: dossier_fine_refer(dossier_id=d.pk, department="医疗保障局", actor=u,
                                         today=OPENED)),
    Duty(dossier_close, C, lambda s: dossier_at("court_ruled", s),
         lambda d, u: dossier_close(dossier_id=d.pk, reason="proceedings_ended",
                                    note="终结本次执行程序", actor=u, today=COURT_OPENS)),
    Duty(dossiers_follow, C, _guarantee_served,
         lambda d, u: dossiers_follow(as_of=date(2026, 5, 1), actor=u)),
]  # fmt: skip


def snapshot() -> tuple:
    return (
        all_table_counts(),
        sorted(Dossier.objects.values_list("pk", "state", "proposed_by_id")),
        EnforcementDocument.objects.count(),
        BankAccount.objects.count(),
        Guarantee.objects.count(),
        FineReferral.objects.count(),
        sorted(EnforcementDocument.objects.values_list("pk", "delivered_on")),
    )


@pytest.mark.parametrize("duty", MATRIX, ids=str)
def test_who_may_and_who_may_not(duty):
    # given what the service acts on, built by the real services
    given = duty.given(Staff())
    for department in [*DEPARTMENTS, NOBODY]:
        user = (
            UserFactory(username=f"clerk-{department}")
            if department == NOBODY
            else department_user(department, f"user-{DEPARTMENTS.index(department)}")
        )
        with transaction.atomic():
            before = snapshot()
            # when the service is called by a user of that department (or of none)
            if department in duty.departments:
                # then it does its work
                duty.call(given, user)
                assert snapshot() != before, f"{duty} by {department} changed nothing"
            else:
                # then it is refused, saying who may not do what, and nothing changed
                with pytest.raises(PermissionDenied) as refused:
                    duty.call(given, user)
                assert str(refused.value).startswith(f"{user.get_username()} may not ")
                assert "(needs permission enforcement." in str(refused.value)
                assert snapshot() == before
            transaction.set_rollback(True)


def test_the_matrix_covers_every_service():
    found = {
        name
        for name, function in inspect.getmembers(services, inspect.isfunction)
        if function.__module__ == services.__name__
        and not name.startswith("_")
        and getattr(inspect.signature(function).parameters.get("actor"), "kind", None)
        == inspect.Parameter.KEYWORD_ONLY
    }
    assert found == {d.service.__name__ for d in MATRIX}


def test_audit_reads_every_dossier_and_finance_confirms_the_money():
    perms = {
        g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()}
        for g in Group.objects.prefetch_related("permissions__content_type")
    }
    assert "enforcement.view_dossier" in perms[AUDIT]
    assert "enforcement.view_enforcementdocument" in perms[AUDIT]
    assert not {p for p in perms[AUDIT] if p.startswith("enforcement.") and "view_" not in p}
    assert "enforcement.confirm_enforcement_money" in perms[FINANCE]
    assert "enforcement.run_dossier" not in perms[FINANCE]
    assert {"enforcement.run_dossier", "enforcement.approve_dossier"} <= perms[COLLECTION]
    assert "enforcement.confirm_enforcement_money" not in perms[COLLECTION]


def test_the_proposer_of_a_court_application_cannot_approve_it():
    staff = Staff()
    dossier = dossier_at("court_proposed", staff)
    before = snapshot()
    with pytest.raises(PermissionDenied) as refused:
        dossier_court_approve(dossier_id=dossier.pk, court="黄浦区人民法院", actor=staff.clerk,
                              today=COURT_OPENS)  # fmt: skip
    assert str(refused.value) == (
        "clerk proposed the court application of dossier ZF310101-2026-000001 and may not also "
        "approve it: another person in collection must."
    )
    assert snapshot() == before
