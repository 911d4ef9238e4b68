"""Index runs (one per period and input hash), their scores per city and tree node, and the reports built
from a published run."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from indices.engine.errors import EngineError
from methodology.models import MethodologyVersion


class RunState(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class IndexRunQuerySet(models.QuerySet):
    def published(self) -> "IndexRunQuerySet":
        """The runs readers see: finished and published (at most one per period)."""
        return self.filter(state=RunState.SUCCEEDED, published_at__isnull=False)


class IndexRun(models.Model):
    """One computation of the index for a period: its inputs (by hash), settings, timings and outcome.

    A run is keyed by the hash of everything it reads (values, methodology document, engine version),
    so a retried or duplicated task finds the run it would have made instead of making another.
    """

    period = models.ForeignKey(
        "reporting.ReportingPeriod", verbose_name=_("reporting period"), on_delete=models.PROTECT, related_name="runs"
    )
    methodology = models.ForeignKey(
        MethodologyVersion, verbose_name=_("methodology version"), on_delete=models.PROTECT, related_name="runs"
    )
    input_hash = models.CharField(_("input hash"), max_length=64)
    engine_version = models.CharField(_("engine version"), max_length=20)
    state = models.CharField(_("state"), max_length=10, choices=RunState.choices, default=RunState.RUNNING)
    is_provisional = models.BooleanField(
        _("provisional"), default=True, help_text=_("Not every city's return was approved when it ran.")
    )
    units = models.PositiveSmallIntegerField(_("cities included"), default=0)
    error = models.TextField(_("error"), blank=True)
    inputs = models.JSONField(
        _("inputs"), default=dict, blank=True,
        help_text=_("Every value the run read, by city and indicator code, so it stays reproducible after amendments."),
    )
    timings = models.JSONField(_("timings (seconds)"), default=dict, blank=True)
    diagnostics = models.JSONField(_("diagnostics"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # host:pid of the process computing the run, so that a redelivery can tell a lost worker from a busy one.
    claimed_by = models.CharField(_("computed by"), max_length=100, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept when a later run replaces this one, so that readers learn the published result was revised.
    edition = models.PositiveSmallIntegerField(
        _("edition"), null=True, blank=True, help_text=_("1 for a period's first published run, 2 for the run that "
                                                         "replaced it, and so on."))
    replaces = models.ForeignKey(
        "self", verbose_name=_("replaces"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("The published run this one replaced."))

    objects = IndexRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("index run")
        verbose_name_plural = _("index runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["period"], condition=models.Q(published_at__isnull=False),
                                    name="index_run_one_published_per_period"),
            models.UniqueConstraint(fields=["period", "input_hash"], name="index_run_unique_inputs"),
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.methodology.code} {self.methodology.version} · {self.input_hash[:12]}"

    @property
    def error_display(self) -> str:
        """The failure in the active language when the engine gave its message template, else as stored."""
        failure = self.diagnostics.get("error") if isinstance(self.diagnostics, dict) else None
        if not failure:
            return self.error
        return EngineError(failure["message"], failure["params"]).render(gettext)

    @property
    def total_ms(self) -> float:
        return sum(self.timings.values()) * 1000

    @property
    def is_published(self) -> bool:
        """Readers see this run: the one test for a run in hand (for querysets: IndexRun.objects.published())."""
        return self.published_at is not None

    @property
    def is_publishable(self) -> bool:
        """Whether the run may become its period's public result: it finished and every city's return was
        approved. One rule for the publish service and the run list's Publish button."""
        return self.state == RunState.SUCCEEDED and not self.is_provisional


