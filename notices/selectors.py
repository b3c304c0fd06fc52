"""Reads of notices for the unit portal (a later issue builds its pages on these)."""

from django.db.models import QuerySet

from notices.models import Channel, Notification, NotificationState


def unit_inbox(unit_id: int) -> QuerySet[Notification]:
    """The messages a unit sees in its portal inbox, newest first; `read_at` tells unread ones."""
    return Notification.objects.filter(
        unit_id=unit_id, channel=Channel.PORTAL, state=NotificationState.SENT
    ).order_by("-sent_at", "-pk")
