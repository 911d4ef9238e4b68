"""Previews: the index computed in memory, nothing stored. A methodologist tries a draft methodology on a
published run's data (what-if); a reviewer sees what approving a return would do (impact)."""
from dataclasses import dataclass

from django.utils.translation import gettext

from accounts.models import City
from indices.engine.compute import compute
from indices.engine.errors import EngineError
from indices.engine.results import EngineResult
from indices.engine.spec import MethodologySpec
from indices.models import IndexRun, Score
from indices.selectors.inputs import IndexInputs, inputs_laid_out, period_approved_values, values_matrix
from methodology.models import MethodologyVersion
from methodology.selectors import methodology_spec
from reporting.models import ReturnValue


def _inputs_from_run(*, run: IndexRun, spec: MethodologySpec) -> IndexInputs:
    """The values a run read, laid out for ``spec`` (matched by indicator code)."""
    stored = run.inputs
    units = tuple(stored["units"])
    codes = tuple(indicator.code for indicator in spec.indicators())
    reference = stored.get("reference")
    reference_units = tuple(reference["units"]) if reference else ()
    return IndexInputs(units=units, indicator_codes=codes, values=values_matrix(stored["values"], units, codes),
                       previous=values_matrix(stored.get("previous", {}), units, codes),
                       context=stored.get("context", {}),
                       reference_year=reference["year"] if reference else None, reference_units=reference_units,
                       reference=values_matrix(reference["values"], reference_units, codes) if reference else None)


def _preview(spec: MethodologySpec, inputs: IndexInputs) -> EngineResult:
    """The engine's scores and ranks alone (no audit, uncertainty or sensitivity): a preview needs no more."""
    return compute(methodology=spec, units=inputs.units, values=inputs.values, previous=inputs.previous,
                   reference=inputs.reference, audit=False)


@dataclass(frozen=True)
class WhatIfRow:
    city: City
    base_score: float | None
    base_rank: int | None
    new_score: float | None
    new_rank: int | None

    @property
    def rank_change(self) -> int | None:
        """Places gained under the draft (positive = up)."""
        return None if self.base_rank is None or self.new_rank is None else self.base_rank - self.new_rank

    @property
    def score_change(self) -> float | None:
        return None if self.base_score is None or self.new_score is None else self.new_score - self.base_score


@dataclass(frozen=True)
class WeightChange:
    code: str
    name_zh: str
    name_en: str
    base: float | None  # effective weight in the index; None: not in that version
    new: float | None


@dataclass(frozen=True)
class WhatIf:
    base_run: IndexRun
    methodology: MethodologyVersion
    rows: list[WhatIfRow]
    weight_changes: list[WeightChange]
    error: str = ""  # the engine's refusal of the draft, in the active language

    @property
    def moved(self) -> int:
        return sum(1 for row in self.rows if row.rank_change)


def methodology_whatif(*, run: IndexRun, methodology: MethodologyVersion) -> WhatIf:
    """Every city's composite score and rank under ``methodology``, computed on the data ``run`` read,
    beside the run's own: only the methodology differs, so every change is its effect."""
    spec = methodology_spec(version=methodology)
    base_spec = methodology_spec(version=run.methodology)
    base = {score.city_id: score for score in Score.objects.filter(run=run, level=0).select_related("city")}
    rows, error, new_weights = [], "", {}
    try:
        result = _preview(spec, _inputs_from_run(run=run, spec=spec))
    except EngineError as refused:
        result, error = None, refused.render(gettext)
    if result is not None:
        new_weights = result.effective_weights
        cities = {city.code: city for city in City.objects.filter(code__in=result.units)}
        for unit in result.units:
            city = cities[unit]
            old = base.get(city.pk)
            rows.append(WhatIfRow(city=city, base_score=old.value if old else None, base_rank=old.rank if old else None,
                                  new_score=result.score(unit, result.root), new_rank=result.rank(unit, result.root)))
    else:
        rows = [WhatIfRow(city=score.city, base_score=score.value, base_rank=score.rank, new_score=None,
                          new_rank=None) for score in base.values()]
    rows.sort(key=lambda row: (row.new_rank or row.base_rank or 10**6, row.city.code))
    return WhatIf(base_run=run, methodology=methodology, rows=rows, error=error,
                  weight_changes=_weight_changes(base_spec, run.diagnostics.get("effective_weights", {}), spec,
                                                 new_weights))


