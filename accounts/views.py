"""The account pages: the password change, the second factor, personal API tokens and the locked-out page."""
from http import HTTPStatus

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import ApiTokenForm, SecondFactorForm
from accounts.models import ApiToken
from accounts.second_factor import (
    enrolment_qr_svg,
    enrolment_secret,
    second_factor_device,
    second_factor_enrolment,
    second_factor_submit,
)
from accounts.selectors import user_needs_second_factor
from accounts.tokens import api_token_create, api_token_revoke, api_tokens_of
from audit.services import audit_record, client_ip


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every user changes their own password here (the old one first); other sessions of the account
    end, and the change is audited."""

    success_url = reverse_lazy("password_change_done")
    extra_context = {"password_max_age_days": settings.PASSWORD_MAX_AGE_DAYS}

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(actor=self.request.user, event_type="auth.password_change", obj=self.request.user,
                                  ip_address=client_ip(self.request))
        return response


@login_required
def second_factor(request):
    """The code of the authenticator app after the password; the first time, the app is set up here."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = reverse("home")
    if not user_needs_second_factor(request.user) or request.user.is_verified():
        return redirect(next_url)
    device = second_factor_device(request.user)
    enrolling = device is None
    if enrolling:
        device = second_factor_enrolment(request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = second_factor_submit(request=request, device=device, token=form.cleaned_data["token"])
        if outcome.recovery_codes:
            return render(request, "registration/recovery_codes.html", {"codes": outcome.recovery_codes,
                                                                         "next": next_url})
        if outcome.verified:
            return redirect(next_url)
        if outcome.wait_seconds:
            form.add_error("token", _("Too many wrong codes: wait %(seconds)s seconds, then enter the code your app "
                                      "shows.") % {"seconds": outcome.wait_seconds})
        else:
            form.add_error("token", _("This code is wrong or has been used already. Enter the code your app shows "
                                      "now, or an unused recovery code."))
    context = {"form": form, "enrolling": enrolling, "next": next_url}
    if enrolling:
        # segno draws the address as QR modules only: no text of the user reaches the markup.
        context.update(qr_svg=mark_safe(enrolment_qr_svg(device)),  # segno's markup, no user text  # nosec B308 B703
                       secret=enrolment_secret(device))
    return render(request, "registration/second_factor.html", context)


@login_required
def api_tokens(request):
    """The user's own API tokens: make one (its secret shown on this answer only) or revoke one."""
    verified = request.user.is_verified() if hasattr(request.user, "is_verified") else False
    may_create = verified or not user_needs_second_factor(request.user)
    form = ApiTokenForm(request.POST or None)
    made = None
    if request.method == "POST" and may_create and form.is_valid():
        try:
            made = api_token_create(user=request.user, name=form.cleaned_data["name"],
                                    days=form.cleaned_data["days"], verified=verified,
                                    ip_address=client_ip(request))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = ApiTokenForm()
    return render(request, "registration/api_tokens.html", {
        "form": form, "made": made, "may_create": may_create, "tokens": api_tokens_of(request.user)})


@login_required
@require_POST
def api_token_revoke_view(request, pk: int):
    get_object_or_404(ApiToken, user=request.user, pk=pk)
    api_token_revoke(user=request.user, token_id=pk, ip_address=client_ip(request))
    return redirect("api_tokens")


def login_locked_out(request, original_response=None, credentials=None):
    """What django-axes answers once a user name is locked: the same page whether the account exists or not."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html",
                  {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
                  status=HTTPStatus.TOO_MANY_REQUESTS)
