import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user picked another language with the switch.

    Django's own middleware follows the browser's Accept-Language; a Chinese government
    portal shows Chinese first whatever the browser says, and English on request.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


SESSION_STARTED_KEY = "ccfi_login_at"


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


class SecondFactorMiddleware:
    """Until a privileged user has entered the code of their authenticator app in this session, every
    page sends them to the second-factor page (to set the app up the first time); only logging out and
    the language switch stay open. After django_otp's OTPMiddleware."""

    def __init__(self, get_response):
        from reporting.selectors import user_needs_second_factor

        self.get_response = get_response
        self.needs_second_factor = user_needs_second_factor

    def __call__(self, request):
        if self.needs_second_factor(request.user) and not request.user.is_verified():
            page = reverse("second_factor")
            if request.path not in {page, reverse("logout"), reverse("set_language")}:
                return redirect(f"{page}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class PasswordExpiryMiddleware:
    """A password past its age (settings.PASSWORD_MAX_AGE_DAYS) leads every page to the password page
    until it is changed; logging out, the language switch and the second factor stay open."""

    def __init__(self, get_response):
        from reporting.selectors import user_password_expired

        self.get_response = get_response
        self.password_expired = user_password_expired

    def __call__(self, request):
        if self.password_expired(request.user):
            page = reverse("password_change")
            open_paths = {page, reverse("logout"), reverse("set_language"), reverse("second_factor")}
            if request.path not in open_paths:
                return redirect(f"{page}?{urlencode({'expired': '1'})}")
        return self.get_response(request)