def _weight_changes(base_spec: MethodologySpec, base: dict, spec: MethodologySpec, new: dict) -> list[WeightChange]:
    names = {item.code: item for _path, _parent, item in base_spec.walk()}
    names.update({item.code: item for _path, _parent, item in spec.walk()})
    changes = []
    for code in dict.fromkeys([*base, *new]):
        old_weight, new_weight = base.get(code), new.get(code)
        if old_weight is None or new_weight is None or abs(old_weight - new_weight) > 1e-9:
            item = names[code]
            changes.append(WeightChange(code=code, name_zh=item.name_zh, name_en=item.name_en, base=old_weight,
                                        new=new_weight))
    return changes


@dataclass(frozen=True)
class ImpactMover:
    code: str
    name_zh: str
    name_en: str
    effect: float  # change of the composite score this indicator accounts for (effective weight × its score change)


@dataclass(frozen=True)
class ImpactNode:
    code: str
    name_zh: str
    name_en: str
    before: float | None
    after: float | None
    rank_before: int | None
    rank_after: int | None


@dataclass(frozen=True)
class ImpactPreview:
    """What approving a return would do to its city, against the period's approved data now."""

    city: City
    units_before: int
    units_after: int
    nodes: list[ImpactNode]  # the index, then its dimensions
    movers: list[ImpactMover]  # the indicators that move the composite most, largest effect first
    error: str = ""

    @property
    def index(self) -> ImpactNode | None:
        return self.nodes[0] if self.nodes else None


def return_impact_preview(*, indicator_return, movers: int = 5) -> ImpactPreview:
    """The city's composite and dimension scores and ranks before and after its return's values
    replace its approved ones (or join the ranking, for a first approval), and the indicators that
    account for most of the change. Scores are relative (min-max over all cities), so other cities'
    values matter too; both sides are computed on the same data apart from this return."""
    period = indicator_return.period
    spec = methodology_spec(version=period.methodology)
    city = indicator_return.city
    submitted = {code: (None if value is None else float(value)) for code, value in ReturnValue.objects.filter(
        indicator_return=indicator_return).values_list("indicator__code", "value")}
    current, earlier = period_approved_values(period)
    before_inputs = inputs_laid_out(spec, current, earlier)
    after_inputs = inputs_laid_out(spec, {**current, city.code: submitted}, earlier)
    try:
        before = _preview(spec, before_inputs) if before_inputs.units else None
        after = _preview(spec, after_inputs)
    except EngineError as refused:
        return ImpactPreview(city=city, units_before=len(before_inputs.units), units_after=len(after_inputs.units),
                             nodes=[], movers=[], error=refused.render(gettext))
    items = {item.code: item for _path, _parent, item in spec.walk()}

    def side(result, code):
        if result is None or city.code not in result.units:
            return None, None
        return result.score(city.code, code), result.rank(city.code, code)

    nodes = []
    for code in [spec.root.code, *(child.code for child in spec.root.children)]:
        (old, old_rank), (new, new_rank) = side(before, code), side(after, code)
        nodes.append(ImpactNode(code=code, name_zh=items[code].name_zh, name_en=items[code].name_en, before=old,
                                after=new, rank_before=old_rank, rank_after=new_rank))
    effects = []
    if before is not None and city.code in before.units:
        for code in after.indicator_codes:
            old, new = side(before, code)[0], side(after, code)[0]
            if old is not None and new is not None and new != old:
                effects.append(ImpactMover(code=code, name_zh=items[code].name_zh, name_en=items[code].name_en,
                                           effect=after.effective_weights[code] * (new - old)))
    effects.sort(key=lambda mover: -abs(mover.effect))
    return ImpactPreview(city=city, units_before=len(before_inputs.units), units_after=len(after_inputs.units),
                         nodes=nodes, movers=effects[:movers])
