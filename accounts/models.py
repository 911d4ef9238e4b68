"""Cities and the people who log in for them: accounts, roles and password records."""
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups of these names; reporting.roles keeps their permissions."""

    FILER = "filer", _("Filer (city finance office)")
    REVIEWER = "reviewer", _("Reviewer")
    METHODOLOGIST = "methodologist", _("Methodologist")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


class City(models.Model):
    code = models.CharField(
        _("administrative division code"), max_length=6, unique=True, help_text=_("GB/T 2260, e.g. 500000.")
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=50, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=80, unique=True)
    province_zh = models.CharField(_("province (Chinese)"), max_length=50)
    province_en = models.CharField(_("province (English)"), max_length=80)

    class Meta:
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name_zh} {self.name_en}"

    def clean(self):
        if not (self.code.isdigit() and len(self.code) == 6):
            raise ValidationError({"code": _("An administrative division code has six digits.")})


class User(AbstractUser):
    """A portal account. A filer belongs to the one city it files for."""

    city = models.ForeignKey(
        City, verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT, related_name="users",
        help_text=_("The city this person files for; empty for secretariat staff."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The user's role groups, read once per user object (a request's menus ask several times)."""
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: Role) -> bool:
        return role in self.role_names


class PasswordRecord(models.Model):
    """A password a user has had (its hash only): the rule against reusing recent passwords and the
    password's age come from here (reporting.passwords). Kept out of the admin."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="password_records")
    password = models.CharField(_("password hash"), max_length=128)
    created_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        verbose_name = _("password record")
        verbose_name_plural = _("password records")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="password_record_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d}"


class ApiToken(models.Model):
    """A personal API token (``Authorization: Bearer <token>``) for a city's or the secretariat's own system.
    Only the SHA-256 of the secret is kept: the token is shown once, when it is made (accounts.tokens)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    key_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    prefix = models.CharField(_("first characters"), max_length=12, help_text=_("To tell tokens apart."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Made in a session that had passed the second factor: a token of a role that needs one counts only then.
    second_factor = models.BooleanField(_("made after the second factor"), default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
