"""What the engine reads: a period's approved values laid out as the engine's matrices."""
import dataclasses
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from accounts.models import City
from indices.engine.spec import MethodologySpec
from reporting.models import ReportingPeriod, ReturnState, ReturnValue


@dataclass(frozen=True, eq=False)
class IndexInputs:
    """What the engine reads for a period: the cities with an approved return and their values."""

    units: tuple[str, ...]  # city codes, in a fixed order
    indicator_codes: tuple[str, ...]  # the columns of values: the methodology's indicators in tree order
    values: np.ndarray  # units × indicators, NaN = missing
    previous: np.ndarray  # last data year's approved values of the same cities (NaN where none)
    context: dict[str, dict[str, float]]  # context variables by city code (reported, not scored)
    cities_total: int | None = None  # None where not counted: previews never ask whether inputs are complete
    # The methodology's reference year (engine setting ``reference_year``): its approved values fix the
    # normalisation scale. None when no reference year is set or it is the period's own year.
    reference_year: int | None = None
    reference_units: tuple[str, ...] = ()
    reference: np.ndarray | None = None

    @property
    def is_complete(self) -> bool:
        return len(self.units) == self.cities_total

    def document(self) -> dict:
        """Every value read, as JSON data (stored on the run, so it stays reproducible after amendments)."""
        def rows(matrix, units):
            return {unit: {code: (None if np.isnan(value) else float(value))
                           for code, value in zip(self.indicator_codes, row, strict=True)}
                    for unit, row in zip(units, matrix, strict=True)}
        document = {"units": list(self.units), "indicators": list(self.indicator_codes),
                    "values": rows(self.values, self.units), "previous": rows(self.previous, self.units),
                    "context": self.context}
        if self.reference is not None:
            document["reference"] = {"year": self.reference_year, "units": list(self.reference_units),
                                     "values": rows(self.reference, self.reference_units)}
        return document


def index_inputs(*, period: ReportingPeriod, spec: MethodologySpec,
                 replace: dict[str, dict[str, float | None]] | None = None) -> IndexInputs:
    """The approved values of ``period`` laid out for ``spec`` (matched by indicator code, so a draft
    methodology can be tried on the same data). ``replace`` swaps in one city's values, e.g. a
    submitted return's, to preview what approving it would do."""
    current, earlier = period_approved_values(period)
    inputs = inputs_laid_out(spec, {**current, **(replace or {})}, earlier, cities_total=City.objects.count())
    reference_year = spec.engine.reference_year
    if reference_year is None or reference_year == period.data_year:
        return inputs
    reference_values = _approved_values(data_year=reference_year)
    reference_units = tuple(sorted(reference_values))
    return dataclasses.replace(inputs, reference_year=reference_year, reference_units=reference_units,
                               reference=values_matrix(reference_values, reference_units, inputs.indicator_codes))


def period_approved_values(period: ReportingPeriod) -> tuple[dict[str, dict], dict[str, dict]]:
    """The approved values of ``period`` and of the data year before it, by city code and indicator code."""
    return _approved_values(period_id=period.pk), _approved_values(data_year=period.data_year - 1)


def inputs_laid_out(spec: MethodologySpec, current: dict[str, dict], earlier: dict[str, dict],
              cities_total: int | None = None) -> IndexInputs:
    """Values by city and code as the engine's matrices; apart from ``index_inputs`` so that a preview can
    lay out the same loaded values twice (before and after a return) without reading them again."""
    indicator_codes = tuple(indicator.code for indicator in spec.indicators())
    context_codes = {variable.code for variable in spec.context_variables}
    units = tuple(sorted(current))
    return IndexInputs(
        units=units, indicator_codes=indicator_codes,
        values=values_matrix(current, units, indicator_codes), previous=values_matrix(earlier, units, indicator_codes),
        context={unit: {code: value for code, value in current[unit].items() if code in context_codes}
                 for unit in units},
        cities_total=cities_total,
    )


def _approved_values(*, period_id: int | None = None, data_year: int | None = None) -> dict[str, dict]:
    """{city code: {indicator code: value}} of the approved returns of one period, or of one data year."""
    period_filter = ({"indicator_return__period_id": period_id} if period_id is not None
                     else {"indicator_return__period__data_year": data_year})
    rows = ReturnValue.objects.filter(indicator_return__state=ReturnState.APPROVED, **period_filter).values_list(
        "indicator_return__city__code", "indicator__code", "value")
    result: dict[str, dict[str, float | None]] = defaultdict(dict)
    for city, code, value in rows:
        result[city][code] = None if value is None else float(value)
    return result


def values_matrix(values: dict[str, dict], units: tuple[str, ...], codes: tuple[str, ...]) -> np.ndarray:
    """Values by city and code as a units × codes matrix, NaN where a value is missing."""
    matrix = np.full((len(units), len(codes)), np.nan)
    for row, unit in enumerate(units):
        for column, code in enumerate(codes):
            value = values.get(unit, {}).get(code)
            if value is not None:
                matrix[row, column] = value
    return matrix
