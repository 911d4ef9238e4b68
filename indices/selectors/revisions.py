"""What changed when a published run replaced an earlier one: readers are told that a result was revised, when,
why and for which cities, not left to compare hashes."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from accounts.models import City
from indices.models import IndexRun
from reporting.models import IndicatorReturn, ReturnState


@dataclass(frozen=True)
class RevisedCity:
    city: City
    codes: tuple[str, ...]  # the indicators whose values differ from the earlier edition's
    reason: str  # the amendment's reason, as the city gave it


@dataclass(frozen=True)
class RunRevision:
    edition: int
    published_at: datetime.datetime | None
    replaced_edition: int | None
    methodology_changed: bool
    cities: tuple[RevisedCity, ...]


def _changed_codes(now: dict, before: dict) -> dict[str, tuple[str, ...]]:
    """By city code: the indicator codes whose value is not the same in both runs' inputs."""
    now_values, before_values = now.get("values", {}), before.get("values", {})
    changed = {}
    for unit in sorted(set(now_values) | set(before_values)):
        mine, theirs = now_values.get(unit, {}), before_values.get(unit, {})
        codes = tuple(sorted(code for code in set(mine) | set(theirs) if mine.get(code) != theirs.get(code)))
        if codes:
            changed[unit] = codes
    return changed


def run_revision(*, run: IndexRun) -> RunRevision | None:
    """The revision ``run`` made as its period's published result: None for a first edition."""
    if not run.edition or run.edition < 2 or run.replaces_id is None:
        return None
    replaced = IndexRun.objects.get(pk=run.replaces_id)
    changed = _changed_codes(run.inputs, replaced.inputs)
    cities = {city.code: city for city in City.objects.filter(code__in=changed)}
    reasons = dict(IndicatorReturn.objects.filter(
        period_id=run.period_id, city__code__in=changed, state=ReturnState.APPROVED, revision__gt=1,
    ).order_by("city__code", "revision").values_list("city__code", "amendment_reason"))
    return RunRevision(
        edition=run.edition, published_at=run.published_at, replaced_edition=replaced.edition,
        methodology_changed=replaced.methodology_id != run.methodology_id,
        cities=tuple(RevisedCity(city=cities[code], codes=codes, reason=reasons.get(code, ""))
                     for code, codes in changed.items() if code in cities),
    )
