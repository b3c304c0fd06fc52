"""`transition_apply` and `transition_apply_bulk` for subjects other than the case: an arrival
waiting unmatched belongs to no case yet, and users may run bulk transitions they are allowed."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q

from replenish.departments import COLLECTION, FINANCE
from replenish.models import ArrearsCase, Arrival, ArrivalState, AuditEntry, CaseState
from replenish.services.transitions import (
    transition_apply,
    transition_apply_bulk,
    transition_record_created,
)
from tests.factories import (
    SYSTEM,
    ArrearsCaseFactory,
    ArrivalRowFactory,
    department_user,
    import_arrivals,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def unmatched():
    import_arrivals([ArrivalRowFactory(arrival_ref="LOST", unit_no=9)])
    return Arrival.objects.get()


def test_the_audit_row_of_a_subject_without_a_case_has_no_case(unmatched):
    # given finance
    cashier = department_user(FINANCE, "cashier")

    # when the unmatched arrival is reversed
    with transaction.atomic():
        arrival = Arrival.objects.select_for_update().get(pk=unmatched.pk)
        transition_apply(arrival, "reverse", actor=cashier, reason="not ours")

    # then its audit row is found by subject, and names no case
    assert list(
        AuditEntry.objects.filter(subject="arrival", subject_id=unmatched.pk)
        .order_by("id")
        .values_list("case_id", "transition", "from_state", "to_state", "actor_label")
    ) == [
        (None, "queue", "received", "unmatched", "system:tests"),
        (None, "reverse", "unmatched", "reversed", "cashier"),
    ]


def test_a_user_runs_a_bulk_transition_only_with_the_permission_it_declares(unmatched):
    # given an arrival matched by hand
    case = ArrearsCaseFactory()
    with transaction.atomic():
        arrival = Arrival.objects.select_for_update().get(pk=unmatched.pk)
        transition_apply(arrival, "match_by_hand", actor=SYSTEM, case_id=case.pk)
    queryset = Arrival.objects.filter(pk=unmatched.pk)

    # when the collection department tries to reverse it in bulk / then refused (finance's duty)
    with pytest.raises(PermissionDenied, match="collector may not reverse"):
        transition_apply_bulk(queryset, "reverse", actor=department_user(COLLECTION, "collector"))
    assert Arrival.objects.get().state == ArrivalState.MATCHED

    # when finance does / then the audit row names the user and the arrival's case
    cashier = department_user(FINANCE, "cashier")
    assert transition_apply_bulk(queryset, "reverse", actor=cashier) == [unmatched.pk]
    assert AuditEntry.objects.order_by("id").values_list(
        "case_id", "transition", "actor_id", "actor_label"
    ).last() == (case.pk, "reverse", cashier.pk, "cashier")


def test_a_posted_arrival_must_say_what_it_applied():
    # given a matched arrival
    import_arrivals([ArrivalRowFactory(arrival_ref="A", unit_no=9)])
    case = ArrearsCaseFactory()
    with transaction.atomic():
        arrival = Arrival.objects.select_for_update().get()
        transition_apply(arrival, "match_by_hand", actor=SYSTEM, case_id=case.pk)

    # when it is marked posted without its amounts / then the database refuses
    with pytest.raises(IntegrityError), transaction.atomic():
        transition_apply_bulk(Arrival.objects.all(), "post", actor=SYSTEM)
    assert Arrival.objects.get().state == ArrivalState.MATCHED


def test_a_conditioned_transition_in_bulk_needs_its_conditions_as_a_filter():
    # given a case that owes nothing and one that owes a fen
    owes_nothing = ArrearsCaseFactory(state=CaseState.NOTIFIED)
    owes = ArrearsCaseFactory(state=CaseState.NOTIFIED, principal_assessed=1, principal_unpaid=1)
    cases = ArrearsCase.objects.all()

    # when / then
    with pytest.raises(ValueError, match="has conditions"):
        transition_apply_bulk(cases, "settle", actor=SYSTEM)
    settled = transition_apply_bulk(
        cases, "settle", actor=SYSTEM, conditions=Q(principal_unpaid=0, fee_unpaid=0)
    )
    assert settled == [owes_nothing.pk]
    assert ArrearsCase.objects.get(pk=owes.pk).state == CaseState.NOTIFIED


def test_rows_created_in_a_transitions_target_get_its_audit_row_from_its_source(unmatched):
    # given an arrival created directly in `unmatched` (the target of `queue`), and one matched
    case = ArrearsCaseFactory()
    import_arrivals([ArrivalRowFactory(arrival_ref="MINE", unit_no=9)])
    matched = Arrival.objects.get(arrival_ref="MINE")
    with transaction.atomic():
        transition_apply(
            Arrival.objects.select_for_update().get(pk=matched.pk),
            "match_by_hand",
            actor=SYSTEM,
            case_id=case.pk,
        )
    AuditEntry.objects.all().delete()

    # when `queue` is recorded for every arrival
    recorded = transition_record_created(Arrival.objects.all(), "queue", actor=SYSTEM, reason="r")

    # then only the one in the target is recorded, from the declared source, without a case
    assert recorded == 1
    assert list(
        AuditEntry.objects.values_list(
            "subject", "subject_id", "case_id", "transition", "from_state", "to_state", "reason"
        )
    ) == [("arrival", unmatched.pk, None, "queue", "received", "unmatched", "r")]


def test_recording_a_created_transition_is_refused_without_its_permission_or_single_source(
    unmatched,
):
    before = AuditEntry.objects.count()
    # a transition with several sources: which one the rows came from is not known
    with pytest.raises(ValueError, match="single source"):
        transition_record_created(Arrival.objects.all(), "reverse", actor=SYSTEM)
    # a user without the declared permission
    with pytest.raises(PermissionDenied, match="may not"):
        transition_record_created(
            Arrival.objects.all(), "queue", actor=department_user(COLLECTION, "collector")
        )
    assert AuditEntry.objects.count() == before
