"""Reporting periods, the returns cities file in them, their values, flags, comments, evidence and imports."""
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.models import City
from audit.models import AppendOnlyModel
from ccfi_portal.i18n import pick
from methodology.models import Severity
from reporting.validation import observation_status_label, render_message


class PeriodState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class PeriodPhase(models.TextChoices):
    """Where an open period stands by its dates (``ReportingPeriod.phase``), said the same way on every page."""
    OPEN = "open", _("Open for filing")
    PAST_DUE = "past_due", _("Past due")
    LOCKED = "locked", _("Locked")
    CLOSED = "closed", _("Closed")


class ReportingPeriod(models.Model):
    data_year = models.PositiveSmallIntegerField(_("data year"), unique=True)
    opens_on = models.DateField(_("opening date"))
    due_on = models.DateField(
        _("due date"), help_text=_("A return first submitted on or before this date is on time; later is late.")
    )
    locks_on = models.DateField(
        _("lock date"), null=True, blank=True,
        help_text=_("After this date filers can no longer edit, unless a reviewer grants their city an extension. "
                    "Empty: no lock before the period is closed."),
    )
    state = models.CharField(_("state"), max_length=10, choices=PeriodState.choices, default=PeriodState.OPEN)
    methodology = models.ForeignKey(
        "methodology.MethodologyVersion", verbose_name=_("methodology version"), on_delete=models.PROTECT,
        related_name="periods",
    )

    class Meta:
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        ordering = ["-data_year"]

    def __str__(self) -> str:
        return str(_("Data year %(year)s") % {"year": self.data_year})

    @property
    def phase(self) -> PeriodPhase:
        """Open, past its due date, past its lock date, or closed by the secretariat: the state follows the dates
        (a period left open long after its deadline reads as locked, not open)."""
        if self.state == PeriodState.CLOSED:
            return PeriodPhase.CLOSED
        today = timezone.localdate()
        if self.locks_on and today > self.locks_on:
            return PeriodPhase.LOCKED
        if today > self.due_on:
            return PeriodPhase.PAST_DUE
        return PeriodPhase.OPEN

    def clean(self):
        if self.opens_on and self.due_on and self.due_on < self.opens_on:
            raise ValidationError({"due_on": _("The deadline cannot be before the opening date.")})
        if self.due_on and self.locks_on and self.locks_on < self.due_on:
            raise ValidationError({"locks_on": _("The lock date cannot be before the due date.")})
        if self.data_year and self.opens_on and self.opens_on.year <= self.data_year:
            raise ValidationError({"opens_on": _("A period opens after the end of its data year.")})
        if self.methodology_id and self.methodology.is_draft:
            raise ValidationError({"methodology": _("A period collects data under a published methodology, "
                                                    "not a draft.")})


class PeriodExtension(models.Model):
    """A reviewer lets one city's filers keep editing after the period's lock date, until a given date."""

    period = models.ForeignKey(
        ReportingPeriod, verbose_name=_("reporting period"), on_delete=models.PROTECT, related_name="extensions"
    )
    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="extensions")
    until = models.DateField(_("extended until"))
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        ordering = ["period", "city", "-until"]

    def __str__(self) -> str:
        return f"{self.city.name_zh} {self.period.data_year} → {self.until:%Y-%m-%d}"


class ReturnState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for revision")
    APPROVED = "approved", _("Approved")
    SUPERSEDED = "superseded", _("Superseded by an amendment")
    WITHDRAWN = "withdrawn", _("Withdrawn amendment")


