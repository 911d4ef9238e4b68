"""The methodology as readers see it: the tree with units, methods and effective weights, and which
versions a reader may open."""
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import QuerySet

from accounts.permissions import may_see_draft_methodology
from indices.engine.spec import NodeSpec
from indices.engine.tree import document_weights
from indices.models import IndexRun
from methodology.models import MethodologyState, MethodologyVersion
from methodology.selectors import methodology_spec


@dataclass(frozen=True)
class ReaderItem:
    """A node or an indicator of the tree with what a reader needs to understand its score."""

    code: str
    name_zh: str
    name_en: str
    level: int  # 0 the index, 1 dimensions, 2 groups, 3 indicators
    parent: str | None
    children: tuple[str, ...]
    is_indicator: bool
    weight: float  # share among its siblings
    effective_weight: float  # weight in the index (root 1)
    aggregation: str = ""  # nodes
    unit_zh: str = ""  # indicators
    unit_en: str = ""
    direction: int = 1
    decimals: int = 2
    normalisation: str = ""
    normalisation_params: dict = field(default_factory=dict)
    log_transform: bool = False
    definition_zh: str = ""
    definition_en: str = ""

    @property
    def is_group(self) -> bool:
        return self.level == 2 and not self.is_indicator


@dataclass(frozen=True)
class ReaderTree:
    items: tuple[ReaderItem, ...]  # tree order, root first
    weighting: str  # explicit, equal or entropy
    weights_from_run: bool  # effective weights as a run computed them (else from the document)
    normalisation_range: tuple[float, float]
    imputation: str

    @cached_property
    def by_code(self) -> dict[str, ReaderItem]:
        return {item.code: item for item in self.items}

    @property
    def root(self) -> ReaderItem:
        return self.items[0]

    def item(self, code: str) -> ReaderItem | None:
        return self.by_code.get(code)

    def children(self, code: str) -> list[ReaderItem]:
        by_code = self.by_code
        return [by_code[child] for child in by_code[code].children]

    def path(self, code: str) -> list[ReaderItem]:
        """The items from the root down to ``code``."""
        by_code, path = self.by_code, []
        item = by_code.get(code)
        while item is not None:
            path.append(item)
            item = by_code.get(item.parent) if item.parent else None
        return path[::-1]

    def groups(self) -> list[ReaderItem]:
        """The groups: nodes two levels below the index (the dimensions when the tree has no groups)."""
        groups = [item for item in self.items if item.is_group]
        return groups or [item for item in self.items if item.level == 1 and not item.is_indicator]


def methodology_reader_tree(*, version: MethodologyVersion, run=None) -> ReaderTree:
    """The version's tree with units, directions, methods and effective weights.

    Weights come from ``run.diagnostics`` (what the engine used, e.g. after entropy weighting or
    excluded indicators) when a run is given or the version has a published run; otherwise the
    engine's tree helpers compute them from the document's declared weights.
    """
    spec = methodology_spec(version=version)
    if run is None:
        run = IndexRun.objects.published().filter(methodology=version).order_by("-period__data_year").first()
    diagnostics = (run.diagnostics or {}) if run is not None else {}
    from_run = bool(diagnostics.get("effective_weights"))
    if from_run:
        shares, effective = diagnostics.get("weights") or {}, diagnostics["effective_weights"]
    else:
        shares, effective = document_weights(spec)
    items: list[ReaderItem] = []

    def visit(item, parent: str | None, level: int) -> None:
        common = dict(
            code=item.code, name_zh=item.name_zh, name_en=item.name_en, level=level, parent=parent,
            weight=float(shares.get(item.code) or 0.0), effective_weight=float(effective.get(item.code) or 0.0),
        )
        if isinstance(item, NodeSpec):
            items.append(ReaderItem(**common, children=tuple(child.code for child in item.children),
                                    is_indicator=False, aggregation=item.aggregation))
            for child in item.children:
                visit(child, item.code, level + 1)
        else:
            items.append(ReaderItem(
                **common, children=(), is_indicator=True, unit_zh=item.unit_zh, unit_en=item.unit_en,
                direction=item.direction, decimals=item.decimals, normalisation=item.normalisation,
                normalisation_params=dict(item.normalisation_params), log_transform=item.log_transform,
                definition_zh=item.definition_zh, definition_en=item.definition_en,
            ))

    visit(spec.root, None, 0)
    return ReaderTree(items=tuple(items), weighting=spec.engine.weighting,
                      weights_from_run=from_run, normalisation_range=tuple(spec.engine.normalisation_range),
                      imputation=spec.engine.imputation)


def methodology_versions_for_reader(*, user=None) -> QuerySet[MethodologyVersion]:
    """Versions a reader may open: published and retired ones; drafts too for the secretariat."""
    versions = MethodologyVersion.objects.order_by("code", "-published_at", "-created_at")
    if not may_see_draft_methodology(user):
        versions = versions.exclude(state=MethodologyState.DRAFT)
    return versions


def methodology_current_for_reader() -> MethodologyVersion | None:
    """The version of the newest published run, else the newest published version."""
    run = IndexRun.objects.published().select_related("methodology").order_by("-period__data_year").first()
    if run is not None:
        return run.methodology
    return (MethodologyVersion.objects.filter(state=MethodologyState.PUBLISHED)
            .order_by("-published_at", "-created_at").first())
