"""The departments' work queues: what is waiting for each department, oldest first.

A queue is a named queryset of one model with the admin list it opens. The registry is a plain
list so that a later model (write-off applications) adds its queues with `register(Queue(...))`
from its own module without touching this one. Counts are one `COUNT` per queue, independent
of how much is waiting.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from notices.printing import notices_undelivered_late
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import (
    ArrearsCase,
    Arrival,
    CaseState,
    Payment,
    PaymentState,
    PaymentVia,
    WriteOffApplication,
)


@dataclass(frozen=True)
class Queue:
    key: str
    department: str
    label: str | Promise
    permission: str
    queryset: Callable[[], QuerySet]
    changelist: str  # admin URL name of the list the queue opens
    query: str  # the list's filter that shows the queue (querystring)
    oldest_first: str  # the ordering field, oldest first

    def items(self) -> QuerySet:
        return self.queryset().order_by(self.oldest_first, "pk")

    def url(self) -> str:
        return f"{reverse(self.changelist)}?{self.query}"


QUEUES: list[Queue] = []


def register(queue: Queue) -> Queue:
    if any(q.key == queue.key for q in QUEUES):
        raise ValueError(f"queue {queue.key!r} registered twice")
    QUEUES.append(queue)
    return queue


def queue(key: str) -> Queue | None:
    return next((q for q in QUEUES if q.key == key), None)


def queue_shown(changelist: str, params) -> Queue | None:
    """The queue an admin list shows when its filter is a queue's (`params`: the request's
    query parameters): the list is then worked oldest first."""
    for q in QUEUES:
        if q.changelist == changelist and all(params.get(k) == v for k, v in parse_qsl(q.query)):
            return q
    return None


def queues_for(user) -> list[Queue]:
    """The queues a user works: those whose action the user is permitted."""
    return [q for q in QUEUES if user.has_perm(q.permission)]


def queue_counts(user) -> list[tuple[Queue, int]]:
    return [(q, q.queryset().count()) for q in queues_for(user)]


def _cases_to_notify() -> QuerySet:
    return ArrearsCase.objects.filter(state__in=[CaseState.REGISTERED, CaseState.OVERDUE])


def _declared_payments_to_accept() -> QuerySet:
    return Payment.objects.filter(state=PaymentState.RECORDED, via=PaymentVia.PORTAL)


def _payments_to_collect() -> QuerySet:
    return Payment.objects.filter(state=PaymentState.ACCEPTED)


def _arrivals(state: str) -> Callable[[], QuerySet]:
    def arrivals() -> QuerySet:
        return Arrival.objects.filter(state=state)

    return arrivals


register(
    Queue(
        key="cases_to_notify",
        department=COLLECTION,
        label=_("Cases to notify"),
        permission="replenish.issue_notice",
        queryset=_cases_to_notify,
        changelist="admin:replenish_arrearscase_changelist",
        query="queue=cases_to_notify",
        oldest_first="state_changed_at",
    )
)
register(
    Queue(
        key="adjustments_to_post",
        department=COLLECTION,
        label=_("Adjustments to post (matched arrivals)"),
        permission="replenish.post_arrival",
        queryset=_arrivals("matched"),
        changelist="admin:replenish_arrival_changelist",
        query="state__exact=matched",
        oldest_first="state_changed_at",
    )
)
register(
    Queue(
        key="declared_payments_to_accept",
        department=COLLECTION,
        label=_("Declared payments to accept"),
        permission="replenish.accept_payment",
        queryset=_declared_payments_to_accept,
        changelist="admin:replenish_payment_changelist",
        query="state__exact=recorded&via__exact=portal",
        oldest_first="recorded_at",
    )
)
register(
    Queue(
        key="payments_to_collect",
        department=FINANCE,
        label=_("Payments to collect"),
        permission="replenish.confirm_arrival",
        queryset=_payments_to_collect,
        changelist="admin:replenish_payment_changelist",
        query="state__exact=accepted",
        oldest_first="state_changed_at",
    )
)
register(
    Queue(
        key="unmatched_arrivals",
        department=FINANCE,
        label=_("Unmatched arrivals"),
        permission="replenish.match_arrival",
        queryset=_arrivals("unmatched"),
        changelist="admin:replenish_arrival_changelist",
        query="state__exact=unmatched",
        oldest_first="state_changed_at",
    )
)
register(
    Queue(
        key="notices_undelivered",
        department=COLLECTION,
        label=_("Notices issued and not delivered"),
        permission="notices.deliver_notice",
        queryset=notices_undelivered_late,
        changelist="admin:notices_notice_changelist",
        query="undelivered=late",
        oldest_first="issued_on",
    )
)
# AUDIT: "applications to decide" is registered by the write-off applications' module.
__all__ = ["AUDIT", "QUEUES", "Queue", "queue", "queue_counts", "queues_for", "register"]


def _writeoffs(*states: str) -> Callable[[], QuerySet]:
    def applications() -> QuerySet:
        return WriteOffApplication.objects.filter(state__in=states)

    return applications


register(
    Queue(
        key="writeoffs_to_examine",
        department=COLLECTION,
        label=_("Write-off applications to examine"),
        permission="replenish.examine_writeoff",
        queryset=_writeoffs("submitted"),
        changelist="admin:replenish_writeoffapplication_changelist",
        query="state__exact=submitted",
        oldest_first="state_changed_at",
    )
)
register(
    Queue(
        key="writeoffs_returned",
        department=COLLECTION,
        label=_("Write-off applications returned, waiting for the liquidation group"),
        permission="replenish.examine_writeoff",
        queryset=_writeoffs("returned"),
        changelist="admin:replenish_writeoffapplication_changelist",
        query="state__exact=returned",
        oldest_first="state_changed_at",
    )
)
register(
    Queue(
        key="writeoffs_to_decide",
        department=AUDIT,
        label=_("Write-off applications to decide"),
        permission="replenish.decide_writeoff",
        queryset=_writeoffs("accepted", "first_approved"),
        changelist="admin:replenish_writeoffapplication_changelist",
        query="state__in=accepted,first_approved",
        oldest_first="state_changed_at",
    )
)
