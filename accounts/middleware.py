"""Login gates: the session's absolute lifetime, the second factor and the password's age."""
import time
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import user_needs_second_factor, user_password_expires_at

SESSION_STARTED_KEY = "ccfi_login_at"
PASSWORD_EXPIRES_KEY = "ccfi_password_expires_at"  # a session key's name, no password  # nosec B105


class SessionLifetimeMiddleware:
    """A login lasts SESSION_ABSOLUTE_AGE seconds however busy the user is (ASVS 3.3.2). Django's own
    expiry moves forward each time the session is saved, so it is only an idle limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.setdefault(SESSION_STARTED_KEY, now)
            if now - started > settings.SESSION_ABSOLUTE_AGE:
                logout(request)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class _GateMiddleware:
    """While ``applies(request)`` holds, every page but the gate's own and a few open ones (logging out,
    the language switch...) redirects to the gate."""

    gate = ""  # URL name of the page that lifts the gate
    # The health endpoints answer probes (a load balancer, a monitor), and /metrics a scraper (it has its own
    # rule: ccfi_portal.observability), whoever's session comes with them.
    open_names: tuple[str, ...] = ("logout", "set_language", "healthz", "readyz", "metrics")

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def open_paths(self) -> frozenset[str]:
        return frozenset(reverse(name) for name in (self.gate, *self.open_names))

    def applies(self, request) -> bool:
        raise NotImplementedError

    def redirect_query(self, request) -> dict:
        return {}

    def __call__(self, request):
        if request.path not in self.open_paths and self.applies(request):
            query = urlencode(self.redirect_query(request))
            return redirect(f"{reverse(self.gate)}?{query}" if query else reverse(self.gate))
        return self.get_response(request)


class SecondFactorMiddleware(_GateMiddleware):
    """Until a privileged user has entered the code of their authenticator app in this session, every
    page sends them to the second-factor page (to set the app up the first time). After django_otp's
    OTPMiddleware."""

    gate = "second_factor"

    def applies(self, request) -> bool:
        return user_needs_second_factor(request.user) and not request.user.is_verified()

    def redirect_query(self, request) -> dict:
        return {"next": request.get_full_path()}


class PasswordExpiryMiddleware(_GateMiddleware):
    """A password past its age (settings.PASSWORD_MAX_AGE_DAYS) leads every page to the password page
    until it is changed; the second factor stays open."""

    gate = "password_change"
    open_names = (*_GateMiddleware.open_names, "second_factor")

    def applies(self, request) -> bool:
        """Compares with the moment remembered at login (accounts.signals); reads the password's date
        again only once that moment passes, as the password may have been changed since."""
        if not (settings.PASSWORD_MAX_AGE_DAYS and request.user.is_authenticated):
            return False
        now = time.time()
        expires_at = request.session.get(PASSWORD_EXPIRES_KEY)
        if expires_at is None or now > expires_at:
            expires_at = user_password_expires_at(request.user).timestamp()
            request.session[PASSWORD_EXPIRES_KEY] = expires_at
        return now > expires_at

    def redirect_query(self, request) -> dict:
        return {"expired": "1"}
