"""Marking in-app notifications read. The caller has found the notification among the user's own
(reporting.selectors.notifications_for), so nobody marks another user's."""
from __future__ import annotations

from django.utils import timezone

from reporting.models import Notification


def notification_mark_read(*, notification: Notification) -> Notification:
    """Read once: the first opening's time is kept."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user) -> int:
    """Every unread notification of ``user``; how many were marked."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
