"""Notifications of workflow steps, by e-mail and in the portal's inbox, sent after the step's transaction commits.

Both come from here, for the same recipients and events. The e-mail is written in Chinese and then English,
because the portal does not know which language each recipient reads; the in-app notice keeps the event and its
parameters and is said in the reader's language when read (reporting.models.Notification). The demo writes the
e-mail as files (EMAIL_BACKEND).
"""
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import City, Role, User
from reporting.models import (
    IndicatorReturn,
    Notification,
    ReportingPeriod,
    notification_subject,
)

logger = logging.getLogger(__name__)

# Event → who receives it (the subjects: reporting.models.NOTIFICATION_SUBJECTS).
AUDIENCES = {"submitted": "reviewers", "returned": "filers", "approved": "filers", "amendment": "both",
             "extension": "both"}


def recipient_users(*, audience: str, city: City) -> dict[int, tuple[User, str]]:
    """Active users the event concerns, by id, each with their role in it ("filer" or "reviewer")."""
    users = User.objects.filter(is_active=True)
    found: dict[int, tuple[User, str]] = {}
    if audience in ("reviewers", "both"):
        found |= {user.pk: (user, "reviewer") for user in users.filter(groups__name=Role.REVIEWER).distinct()}
    if audience in ("filers", "both"):
        found |= {user.pk: (user, "filer") for user in users.filter(city=city, groups__name=Role.FILER).distinct()}
    return found


def recipients(*, audience: str, city: City) -> list[str]:
    """The e-mail addresses of ``recipient_users`` (those who have one)."""
    return sorted({user.email for user, _role in recipient_users(audience=audience, city=city).values()
                   if user.email})


def notify_on_commit(*, event: str, actor, indicator_return: IndicatorReturn | None = None, city: City | None = None,
                     period: ReportingPeriod | None = None, extra: dict | None = None) -> None:
    """Queue the event's in-app notices and e-mail; recipients are looked up and the message rendered only after
    the commit, so none of it runs while the workflow step holds its row locks."""
    audience = AUDIENCES[event]

    def send():
        city_ = city or indicator_return.city
        period_ = period or indicator_return.period
        people = recipient_users(audience=audience, city=city_)
        # Each part on its own: a mail outage must not undo or hide a committed workflow step, nor the inbox notice.
        try:
            _post(event=event, people=people, indicator_return=indicator_return, city=city_, period=period_,
                  extra=extra or {})
        except Exception:
            logger.exception("in-app notification %s could not be stored", event)
        try:
            _send(event=event, actor=actor, indicator_return=indicator_return,
                  city=city_, period=period_, extra=extra or {},
                  to=sorted({user.email for user, _role in people.values() if user.email}))
        except Exception:
            logger.exception("notification %s could not be sent", event)

    transaction.on_commit(send)


def _link(*, role: str, indicator_return: IndicatorReturn | None) -> str:
    """Where the notice leads: a reviewer to the return's review page (or the board), a filer to the return (or
    their returns)."""
    if role == "reviewer":
        return (reverse("reporting:review_detail", args=[indicator_return.pk]) if indicator_return
                else reverse("reporting:board"))
    return (reverse("reporting:return_detail", args=[indicator_return.pk]) if indicator_return
            else reverse("reporting:dashboard"))


def _post(*, event: str, people: dict, indicator_return: IndicatorReturn | None, city: City,
          period: ReportingPeriod, extra: dict) -> None:
    params = {"city_zh": city.name_zh, "city_en": city.name_en, "year": period.data_year, **extra}
    Notification.objects.bulk_create([
        Notification(recipient=user, event=event, params=params, link=_link(role=role,
                                                                              indicator_return=indicator_return))
        for user, role in people.values()])


def _send(*, event: str, actor, indicator_return: IndicatorReturn | None, city: City,
          period: ReportingPeriod, extra: dict, to: list[str]) -> None:
    if not to:
        return
    context = {"event": event, "indicator_return": indicator_return, "city": city, "period": period,
               "actor": actor, "extra": extra,
               "path": reverse("reporting:return_detail", args=[indicator_return.pk]) if indicator_return else ""}
    params = {"city_zh": city.name_zh, "city_en": city.name_en, "year": period.data_year, **extra}
    parts, subjects = [], []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            subjects.append(notification_subject(event, params, language))
            parts.append(render_to_string("reporting/emails/notification.txt",
                                          {**context, "city_name": city.name_zh if language == "zh-hans"
                                           else city.name_en}))
    subject = f"[CCFI] {subjects[0]} / {subjects[1]}"
    body = "\n\n----------\n\n".join(parts)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
