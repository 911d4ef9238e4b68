"""E-mail notifications of workflow steps, sent after the step's transaction commits.

Each message is written in Chinese and then English, because the portal does not know which
language each recipient reads. The demo uses Django's console backend (EMAIL_BACKEND).
"""
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop as N_

from accounts.models import City, Role, User
from reporting.models import IndicatorReturn, ReportingPeriod

logger = logging.getLogger(__name__)

# Event → (subject, who receives it).
EVENTS = {
    "submitted": (N_("%(city)s submitted its return for %(year)s"), "reviewers"),
    "returned": (N_("Your return for %(year)s was sent back for revision"), "filers"),
    "approved": (N_("Your return for %(year)s was approved"), "filers"),
    "amendment": (N_("An amendment of %(city)s's return for %(year)s was opened"), "both"),
    "extension": (N_("%(city)s may keep editing its return for %(year)s until %(until)s"), "both"),
}


def recipients(*, audience: str, city: City) -> list[str]:
    users = User.objects.filter(is_active=True).exclude(email="")
    emails: set[str] = set()
    if audience in ("filers", "both"):
        emails |= set(users.filter(city=city, groups__name=Role.FILER).values_list("email", flat=True))
    if audience in ("reviewers", "both"):
        emails |= set(users.filter(groups__name=Role.REVIEWER).values_list("email", flat=True))
    return sorted(emails)


def notify_on_commit(*, event: str, actor, indicator_return: IndicatorReturn | None = None, city: City | None = None,
                     period: ReportingPeriod | None = None, extra: dict | None = None) -> None:
    """Queue the event's e-mail; recipients are looked up and the message rendered only after the commit,
    so none of it runs while the workflow step holds its row locks."""
    subject_template, audience = EVENTS[event]

    def send():
        try:
            _send(event=event, subject_template=subject_template, audience=audience, actor=actor,
                  indicator_return=indicator_return, city=city or indicator_return.city,
                  period=period or indicator_return.period, extra=extra or {})
        except Exception:  # a mail outage must not undo or hide a committed workflow step
            logger.exception("notification %s could not be sent", event)

    transaction.on_commit(send)


def _send(*, event: str, subject_template: str, audience: str, actor, indicator_return: IndicatorReturn | None,
          city: City, period: ReportingPeriod, extra: dict) -> None:
    to = recipients(audience=audience, city=city)
    if not to:
        return
    context = {"event": event, "indicator_return": indicator_return, "city": city, "period": period,
               "actor": actor, "extra": extra,
               "path": reverse("reporting:return_detail", args=[indicator_return.pk]) if indicator_return else ""}
    parts, subjects = [], []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            params = {"city": city.name_zh if language == "zh-hans" else city.name_en, "year": period.data_year,
                      **extra}
            subjects.append(translation.gettext(subject_template) % params)
            parts.append(render_to_string("reporting/emails/notification.txt",
                                          {**context, "city_name": params["city"]}))
    subject = f"[CCFI] {subjects[0]} / {subjects[1]}"
    body = "\n\n----------\n\n".join(parts)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
