"""Services of the methodology app: create, import, clone, publish and retire methodology versions."""
import dataclasses

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import audit_record
from ccfi_portal.cache import published_changed
from indices.engine import spec as methodology_spec_module
from indices.engine.spec import MethodologySpec, NodeSpec
from methodology.models import (
    Indicator,
    IndicatorKind,
    MethodologyFrozenError,
    MethodologyNode,
    MethodologyState,
    MethodologyVersion,
    ValidationRule,
    render_problem,
)
from methodology.selectors import methodology_spec

VERSION_EXISTS_MESSAGE = gettext_noop("Methodology %(code)s %(version)s already exists.")
NOT_PUBLISHABLE_MESSAGE = gettext_noop("Methodology %(code)s %(version)s cannot be published:")
NOT_PUBLISHED_MESSAGE = gettext_noop(
    "Only a published methodology can be retired; %(code)s %(version)s is %(state)s."
)


def _spec_to_rows(*, spec: MethodologySpec, version: MethodologyVersion) -> None:
    def add(item, parent: MethodologyNode | None, position: int) -> None:
        names = dict(version=version, code=item.code, name_zh=item.name_zh, name_en=item.name_en, position=position)
        if isinstance(item, NodeSpec):
            node = MethodologyNode.objects.create(
                **names, parent=parent, weight=item.weight, aggregation=item.aggregation
            )
            for index, child in enumerate(item.children, start=1):
                add(child, node, index)
        else:
            Indicator.objects.create(
                **names, **_variable_values(item), kind=IndicatorKind.SCORED, parent=parent,
                weight=item.weight, direction=item.direction, normalisation=item.normalisation,
                normalisation_params=dict(item.normalisation_params), log_transform=item.log_transform,
            )

    add(spec.root, None, 1)
    for index, rule in enumerate(spec.rules, start=1):
        ValidationRule.objects.create(
            version=version, code=rule.code, name_zh=rule.name_zh, name_en=rule.name_en, position=index,
            target=rule.target, expression=rule.expression, tolerance_kind=rule.tolerance_kind,
            tolerance=rule.tolerance, severity=rule.severity,
        )
    for index, variable in enumerate(spec.context_variables, start=1):
        Indicator.objects.create(
            version=version, code=variable.code, name_zh=variable.name_zh, name_en=variable.name_en,
            position=index, kind=IndicatorKind.CONTEXT, **_variable_values(variable),
        )


def _variable_values(variable) -> dict:
    return dict(
        unit_zh=variable.unit_zh, unit_en=variable.unit_en, decimals=variable.decimals,
        definition_zh=variable.definition_zh, definition_en=variable.definition_en,
        **dataclasses.asdict(variable.bounds),
    )


def methodology_create_from_spec(
    *, spec: MethodologySpec, actor, cloned_from: MethodologyVersion | None = None
) -> MethodologyVersion:
    """A new draft version holding ``spec``; refuses a code and version label already taken."""
    with transaction.atomic():
        try:
            # A savepoint: the unique constraint decides, even when two requests race for one label.
            with transaction.atomic():
                version = MethodologyVersion.objects.create(
                    code=spec.code, version=spec.version, title_zh=spec.title_zh, title_en=spec.title_en,
                    notes=spec.notes, cloned_from=cloned_from,
                    engine_settings=methodology_spec_module.engine_document(spec.engine),
                    check_severities=dataclasses.asdict(spec.checks),
                )
        except IntegrityError:
            raise ValidationError(_(VERSION_EXISTS_MESSAGE), code="exists",
                                  params={"code": spec.code, "version": spec.version}) from None
        _spec_to_rows(spec=spec, version=version)
        audit_record(
            actor=actor, event_type="methodology.clone" if cloned_from else "methodology.create", obj=version,
            details={"cloned_from": str(cloned_from)} if cloned_from else {},
        )
    return version


def methodology_import(*, text: str, actor, version_label: str | None = None) -> MethodologyVersion:
    """A new draft from a JSON document; an invalid document raises DocumentError and changes nothing."""
    spec = methodology_spec_module.loads(text)
    if version_label:
        spec = dataclasses.replace(spec, version=version_label)
    return methodology_create_from_spec(spec=spec, actor=actor)


def methodology_clone(*, version: MethodologyVersion, actor, new_version: str) -> MethodologyVersion:
    """A deep copy of ``version`` (any state) as a new draft."""
    spec = dataclasses.replace(methodology_spec(version=version), version=new_version)
    return methodology_create_from_spec(spec=spec, actor=actor, cloned_from=version)


def methodology_publish_problems(*, version: MethodologyVersion) -> list[str]:
    """What stops the version from being published, in the active language; empty when it may be."""
    spec = methodology_spec(version=version)
    roots = MethodologyNode.objects.filter(version=version, parent__isnull=True).count()
    problems = [render_problem(problem) for problem in methodology_spec_module.publish_problems(spec)]
    if roots != 1:
        problems.insert(0, _("the tree must have exactly one root node, it has %(count)s") % {"count": roots})
    reachable = {item.code for _path, _parent, item in spec.walk()}
    stored = set(MethodologyNode.objects.filter(version=version).values_list("code", flat=True)) | set(
        Indicator.objects.filter(version=version, kind=IndicatorKind.SCORED).values_list("code", flat=True))
    if stored - reachable:
        problems.append(_("not reachable from the root of the tree: %(codes)s")
                        % {"codes": ", ".join(sorted(stored - reachable))})
    return problems


@transaction.atomic
def methodology_publish(*, version: MethodologyVersion, actor) -> MethodologyVersion:
    """Validate, then freeze: a published version is never edited again."""
    # Lock the row so that two methodologists publishing at once cannot both pass the check.
    version = MethodologyVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise MethodologyFrozenError(version)
    problems = methodology_publish_problems(version=version)
    if problems:
        raise ValidationError(
            [_(NOT_PUBLISHABLE_MESSAGE) % {"code": version.code, "version": version.version}, *problems],
            code="not_publishable",
        )
    version.state = MethodologyState.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor if actor is not None and actor.is_authenticated else None
    version.save(update_fields=["state", "published_at", "published_by"])
    audit_record(actor=actor, event_type="methodology.publish", obj=version)
    published_changed()  # the public methodology pages and API list it from now on
    return version


@transaction.atomic
def methodology_retire(*, version: MethodologyVersion, actor) -> MethodologyVersion:
    version = MethodologyVersion.objects.select_for_update().get(pk=version.pk)
    if version.state != MethodologyState.PUBLISHED:
        raise ValidationError(_(NOT_PUBLISHED_MESSAGE), code="not_published", params={
            "code": version.code, "version": version.version, "state": version.get_state_display()})
    version.state = MethodologyState.RETIRED
    version.save(update_fields=["state"])
    audit_record(actor=actor, event_type="methodology.retire", obj=version)
    published_changed()
    return version
