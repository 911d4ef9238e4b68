"""Third-party apps under names the portal translates (INSTALLED_APPS names these instead of the apps).

django-axes (lockouts) and django-otp (authenticators) have no verbose name, so the admin showed "Axes" and
"Otp_Totp"; django-otp's device models have verbose names that are not marked for translation ("TOTP device").
The apps' own gettext strings (axes' fields, "access attempts") are translated in our catalogue. Groups and
permissions: see ``accounts.labels`` (role labels instead of codes).
"""
from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LockoutsConfig(AxesAppConfig):
    verbose_name = _("Login lockouts")


class AuthenticatorsConfig(AppConfig):
    name = "django_otp.plugins.otp_totp"
    label = "otp_totp"
    default_auto_field = "django.db.models.AutoField"
    verbose_name = _("Authenticator apps")

    def ready(self):
        # The same English words, now marked for translation (migrations see no change: the msgid is the value).
        model = self.get_model("TOTPDevice")
        model._meta.verbose_name = _("TOTP device")
        model._meta.verbose_name_plural = _("TOTP devices")


class RecoveryCodesConfig(AppConfig):
    name = "django_otp.plugins.otp_static"
    label = "otp_static"
    default_auto_field = "django.db.models.AutoField"
    verbose_name = _("Recovery codes")

    def ready(self):
        model = self.get_model("StaticDevice")
        model._meta.verbose_name = _("static device")
        model._meta.verbose_name_plural = _("static devices")
