"""The in-app inbox: the user's own notifications (another user's id is a 404), newest first, unread marked."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reporting import selectors, services

PER_PAGE = 20


@login_required
def inbox(request):
    page = Paginator(selectors.notifications_for(user=request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reporting/inbox.html", {"page": page})


@login_required
def inbox_open(request, pk: int):
    """Opening a notice marks it read and leads to what it is about."""
    notification = get_object_or_404(selectors.notifications_for(user=request.user), pk=pk)
    services.notification_mark_read(notification=notification)
    if notification.link and url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None):
        return redirect(notification.link)  # the portal's own path (reporting.notifications), never a host
    return redirect("reporting:inbox")


@login_required
@require_POST
def inbox_read_all(request):
    count = services.notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications are marked read."))
    return redirect("reporting:inbox")
