"""What a portal member may see: every read of the portal starts from one of these, so another
unit's object is simply not found (404)."""

from datetime import date

from django.db.models import Q, QuerySet

from kernel.money import line_fee_due
from notices.models import Notice, Notification
from notices.selectors import unit_inbox
from replenish.models import Agreement, ArrearsCase, ArrearsLine, Arrival, Installment, Payment
from replenish.models.cases import WRITEOFF_RETURN_STATES
from replenish.selectors import LINE_FEE_FIELDS, late_fee_policy, line_fee_state
from replenish.services.records import unit_settled_months
from units.identifiers import mask_id_number
from units.models import CounterpartyKind, InsuredPerson, PortalMembership


def cases(member: PortalMembership) -> QuerySet[ArrearsCase]:
    """The unit's cases: the cases of the unit, and those it owes now as a counterparty. The
    unit's counterparty rows are read first (once a request, `own_counterparty_ids`): the query
    then tests the cases' own indexed columns. A join to the counterparty inside an OR made the
    database read every case of the region on each portal page."""
    if member.unit_id is None:
        return ArrearsCase.objects.none()
    return ArrearsCase.objects.filter(
        Q(unit_id=member.unit_id) | Q(obligor_id__in=member.own_counterparty_ids)
    )


def open_lines(member: PortalMembership) -> QuerySet[ArrearsLine]:
    return (
        ArrearsLine.objects.filter(case__in=cases(member))
        .exclude(employer_unpaid=0, employee_unpaid=0, fee_unpaid=0)
        .order_by("person__name", "person_id", "period", "pk")
    )


def notices(member: PortalMembership) -> QuerySet[Notice]:
    return Notice.objects.filter(case__in=cases(member)).select_related("case")


def agreements(member: PortalMembership) -> QuerySet[Agreement]:
    """A unit sees the agreements of its cases and those it signed; a counterparty (liquidation
    group, competent authority, successor) those it is party to."""
    if member.unit_id is None:
        scope = Q(counterparty_id=member.counterparty_id)
    else:
        scope = Q(case__in=cases(member)) | Q(counterparty_id__in=member.own_counterparty_ids)
    return (
        Agreement.objects.filter(scope)
        .exclude(state="draft")
        .select_related("case", "counterparty")
        .order_by("-pk")
    )


def installments(agreement_ids) -> QuerySet[Installment]:
    return Installment.objects.filter(agreement_id__in=list(agreement_ids)).order_by(
        "agreement_id", "seq"
    )


def payments(member: PortalMembership) -> QuerySet[Payment]:
    return Payment.objects.filter(case__in=cases(member)).select_related("case", "arrival")


def arrivals(member: PortalMembership) -> QuerySet[Arrival]:
    return (
        Arrival.objects.filter(case__in=cases(member))
        .select_related("case")
        .order_by("-arrived_on", "-pk")
    )


def arrivals_of_cases(case_ids) -> QuerySet[Arrival]:
    """The arrivals of cases the caller already scoped to the member (its agreements' cases)."""
    return Arrival.objects.filter(case_id__in=list(case_ids))


def inbox(member: PortalMembership) -> QuerySet[Notification]:
    if member.unit_id is None:
        return Notification.objects.none()
    return unit_inbox(member.unit_id)


def lines_owed(member, as_of: date) -> list[dict]:
    """Each open line of the unit with what it owes as of `as_of`: principal unpaid and the late
    fee the money rules compute for it (rounded per line), so the total can be checked. The
    columns are read as values, not as lines with their case and person: a portal page and the
    API's balance read every open line of the unit on each request."""
    policy = late_fee_policy()
    rows = []
    columns = open_lines(member).values_list(
        *LINE_FEE_FIELDS, "period", "case_id", "case__case_no", "person__name", "person__id_number"
    )
    width = len(LINE_FEE_FIELDS)
    for values in columns:
        state = line_fee_state(*values[:width])
        period, case_id, case_no, name, id_number = values[width:]
        fee = line_fee_due(state, as_of=as_of, policy=policy)
        rows.append(
            {
                "case_id": case_id,
                "case_no": case_no,
                "period": period,
                "fee_runs_from": state.accrues_after,
                "person": name,
                "id_number": mask_id_number(id_number),
                "principal": state.principal_unpaid,
                "late_fee": fee,
                "total": state.principal_unpaid + fee,
                # the fee still runs on this line after `as_of` (no agreement, no bankruptcy)
                "accruing": state.stops_on is None or state.stops_on > as_of,
            }
        )
    return rows


def settled_months(member: PortalMembership) -> list[dict]:
    """The months of the unit's employees no longer owed — paid (the employee's record restored)
    or written off — with the person's name and masked ID number. Two queries."""
    if member.unit_id is None:
        return []
    months = unit_settled_months(member.unit_id)
    names = dict(
        InsuredPerson.objects.filter(id_number__in={m.id_number for m in months}).values_list(
            "id_number", "name"
        )
    )
    return [
        {
            "person": names.get(m.id_number, ""),
            "id_number": mask_id_number(m.id_number),
            "month": m,
        }
        for m in months
    ]


def writeoff_cases(member: PortalMembership) -> QuerySet[ArrearsCase]:
    """The cases a liquidation group may apply to write off: those it owes that are open and not
    already under examination."""
    if member.counterparty_id is None:
        return ArrearsCase.objects.none()
    return ArrearsCase.objects.filter(
        obligor_id=member.counterparty_id,
        obligor__kind=CounterpartyKind.LIQUIDATION_GROUP,
        state__in=WRITEOFF_RETURN_STATES,
    )