class Score(models.Model):
    """One city's score and rank on one node of the tree (leaves: the normalised indicator)."""

    run = models.ForeignKey(IndexRun, verbose_name=_("index run"), on_delete=models.CASCADE, related_name="scores")
    city = models.ForeignKey("accounts.City", verbose_name=_("city"), on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=30)
    level = models.PositiveSmallIntegerField(_("level"), help_text=_("0 is the index, then dimensions, groups, ..."))
    value = models.FloatField(_("score"), null=True, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"), null=True, blank=True)
    rank_p05 = models.FloatField(_("rank, 5th percentile"), null=True, blank=True)
    rank_median = models.FloatField(_("rank, median"), null=True, blank=True)
    rank_p95 = models.FloatField(_("rank, 95th percentile"), null=True, blank=True)
    imputed = models.BooleanField(_("imputed"), default=False)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["run", "level", "code", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["run", "city", "code"], name="score_unique_city_code"),
        ]
        indexes = [models.Index(fields=["run", "code", "rank"])]

    def __str__(self) -> str:
        return f"{self.code} {self.value} (#{self.rank})"


class ReportKind(models.TextChoices):
    WHITE_PAPER = "white_paper", _("Annual white paper")
    CITY = "city", _("City report")


class ReportState(models.TextChoices):
    BUILDING = "building", _("Building")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Report(models.Model):
    """A PDF built from an index run: the white paper of one language, or one city's report.

    One row per run, kind, language (and city): a rebuild replaces the file only once the new one is
    complete, so a failed build leaves the previous file (and its checksum, size and page count) in
    place and records the error beside it.
    """

    run = models.ForeignKey(IndexRun, verbose_name=_("index run"), on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(_("kind"), max_length=12, choices=ReportKind.choices)
    city = models.ForeignKey(
        "accounts.City", verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("The city of a city report; empty for the white paper."),
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    file = models.FileField(_("file"), upload_to="reports/", max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    build_seconds = models.FloatField(_("build time (seconds)"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=ReportState.choices, default=ReportState.BUILDING)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    built_at = models.DateTimeField(_("built at"), null=True, blank=True,
                                    help_text=_("When the current file was written."))

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-run__period__data_year", "kind", "city__code", "language"]
        constraints = [
            models.UniqueConstraint(fields=["run", "kind", "language"], condition=models.Q(city__isnull=True),
                                    name="report_unique_edition"),
            models.UniqueConstraint(fields=["run", "kind", "language", "city"],
                                    condition=models.Q(city__isnull=False), name="report_unique_city_edition"),
        ]

    def __str__(self) -> str:
        city = f" {self.city.name_zh}" if self.city_id else ""
        return f"{self.run.period.data_year} {self.get_kind_display()}{city} ({self.language})"

    @property
    def is_available(self) -> bool:
        return bool(self.file) and bool(self.sha256)


class WorkState(models.TextChoices):
    PENDING = "pending", _("Waiting to be queued")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


UNFINISHED_WORK = (WorkState.PENDING, WorkState.QUEUED, WorkState.RUNNING)


class WorkRequest(models.Model):
    """A request for background work: the outbox.

    Written in the same transaction as the change that asks for it (an approval, a publication, a
    rebuild, a recompute by hand), handed to the broker after the commit, and handed again by the
    sweep (indices.outbox) until a worker finishes it. A broker outage or a killed worker delays the
    work; it never loses it.
    """

    task = models.CharField(_("task"), max_length=60)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=WorkState.choices, default=WorkState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    period = models.ForeignKey("reporting.ReportingPeriod", verbose_name=_("reporting period"), null=True,
                               blank=True, on_delete=models.CASCADE, related_name="work_requests")
    run = models.ForeignKey(IndexRun, verbose_name=_("index run"), null=True, blank=True, on_delete=models.CASCADE,
                            related_name="work_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=100, blank=True)  # host:pid of the process running it
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The X-Request-ID of the request that asked for the work: its task logs under the same id.
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("work request")
        verbose_name_plural = _("work requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="work_request_state_age")]

    def __str__(self) -> str:
        return f"{self.task}{self.args} {self.state}"

    @property
    def seconds(self) -> float | None:
        """How long it ran, or has been running so far."""
        if self.started_at is None:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
