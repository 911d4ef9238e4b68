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
