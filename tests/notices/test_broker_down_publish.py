"""With the broker unreachable, a staff action stays fast: publishing its message gives up after
the bounded retry policy (CELERY_PUBLISH_TIMEOUT, CELERY_PUBLISH_MAX_RETRIES) instead of kombu's
default of waiting seconds, and the periodic sweep delivers the message once the broker is back."""

import time
from decimal import Decimal

import pytest
from django.conf import settings

from config.celery import app
from notices.models import Notification
from notices.outbox import notifications_sweep
from replenish.departments import FINANCE
from replenish.models import ArrearsCase, PaymentState
from replenish.services.payment import payment_accept, payment_record
from tests.factories import SYSTEM, ArrearsRowFactory, department_user, import_rows
from tests.notices.test_workers import reset_connections

pytestmark = pytest.mark.django_db
UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused


@pytest.fixture
def broker_down(monkeypatch):
    """Celery publishes to a broker that refuses every connection, with the product's publishing
    policy; each retry is counted."""
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", UNREACHABLE)
    retries = []
    saved = {
        key: app.conf[key]
        for key in (
            "broker_url",
            "task_always_eager",
            "broker_transport_options",
            "broker_connection_timeout",
        )
    }
    app.conf.update(
        broker_url=UNREACHABLE,
        task_always_eager=False,
        broker_connection_timeout=settings.CELERY_PUBLISH_TIMEOUT,
        broker_transport_options={
            **settings.PUBLISH_RETRY_POLICY,
            "socket_connect_timeout": settings.CELERY_PUBLISH_TIMEOUT,
            "errback": lambda exc, interval: retries.append(exc),
        },
    )
    reset_connections()
    try:
        yield retries
    finally:
        monkeypatch.undo()
        app.conf.update(saved)
        reset_connections()


def test_accepting_a_payment_with_the_broker_down_gives_up_publishing_after_the_bounded_retries(
    broker_down, django_capture_on_commit_callbacks, mailoutbox
):
    # given a payment recorded, and finance with an address to be told
    user = department_user(FINANCE, "cashier")
    user.email = "cashier@ybj.example"
    user.save(update_fields=["email"])
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    payment = payment_record(
        case_id=ArrearsCase.objects.get().pk,
        amount=Decimal("100.00"),
        channel="counter",
        paid_on=ArrearsCase.objects.get().opened_on,
        actor=SYSTEM,
    )

    # when collection accepts it
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        payment_accept(payment_id=payment.pk, actor=SYSTEM)
    took = time.monotonic() - started

    # then it is accepted; the publish tried once more after the first failure, then gave up
    payment.refresh_from_db()
    assert payment.state == PaymentState.ACCEPTED
    assert len(broker_down) == settings.PUBLISH_RETRY_POLICY["max_retries"]
    assert took < 2.0, f"{took:.2f} s (6.5 s with kombu's default retries)"
    # and the message waits for the sweep, not marked as queued
    assert list(Notification.objects.values_list("state", "enqueued_at")) == [("pending", None)]
    assert mailoutbox == []

    # when a second payment is accepted at once
    second = payment_record(
        case_id=payment.case_id,
        amount=Decimal("50.00"),
        channel="counter",
        paid_on=payment.paid_on,
        actor=SYSTEM,
    )
    with django_capture_on_commit_callbacks(execute=True):
        payment_accept(payment_id=second.pk, actor=SYSTEM)

    # then it does not try the broker again (publishing is paused): its message waits too
    assert len(broker_down) == settings.PUBLISH_RETRY_POLICY["max_retries"]
    assert list(Notification.objects.values_list("state", "enqueued_at")) == [("pending", None)] * 2

    # when the broker is back (tasks in-process here) and the sweep runs
    app.conf.task_always_eager = True
    assert notifications_sweep() == 2

    # then the messages went out, once each
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    assert [m.to for m in mailoutbox] == [["cashier@ybj.example"]] * 2
