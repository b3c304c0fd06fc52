"""What the case workflow announces to the people concerned.

The workflow sits below `notices`, which keeps the outbox, so a service cannot create a message
itself. It announces what happened instead, inside the transaction of the change; `notices`
listens from start-up (`NoticesConfig.ready`) and turns each announcement into outbox rows in the
same transaction, so a message exists exactly when the change it reports committed. An
announcement nobody listens to is an error, never a message silently lost.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class PaymentAccepted:
    """The collection department accepted a payment: finance is to collect it."""

    payment_id: int


@dataclass(frozen=True)
class PaymentDeclared:
    """A unit declared a payment on the portal: the collection department is to accept it."""

    payment_id: int


@dataclass(frozen=True)
class PaymentRejected:
    """The collection department did not accept a payment; a declared one's unit is told why."""

    payment_id: int
    reason: str


_listeners: defaultdict[type, list[Callable[[Any], None]]] = defaultdict(list)


def listen(kind: type, listener: Callable[[Any], None]) -> None:
    """Call `listener(announcement)` for every announcement of `kind` (once per listener)."""
    if listener not in _listeners[kind]:
        _listeners[kind].append(listener)


def announce(announcement: object) -> None:
    """Tell every listener, in the caller's transaction."""
    listeners = _listeners.get(type(announcement))
    if not listeners:
        raise ImproperlyConfigured(f"nobody listens to {type(announcement).__name__}")
    for listener in listeners:
        listener(announcement)
