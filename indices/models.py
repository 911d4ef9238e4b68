"""Methodology versions: the indicator tree, weights, bounds and normalisation settings.

A version is edited while it is a draft; publishing freezes it. The freeze is enforced here,
in save() and delete(), so no path (admin, import, shell) can change a published version.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from indices.engine import spec as spec_module
from indices.engine.errors import EngineError
from indices.engine.expressions import ExpressionError, parse_expression
from indices.engine.spec import DocumentError, Problem, bounds_problems, normalisation_problems

FROZEN_VERSION_MESSAGE = _(
    "Methodology %(code)s %(version)s is no longer a draft (%(state)s) and cannot be edited. "
    "Clone it to make a new draft."
)


def render_problem(problem: Problem, *, with_path: bool = True) -> str:
    """A spec problem in the active language."""
    text = gettext(problem.message) % problem.params if problem.params else gettext(problem.message)
    return f"{problem.path}: {text}" if with_path and problem.path else text


class MethodologyState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Aggregation(models.TextChoices):
    ARITHMETIC = "arithmetic", _("Weighted arithmetic mean")
    GEOMETRIC = "geometric", _("Weighted geometric mean")
    HARMONIC = "harmonic", _("Weighted harmonic mean")


class Normalisation(models.TextChoices):
    MINMAX = "minmax", _("Min-max")
    ZSCORE = "zscore", _("Z-score")
    GOALPOSTS = "goalposts", _("Goalposts")
    TARGET = "target", _("Distance to target")
    RATIO_BEST = "ratio_best", _("Ratio to the best")
    RATIO_MEAN = "ratio_mean", _("Ratio to the mean")
    RANK = "rank", _("Rank")
    PERCENTILE_RANK = "percentile_rank", _("Percentile rank")


class Direction(models.IntegerChoices):
    POSITIVE = 1, _("+ higher is better")
    NEGATIVE = -1, _("− lower is better")


class IndicatorKind(models.TextChoices):
    SCORED = "scored", _("Scored indicator")
    CONTEXT = "context", _("Context variable (reported, not scored)")


class MethodologyFrozenError(ValidationError):
    """Raised on any attempt to change a version that is no longer a draft."""

    def __init__(self, version: "MethodologyVersion"):
        super().__init__(
            FROZEN_VERSION_MESSAGE,
            code="frozen",
            params={"code": version.code, "version": version.version, "state": version.get_state_display()},
        )


class MethodologyVersion(models.Model):
    code = models.CharField(_("code"), max_length=20, help_text=_("Index code, e.g. CCFI."))
    version = models.CharField(_("version"), max_length=20, help_text=_("Version label, e.g. 2025.1."))
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=MethodologyState.choices, default=MethodologyState.DRAFT
    )
    cloned_from = models.ForeignKey(
        "self", verbose_name=_("cloned from"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="clones",
    )
    notes = models.TextField(_("notes"), blank=True)
    engine_settings = models.JSONField(
        _("engine settings"), default=dict, blank=True,
        help_text=_("Version-wide engine settings: imputation, outlier treatment, normalisation range, weighting, "
                    "uncertainty (docs/methodology-schema.md, section engine). Empty means the defaults."),
    )
    check_severities = models.JSONField(
        _("check severities"), default=dict, blank=True,
        help_text=_('How soft bounds, year-on-year change and unit slips are graded, e.g. {"soft_bounds": "warning"}.'),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )

    # Fields a frozen version may still change: its life-cycle stamps.
    LIFECYCLE_FIELDS = frozenset({"state", "published_at", "published_by"})

    class Meta:
        verbose_name = _("methodology version")
        verbose_name_plural = _("methodology versions")
        ordering = ["code", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="methodology_version_unique_label"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.version} ({self.get_state_display()})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored_state = MethodologyVersion.objects.filter(pk=self.pk).values_list("state", flat=True).first()
            update_fields = kwargs.get("update_fields")
            only_lifecycle = update_fields is not None and set(update_fields) <= self.LIFECYCLE_FIELDS
            if stored_state not in (None, MethodologyState.DRAFT) and not only_lifecycle:
                raise MethodologyFrozenError(self)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not self.is_draft:
            raise MethodologyFrozenError(self)
        return super().delete(*args, **kwargs)

    def clean(self):
        errors = {}
        for field, parse in (("engine_settings", spec_module.engine_from_document),
                             ("check_severities", spec_module.checks_from_document)):
            try:
                parse(getattr(self, field) or {})
            except DocumentError as error:
                errors[field] = [render_problem(problem) for problem in error.problems]
        if errors:
            raise ValidationError(errors)

    @property
    def is_draft(self) -> bool:
        return self.state == MethodologyState.DRAFT

    def root(self) -> "MethodologyNode | None":
        return self.nodes.filter(parent__isnull=True).first()


class VersionPart(models.Model):
    """A row that belongs to a methodology version and freezes with it."""

    version = models.ForeignKey(MethodologyVersion, verbose_name=_("methodology version"), on_delete=models.CASCADE)
    code = models.CharField(_("code"), max_length=30)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Order among siblings."))

    class Meta:
        abstract = True
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    def save(self, *args, **kwargs):
        self._check_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_editable()
        return super().delete(*args, **kwargs)

    def _check_editable(self):
        version = MethodologyVersion.objects.get(pk=self.version_id)
        if not version.is_draft:
            raise MethodologyFrozenError(version)


class MethodologyNode(VersionPart):
    """An inner node of the tree: the root (the index itself), a dimension, a group, or deeper."""

    version = models.ForeignKey(
        MethodologyVersion, verbose_name=_("methodology version"), on_delete=models.CASCADE, related_name="nodes"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    weight = models.FloatField(_("weight"), default=1.0, help_text=_("Relative to its siblings."))
    aggregation = models.CharField(
        _("aggregation"), max_length=12, choices=Aggregation.choices, default=Aggregation.ARITHMETIC,
        help_text=_("How this node combines its children."),
    )

    class Meta(VersionPart.Meta):
        verbose_name = _("tree node")
        verbose_name_plural = _("tree nodes")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="methodology_node_unique_code"),
        ]

    def clean(self):
        if self.parent_id and self.parent.version_id != self.version_id:
            raise ValidationError({"parent": _("The parent belongs to another methodology version.")})
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A node cannot be below itself.")})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class Indicator(VersionPart):
    """A leaf of the tree (scored) or a context variable (reported and validated, not scored)."""

    version = models.ForeignKey(
        MethodologyVersion, verbose_name=_("methodology version"), on_delete=models.CASCADE,
        related_name="indicators",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=IndicatorKind.choices, default=IndicatorKind.SCORED)
    parent = models.ForeignKey(
        MethodologyNode, verbose_name=_("parent"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="indicators", help_text=_("The group it is scored in; empty for a context variable."),
    )
    weight = models.FloatField(_("weight"), default=1.0, help_text=_("Relative to its siblings."))
    unit_zh = models.CharField(_("unit (Chinese)"), max_length=50)
    unit_en = models.CharField(_("unit (English)"), max_length=50)
    direction = models.SmallIntegerField(_("direction"), choices=Direction.choices, default=Direction.POSITIVE)
    decimals = models.PositiveSmallIntegerField(_("decimal places"), default=2)
    definition_zh = models.TextField(_("definition (Chinese)"), blank=True)
    definition_en = models.TextField(_("definition (English)"), blank=True)
    hard_min = models.FloatField(_("hard minimum"), null=True, blank=True, help_text=_("Below it a value is rejected."))
    hard_max = models.FloatField(_("hard maximum"), null=True, blank=True, help_text=_("Above it a value is rejected."))
    soft_min = models.FloatField(
        _("soft minimum"), null=True, blank=True, help_text=_("Below it a value needs an explanation.")
    )
    soft_max = models.FloatField(
        _("soft maximum"), null=True, blank=True, help_text=_("Above it a value needs an explanation.")
    )
    yoy_tolerance_pct = models.FloatField(
        _("year-on-year tolerance (%)"), null=True, blank=True,
        help_text=_("A change from last year's approved value beyond this needs an explanation."),
    )
    normalisation = models.CharField(
        _("normalisation"), max_length=20, choices=Normalisation.choices, default=Normalisation.MINMAX
    )
    normalisation_params = models.JSONField(
        _("normalisation parameters"), default=dict, blank=True,
        help_text=_('E.g. {"lower": 0, "upper": 100} for goalposts, {"target": 95} for distance to target.'),
    )
    log_transform = models.BooleanField(_("log transform"), default=False)

    class Meta(VersionPart.Meta):
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="indicator_unique_code"),
        ]

    @property
    def is_scored(self) -> bool:
        return self.kind == IndicatorKind.SCORED

    def clean(self):
        errors: dict[str, list] = {}
        if self.is_scored and not self.parent_id:
            errors.setdefault("parent", []).append(_("A scored indicator needs a parent group."))
        if not self.is_scored and self.parent_id:
            errors.setdefault("parent", []).append(_("A context variable is not scored and has no parent."))
        if self.parent_id and self.parent.version_id != self.version_id:
            errors.setdefault("parent", []).append(_("The parent belongs to another methodology version."))
        for problem in bounds_problems(
            hard_min=self.hard_min, hard_max=self.hard_max, soft_min=self.soft_min, soft_max=self.soft_max,
            yoy_tolerance_pct=self.yoy_tolerance_pct,
        ):
            errors.setdefault(problem.path, []).append(render_problem(problem, with_path=False))
        for problem in normalisation_problems(self.normalisation, self.normalisation_params or {}):
            errors.setdefault("normalisation_params", []).append(render_problem(problem, with_path=False))
        if errors:
            raise ValidationError(errors)


class Severity(models.TextChoices):
    ERROR = "error", _("Error (the value is refused)")
    WARNING = "warning", _("Warning (needs an explanation)")
    INFO = "info", _("Information")


class ToleranceKind(models.TextChoices):
    RELATIVE = "relative", _("Relative (share of the expected value)")
    ABSOLUTE = "absolute", _("Absolute (in the target's unit)")


class ValidationRule(VersionPart):
    """A cross-field rule: the target's value must match the expression within the tolerance.

    The names are what a filer reads when the rule flags a value.
    """

    version = models.ForeignKey(
        MethodologyVersion, verbose_name=_("methodology version"), on_delete=models.CASCADE, related_name="rules"
    )
    target = models.CharField(_("target"), max_length=30, help_text=_("Code of the value the rule checks."))
    expression = models.CharField(
        _("expression"), max_length=500,
        help_text=_("The expected value, e.g. {M2.1} * 1e8 / ({POP} * 1e4); "
                    "prev({M2.1}) is last year's approved value."),
    )
    tolerance_kind = models.CharField(
        _("tolerance kind"), max_length=10, choices=ToleranceKind.choices, default=ToleranceKind.RELATIVE
    )
    tolerance = models.FloatField(_("tolerance"), default=0.01)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)

    class Meta(VersionPart.Meta):
        verbose_name = _("validation rule")
        verbose_name_plural = _("validation rules")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="validation_rule_unique_code"),
        ]

    def clean(self):
        errors: dict[str, list] = {}
        try:
            parse_expression(self.expression)
        except ExpressionError as error:
            errors["expression"] = [str(error)]
        if self.tolerance is not None and self.tolerance <= 0:
            errors["tolerance"] = [_("The tolerance must be greater than zero.")]
        if errors:
            raise ValidationError(errors)


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
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

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
    def is_publishable(self) -> bool:
        """Whether the run may become its period's public result: it finished and every city's return was
        approved. One rule for the publish service and the run list's Publish button."""
        return self.state == RunState.SUCCEEDED and not self.is_provisional


class Score(models.Model):
    """One city's score and rank on one node of the tree (leaves: the normalised indicator)."""

    run = models.ForeignKey(IndexRun, verbose_name=_("index run"), on_delete=models.CASCADE, related_name="scores")
    city = models.ForeignKey("reporting.City", verbose_name=_("city"), on_delete=models.PROTECT, related_name="+")
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
        "reporting.City", verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
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
