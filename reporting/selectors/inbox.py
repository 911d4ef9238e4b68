"""The in-app inbox: a user's own notifications only (another user's are not found)."""
from __future__ import annotations

from django.db.models import QuerySet

from reporting.models import Notification


def notifications_for(*, user) -> QuerySet[Notification]:
    """The user's notifications, newest first; none for an anonymous reader."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_unread_count(*, user) -> int:
    return notifications_for(user=user).filter(read_at__isnull=True).count()


def notifications_unread_latest(*, user, limit: int = 5) -> list[Notification]:
    return list(notifications_for(user=user).filter(read_at__isnull=True)[:limit])
