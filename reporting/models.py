"""Cities, the people who file for them, reporting periods, returns and the audit trail."""
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
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

    def has_role(self, role: Role) -> bool:
        return self.groups.filter(name=role).exists()


class PeriodState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ReportingPeriod(models.Model):
    data_year = models.PositiveSmallIntegerField(_("data year"), unique=True)
    opens_on = models.DateField(_("opening date"))
    due_on = models.DateField(_("deadline"))
    state = models.CharField(_("state"), max_length=10, choices=PeriodState.choices, default=PeriodState.OPEN)
    methodology = models.ForeignKey(
        "indices.MethodologyVersion", verbose_name=_("methodology version"), on_delete=models.PROTECT,
        related_name="periods",
    )

    class Meta:
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        ordering = ["-data_year"]

    def __str__(self) -> str:
        return str(_("Data year %(year)s") % {"year": self.data_year})

    def clean(self):
        if self.opens_on and self.due_on and self.due_on < self.opens_on:
            raise ValidationError({"due_on": _("The deadline cannot be before the opening date.")})
        if self.data_year and self.opens_on and self.opens_on.year <= self.data_year:
            raise ValidationError({"opens_on": _("A period opens after the end of its data year.")})
        if self.methodology_id and self.methodology.is_draft:
            raise ValidationError({"methodology": _("A period collects data under a published methodology, "
                                                    "not a draft.")})


class ReturnState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for revision")
    APPROVED = "approved", _("Approved")


class ObservationStatus(models.TextChoices):
    FINAL = "final", _("Final")
    PROVISIONAL = "provisional", _("Provisional")
    ESTIMATED = "estimated", _("Estimated")


class IndicatorReturn(models.Model):
    """One city's annual return for one period (one revision of it)."""

    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="returns")
    period = models.ForeignKey(
        ReportingPeriod, verbose_name=_("reporting period"), on_delete=models.PROTECT, related_name="returns"
    )
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    state = models.CharField(_("state"), max_length=10, choices=ReturnState.choices, default=ReturnState.DRAFT)
    is_illustrative = models.BooleanField(
        _("illustrative data"), default=False, help_text=_("Synthetic demo values, not official statistics.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["period", "city", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["city", "period", "revision"], name="return_unique_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.city.name_zh} {self.period.data_year} r{self.revision}"


class ReturnValue(models.Model):
    indicator_return = models.ForeignKey(
        IndicatorReturn, verbose_name=_("return"), on_delete=models.CASCADE, related_name="values"
    )
    indicator = models.ForeignKey(
        "indices.Indicator", verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="values"
    )
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=8, null=True, blank=True)
    observation_status = models.CharField(
        _("observation status"), max_length=12, choices=ObservationStatus.choices, default=ObservationStatus.FINAL
    )
    source_note = models.CharField(_("source"), max_length=500, blank=True)
    explanation = models.TextField(_("explanation"), blank=True)

    class Meta:
        verbose_name = _("value")
        verbose_name_plural = _("values")
        ordering = ["indicator_return", "indicator__position"]
        constraints = [
            models.UniqueConstraint(fields=["indicator_return", "indicator"], name="return_value_unique_indicator"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} = {self.value}"


class AuditEvent(models.Model):
    """An append-only record of who did what, when, from where, and whether it worked."""

    occurred_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    event_type = models.CharField(_("event type"), max_length=60, db_index=True)
    success = models.BooleanField(_("success"), default=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event_type} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Audit events cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit events cannot be deleted."))