# States in which the filer works on the revision; at most one such revision per city and period.
OPEN_STATES = (ReturnState.DRAFT, ReturnState.SUBMITTED, ReturnState.RETURNED)
EDITABLE_STATES = (ReturnState.DRAFT, ReturnState.RETURNED)


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
    amends = models.ForeignKey(
        "self", verbose_name=_("amends"), null=True, blank=True, on_delete=models.PROTECT, related_name="amendments",
        help_text=_("The approved revision this amendment will replace once it is approved."),
    )
    amendment_reason = models.TextField(_("reason for the amendment"), blank=True)
    edit_version = models.PositiveIntegerField(
        _("edit version"), default=1,
        help_text=_("Counts saves that changed something, so that a save from a stale form is refused."),
    )
    submission_count = models.PositiveSmallIntegerField(_("submissions"), default=0)
    first_submitted_at = models.DateTimeField(_("first submitted at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
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
            # The revision in force: an amendment replaces it only when the amendment is approved.
            models.UniqueConstraint(fields=["city", "period"], condition=models.Q(state=ReturnState.APPROVED),
                                    name="return_one_approved_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.city.name_zh} {self.period.data_year} r{self.revision}"


class ReturnValue(models.Model):
    indicator_return = models.ForeignKey(
        IndicatorReturn, verbose_name=_("return"), on_delete=models.CASCADE, related_name="values"
    )
    indicator = models.ForeignKey(
        "methodology.Indicator", verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="values"
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


class ExplanationDecision(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


# The flags a reviewer rules on (accepts or rejects the filer's explanation); an INFO flag needs no ruling.
EXPLAINABLE = (Severity.WARNING, Severity.ERROR)


class ValueFlag(models.Model):
    """A warning or note the validation service raised on a stored value.

    Flags are refreshed whenever the return's values change; the message is stored as an
    untranslated template with its parameters so that each reader sees it in their language.
    """

    value = models.ForeignKey(ReturnValue, verbose_name=_("value"), on_delete=models.CASCADE, related_name="flags")
    check_code = models.CharField(_("check"), max_length=60)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    message = models.TextField(_("message"))
    params = models.JSONField(_("message parameters"), default=dict, blank=True)
    decision = models.CharField(
        _("decision on the explanation"), max_length=10, choices=ExplanationDecision.choices,
        default=ExplanationDecision.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("value flag")
        verbose_name_plural = _("value flags")
        ordering = ["value", "check_code"]
        constraints = [models.UniqueConstraint(fields=["value", "check_code"], name="value_flag_unique_check")]

    def __str__(self) -> str:
        return f"{self.value} {self.check_code} ({self.get_severity_display()})"

    def render(self) -> str:
        return render_message(self.message, self.params)


class ReasonCode(models.TextChoices):
    WRONG_UNIT = "wrong_unit", _("Wrong unit or scale")
    NO_EVIDENCE = "no_evidence", _("No supporting evidence")
    INCONSISTENT_LAST_YEAR = "inconsistent_last_year", _("Inconsistent with last year")
    INCONSISTENT_PEERS = "inconsistent_peers", _("Out of line with other cities")
    INCONSISTENT_RULE = "inconsistent_rule", _("Inconsistent with related values")
    SOURCE_MISSING = "source_missing", _("Source not stated or not verifiable")
    EXPLANATION_INSUFFICIENT = "explanation_insufficient", _("Explanation insufficient")
    OTHER = "other", _("Other")


class ReviewComment(models.Model):
    """A reviewer's comment on one value (or on the whole return), with a reason code."""

    indicator_return = models.ForeignKey(
        IndicatorReturn, verbose_name=_("return"), on_delete=models.CASCADE, related_name="comments"
    )
    indicator = models.ForeignKey(
        "methodology.Indicator", verbose_name=_("indicator"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("Empty for a comment on the whole return."),
    )
    reason_code = models.CharField(_("reason"), max_length=30, choices=ReasonCode.choices)
    text = models.TextField(_("comment"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submission_round = models.PositiveSmallIntegerField(
        _("submission"), help_text=_("Which submission of the return the comment was made on.")
    )

    class Meta:
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.indicator_return} {self.indicator.code if self.indicator else '—'}: {self.text[:40]}"


class ReturnSnapshot(models.Model):
    """The values of a revision as submitted, for the diff a reviewer sees at the next submission."""

    indicator_return = models.ForeignKey(
        IndicatorReturn, verbose_name=_("return"), on_delete=models.CASCADE, related_name="snapshots"
    )
    number = models.PositiveSmallIntegerField(_("submission"))
    taken_at = models.DateTimeField(_("taken at"), auto_now_add=True)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(_("values"), default=dict)

    class Meta:
        verbose_name = _("submission snapshot")
        verbose_name_plural = _("submission snapshots")
        ordering = ["indicator_return", "number"]
        constraints = [models.UniqueConstraint(fields=["indicator_return", "number"], name="snapshot_unique_number")]

    def __str__(self) -> str:
        return f"{self.indicator_return} #{self.number}"


class Channel(models.TextChoices):
    FORM = "form", _("Form")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    ADMIN = "admin", _("Administration")


class ValueChange(AppendOnlyModel):
    """One actual change of one field of one value: old → new, who, when, through which channel."""

    indicator_return = models.ForeignKey(
        IndicatorReturn, verbose_name=_("return"), on_delete=models.PROTECT, related_name="value_changes"
    )
    indicator = models.ForeignKey("methodology.Indicator", verbose_name=_("indicator"), on_delete=models.PROTECT,
                                  related_name="+")
    field = models.CharField(_("field"), max_length=30)
    old = models.TextField(_("old"), blank=True)
    new = models.TextField(_("new"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    edit_version = models.PositiveIntegerField(_("edit version"), help_text=_("The return's version after the save."))

    class Meta:
        verbose_name = _("value change")
        verbose_name_plural = _("value changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["indicator_return", "edit_version"])]

    # The fields a change names, as the return's form labels them (reporting/_partials/field_label.html).
    FIELD_LABELS = {"value": _("value"), "observation_status": _("status"), "source_note": _("source"),
                    "explanation": _("explanation")}

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.field_label}: {self.shown(self.old)} → {self.shown(self.new)}"

    @property
    def field_label(self) -> str:
        return str(self.FIELD_LABELS.get(self.field, self.field))

    def shown(self, raw: str) -> str:
        """An old or new value as people read it: a status by its label (终值), not its code (final)."""
        return observation_status_label(raw) if self.field == "observation_status" and raw else raw


def _random_name(folder: str, filename: str) -> str:
    """Stored files get a random name; the name the user gave is kept in the row, not on disk."""
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def evidence_upload_to(instance, filename: str) -> str:
    return _random_name("evidence", filename)


def import_upload_to(instance, filename: str) -> str:
    return _random_name("imports", filename)


class EvidenceFile(models.Model):
    """A supporting document for a return or for one of its values."""

    indicator_return = models.ForeignKey(
        IndicatorReturn, verbose_name=_("return"), on_delete=models.PROTECT, related_name="evidence"
    )
    indicator = models.ForeignKey(
        "methodology.Indicator", verbose_name=_("indicator"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("Empty for evidence about the whole return."),
    )
    file = models.FileField(_("file"), upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["indicator_return", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class ImportState(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed, not applied")
    REFUSED = "refused", _("Refused: the file has errors")
    APPLIED = "applied", _("Applied")
    STALE = "stale", _("Not applied: the return changed after the preview")


class ImportReport(models.Model):
    """An uploaded file, the outcome of every row of its preview, and whether it was applied."""

    period = models.ForeignKey(
        ReportingPeriod, verbose_name=_("reporting period"), on_delete=models.PROTECT, related_name="imports"
    )
    city = models.ForeignKey(
        City, verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT, related_name="imports",
        help_text=_("The city of a filer's import; empty for a file covering several cities."),
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    original_name = models.CharField(_("file name"), max_length=200)
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=200)
    file_format = models.CharField(_("format"), max_length=10)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=ImportState.choices)
    cells = models.JSONField(
        _("cells as read"), default=dict, blank=True,
        help_text=_("The file's headers and rows as parsed at the preview; confirming applies exactly these."),
    )
    rows = models.JSONField(_("rows"), default=list)
    summary = models.JSONField(_("summary"), default=dict)
    return_versions = models.JSONField(
        _("return versions at preview"), default=dict,
        help_text=_("Each return's edit version when the preview ran; confirming needs the same versions."),
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import report")
        verbose_name_plural = _("import reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"


class NotificationEvent(models.TextChoices):
    """The workflow steps people are told about, by e-mail and in the portal's inbox (reporting.notifications)."""
    SUBMITTED = "submitted", _("Return submitted")
    RETURNED = "returned", _("Return sent back")
    APPROVED = "approved", _("Return approved")
    AMENDMENT = "amendment", _("Amendment opened")
    EXTENSION = "extension", _("Deadline extended")


# Each event's subject, translated when read, so the inbox speaks the reader's language (and the e-mail both).
NOTIFICATION_SUBJECTS = {
    NotificationEvent.SUBMITTED: gettext_noop("%(city)s submitted its return for %(year)s"),
    NotificationEvent.RETURNED: gettext_noop("Your return for %(year)s was sent back for revision"),
    NotificationEvent.APPROVED: gettext_noop("Your return for %(year)s was approved"),
    NotificationEvent.AMENDMENT: gettext_noop("An amendment of %(city)s's return for %(year)s was opened"),
    NotificationEvent.EXTENSION: gettext_noop("%(city)s may keep editing its return for %(year)s until %(until)s"),
}


def notification_subject(event: str, params: dict, language: str | None = None) -> str:
    """The event's subject in ``language`` (by default the active one); ``params`` hold the city's name in both
    languages (city_zh, city_en), the year and any extra (until)."""
    with translation.override(language or translation.get_language()):
        values = {**params, "city": pick(params, "city")}
        return translation.gettext(NOTIFICATION_SUBJECTS[event]) % values


class Notification(models.Model):
    """One person's in-app notice of a workflow step, beside the e-mail: the event and its parameters, so the
    subject is said in the reader's language when read."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
                                  related_name="notifications")
    event = models.CharField(_("event"), max_length=20, choices=NotificationEvent.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.event} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def subject(self) -> str:
        return notification_subject(self.event, self.params)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
