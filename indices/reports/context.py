"""Template contexts of the white paper and the city report, in one language.

Everything a template prints is prepared here, already formatted for the language (numbers, 万/亿,
rank changes, names), so that the templates only lay it out. Call inside
``translation.override(language)``: the sentences below are translated by gettext.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import City
from ccfi_portal.i18n import is_chinese, pick
from indices.reports import charts
from indices.reports import formatting as fmt
from indices.reports.data import ReportData
from indices.selectors import ReaderItem, run_revision, strengths_and_weaknesses
from methodology.models import Aggregation, Normalisation

APPENDIX_COLUMNS = 9  # indicators per data-appendix table: 30 rows × 9 columns fill one A4 page


@dataclass(frozen=True)
class Lang:
    code: str

    @property
    def zh(self) -> bool:
        return is_chinese(self.code)

    def name(self, item) -> str:
        return pick(item, "name", self.code)

    def unit(self, item) -> str:
        return pick(item, "unit", self.code)

    def city(self, city: City) -> str:
        return pick(city, "name", self.code)

    def province(self, city: City) -> str:
        """The province, or nothing for a municipality (Chongqing, Chongqing)."""
        province = pick(city, "province", self.code)
        return "" if province.startswith(self.city(city)) else province


def _raw(value: float | None, decimals: int) -> str:
    return fmt.number(value, min(decimals, 2))


def _change_pct(now: float | None, before: float | None) -> str:
    if now is None or before in (None, 0):
        return fmt.DASH
    return fmt.signed((now - before) / abs(before) * 100, 1) + "%"


def _revised_cities(run, lang: Lang) -> list[str]:
    """For a later edition: each city whose values changed, with the indicators and the amendment's reason."""
    revision = run_revision(run=run) if run.is_published else None
    if revision is None:
        return []
    return [f"{pick(item.city, 'name', lang.code)} ({', '.join(item.codes)}{': ' + item.reason if item.reason else ''})"
            for item in revision.cities]


def _meta(data: ReportData, lang: Lang) -> dict:
    run = data.run
    stamp = run.published_at or run.finished_at or run.created_at
    version = run.methodology
    return {
        "edition": run.edition if run.is_published else None,
        "revised_cities": _revised_cities(run, lang),
        "html_lang": "zh-Hans" if lang.zh else "en",
        "year": run.period.data_year,
        "index_name": lang.name(data.root),
        "methodology": f"{version.code} {version.version}",
        "methodology_title": pick(version, "title", lang.code) or f"{version.code} {version.version}",
        "illustrative": data.illustrative,
        "date": stamp.date().isoformat(),
        "created": stamp.replace(microsecond=0).isoformat(),
        "input_hash": run.input_hash[:12],
        "cities": len(data.cities),
        "indicators": len(data.indicators),
        "published": run.is_published,
    }


# The white paper.

def white_paper_context(data: ReportData, language: str) -> dict:
    lang = Lang(language)
    meta = _meta(data, lang)
    meta["title"] = _("%(index)s %(year)s white paper") % {"index": meta["index_name"], "year": meta["year"]}
    profiles = [_profile(data, lang, city) for city in data.cities]
    # The contents list the cities in three columns, down each column: row i holds i, i + n, i + 2n.
    per_column = -(-len(profiles) // 3) if profiles else 0
    toc_city_rows = [[profiles[index] for index in range(row, len(profiles), per_column)]
                     for row in range(per_column)]
    return {
        "meta": meta,
        "toc_city_rows": toc_city_rows,
        "summary": _summary(data, lang),
        "overview": _overview(data, lang),
        "dimensions": [_dimension(data, lang, dimension) for dimension in data.dimensions],
        "profiles": profiles,
        "methodology": _methodology(data, lang),
        "appendix": _appendix(data, lang),
    }


def _summary(data: ReportData, lang: Lang) -> dict:
    root = data.root.code
    top = [{"rank": data.rank(city, root), "city": lang.city(city), "province": lang.province(city),
            "score": fmt.score(data.value(city, root)), "change": fmt.rank_change(data.rank_change(city, root))}
           for city in data.cities[:10]]
    moves = [(data.rank_change(city, root), city) for city in data.cities]
    moves = [(change, city) for change, city in moves if change is not None]
    risers = sorted((entry for entry in moves if entry[0] > 0), key=lambda entry: (-entry[0], entry[1].code))[:5]
    fallers = sorted((entry for entry in moves if entry[0] < 0), key=lambda entry: (entry[0], entry[1].code))[:5]

    def move_row(change, city):
        return {"city": lang.city(city), "change": fmt.rank_change(change), "rank": data.rank(city, root),
                "before": data.previous[(city.pk, root)].rank}

    leaders = []
    for dimension in data.dimensions:
        city = data.leader(dimension.code)
        leaders.append({"dimension": lang.name(dimension),
                        "city": lang.city(city) if city else fmt.DASH,
                        "score": fmt.score(data.value(city, dimension.code)) if city else fmt.DASH,
                        "median": fmt.score(data.spread(dimension.code)["median"])})
    spread = []
    for item in [data.root, *data.dimensions]:
        stats = data.spread(item.code)
        spread.append({"name": lang.name(item), **{key: fmt.score(value) for key, value in stats.items()}})
    totals = []
    for item in [*data.context_variables, *data.indicators]:
        if item.unit_zh in fmt.SUMMABLE_UNITS:
            totals.append(_total(data, lang, item))
    leader = data.cities[0] if data.cities else None
    root_stats = data.spread(root)
    headline = ""
    if leader is not None:
        headline = _(
            "%(city)s leads the %(year)s index with %(score)s points; the median city scores %(median)s, and "
            "half of the %(count)s cities lie between %(p25)s and %(p75)s."
        ) % {"city": lang.city(leader), "year": data.run.period.data_year,
             "score": fmt.score(data.value(leader, root)), "median": fmt.score(root_stats["median"]),
             "count": len(data.cities), "p25": fmt.score(root_stats["p25"]), "p75": fmt.score(root_stats["p75"])}
    return {
        "headline": headline,
        "top": top,
        "has_previous": data.previous_run is not None,
        "previous_year": data.previous_run.period.data_year if data.previous_run else None,
        "risers": [move_row(change, city) for change, city in risers],
        "fallers": [move_row(change, city) for change, city in fallers],
        "leaders": leaders,
        "spread": spread,
        "totals": totals,
    }


def _total(data: ReportData, lang: Lang, item) -> dict:
    values = [row.get(item.code) for row in data.values.values() if row.get(item.code) is not None]
    return {"name": lang.name(item), "cities": len(values),
            "total": fmt.amount(sum(values), unit_zh=item.unit_zh, unit_en=item.unit_en, language=lang.code),
            "median": fmt.amount(data.indicator_median(item.code), unit_zh=item.unit_zh, unit_en=item.unit_en,
                                 language=lang.code)}


def _overview(data: ReportData, lang: Lang) -> dict:
    root = data.root.code
    bars = [charts.Bar(label=lang.city(city), value=data.value(city, root),
                       note=fmt.rank_change(data.rank_change(city, root)) if data.previous_run else "")
            for city in data.cities]
    ranking = charts.ranking_bars(
        bars, axis_title=_("Composite score (0–100)"), title=_("Composite score by city"),
        median=data.spread(root)["median"], median_label=_("median"))
    columns, separators = [], []
    column_codes = []
    for dimension in data.dimensions:
        separators.append(len(columns))
        columns.append(lang.name(dimension))
        column_codes.append(dimension.code)
        for group in data.tree.children(dimension.code):
            if not group.is_indicator:
                columns.append(lang.name(group))
                column_codes.append(group.code)
    heat = charts.heat_map(
        [lang.city(city) for city in data.cities], columns,
        [[data.value(city, code) for code in column_codes] for city in data.cities],
        title=_("Dimension and group scores"), legend=_("score (0–100)"), separators=separators[1:],
        labelled=separators)
    band_rows = []
    for city in data.cities:
        score = data.score(city, root)
        band_rows.append(charts.Band(label=lang.city(city), rank=score.rank if score else None,
                                     low=score.rank_p05 if score else None, median=score.rank_median if score else None,
                                     high=score.rank_p95 if score else None))
    uncertainty = data.diagnostics.get("uncertainty") or {}
    bands = charts.rank_bands(
        band_rows, cities=len(data.cities), axis_title=_("Rank (1 = best)"), title=_("Rank uncertainty"),
        legend=[_("published rank"), _("5–95% of simulated ranks"), _("median simulated rank")])
    return {"ranking_chart": ranking, "heat_map": heat, "bands_chart": bands,
            "samples": uncertainty.get("samples"),
            "weight_noise": fmt.percent((uncertainty.get("weight_noise") or 0) * 100, 0)}


def _dimension(data: ReportData, lang: Lang, dimension: ReaderItem) -> dict:
    groups = [group for group in data.tree.children(dimension.code) if not group.is_indicator]
    stats = data.spread(dimension.code)
    leader = data.leader(dimension.code)
    ranked = sorted(data.cities, key=lambda city: (data.rank(city, dimension.code) or 10_000, city.code))
    bars = [charts.Bar(label=lang.city(city), value=data.value(city, dimension.code)) for city in ranked]
    chart = charts.ranking_bars(
        bars, axis_title=_("%(name)s score (0–100)") % {"name": lang.name(dimension)},
        title=lang.name(dimension), median=stats["median"], median_label=_("median"))
    strips = charts.group_strips(
        [lang.name(group) for group in groups],
        [[data.value(city, group.code) for city in data.cities] for group in groups],
        medians=[data.spread(group.code)["median"] for group in groups],
        title=_("Group scores"), axis_title=_("Group score (0–100); each tick is a city, ◆ the median"))
    rows = []
    for city in ranked:
        rows.append({
            "rank": data.rank(city, dimension.code), "city": lang.city(city),
            "score": fmt.score(data.value(city, dimension.code)),
            "change": fmt.rank_change(data.rank_change(city, dimension.code)),
            "groups": [{"score": fmt.score(data.value(city, group.code)), "rank": data.rank(city, group.code)}
                       for group in groups],
        })
    group_rows = []
    for group in groups:
        group_stats = data.spread(group.code)
        group_leader = data.leader(group.code)
        group_rows.append({
            "code": group.code, "name": lang.name(group), "weight": fmt.percent(group.effective_weight * 100, 1),
            "indicators": len(group.children), "median": fmt.score(group_stats["median"]),
            "range": f"{fmt.score(group_stats['min'])}–{fmt.score(group_stats['max'])}",
            "leader": lang.city(group_leader) if group_leader else fmt.DASH,
        })
    text = _(
        "%(dimension)s carries %(weight)s of the index. %(leader)s leads it with %(score)s points; the median "
        "city scores %(median)s and scores range from %(min)s to %(max)s."
    ) % {"dimension": lang.name(dimension), "weight": fmt.percent(dimension.effective_weight * 100, 1),
         "leader": lang.city(leader) if leader else fmt.DASH,
         "score": fmt.score(data.value(leader, dimension.code)) if leader else fmt.DASH,
         "median": fmt.score(stats["median"]), "min": fmt.score(stats["min"]), "max": fmt.score(stats["max"])}
    return {"code": dimension.code, "name": lang.name(dimension), "anchor": f"dimension-{dimension.code}",
            "text": text, "chart": chart, "strips": strips, "groups": [lang.name(group) for group in groups],
            "group_rows": group_rows, "rows": rows}


def _profile(data: ReportData, lang: Lang, city: City) -> dict:
    root = data.root.code
    rows = []
    groups = data.tree.groups()
    gaps = []
    for dimension in data.dimensions:
        # Each dimension, then its groups: one table instead of two.
        for item in [dimension, *(group for group in data.tree.children(dimension.code) if group in groups)]:
            value, median = data.value(city, item.code), data.medians.get(item.code)
            gap = value - median if value is not None and median is not None else None
            rows.append({"code": item.code, "name": lang.name(item), "level": 1 if item is dimension else 2,
                         "score": fmt.score(value),
                         "rank": data.rank(city, item.code), "median": fmt.score(median), "gap": fmt.signed(gap),
                         "above": gap is not None and gap > 0})
            if item is not dimension and gap is not None:
                gaps.append((gap, item))
    radar = charts.radar(
        [group.code for group in groups], [data.value(city, group.code) for group in groups],
        [data.medians.get(group.code) for group in groups],
        title=_("%(city)s: group scores against the median city") % {"city": lang.city(city)}, size=60)
    indicator_ranks = [(data.rank(city, item.code), item) for item in data.indicators if data.rank(city, item.code)]
    indicator_ranks.sort(key=lambda entry: (entry[0], entry[1].code))

    def indicator_row(rank, item):
        value = data.values.get(city.code, {}).get(item.code)
        return {"name": lang.name(item), "rank": rank, "value": _raw(value, item.decimals), "unit": lang.unit(item),
                "imputed": (city.code, item.code) in data.imputed}

    strong, weak = strengths_and_weaknesses(gaps, top=3)
    strengths, weaknesses = [lang.name(group) for group in strong], [lang.name(group) for group in weak]
    joiner = "、" if lang.zh else ", "
    figures = []
    for variable in data.context_variables:
        value = data.values.get(city.code, {}).get(variable.code)
        figures.append({"name": lang.name(variable),
                        "value": fmt.amount(value, unit_zh=variable.unit_zh, unit_en=variable.unit_en,
                                            language=lang.code)})
    return {
        "anchor": f"city-{city.code}", "name": lang.city(city), "province": lang.province(city),
        "other_name": city.name_en if lang.zh else city.name_zh,
        "rank": data.rank(city, root), "score": fmt.score(data.value(city, root)),
        "change": fmt.rank_change(data.rank_change(city, root)),
        "median": fmt.score(data.medians.get(root)), "rows": rows, "radar": radar,
        "strengths": joiner.join(strengths), "weaknesses": joiner.join(weaknesses),
        "best": [indicator_row(rank, item) for rank, item in indicator_ranks[:3]],
        "worst": [indicator_row(rank, item) for rank, item in indicator_ranks[::-1][:3]],
        "figures": figures,
    }


def _methodology(data: ReportData, lang: Lang) -> dict:
    rows = []
    for item in data.tree.items:
        rows.append({
            "level": item.level, "code": item.code, "name": lang.name(item),
            "unit": lang.unit(item) if item.is_indicator else "",
            "direction": ("+" if item.direction > 0 else "−") if item.is_indicator else "",
            "weight": fmt.percent(item.weight * 100, 1) if item.level else "",
            "effective": fmt.percent(item.effective_weight * 100, 2),
            "method": (str(Normalisation(item.normalisation).label) if item.normalisation in Normalisation.values
                       else item.normalisation) if item.is_indicator
            else (str(Aggregation(item.aggregation).label) if item.aggregation in Aggregation.values else ""),
        })
    engine = data.engine
    imputation = {
        "none": _("none: a missing value stays missing and the node is scored from the indicators present"),
        "group_mean": _("the mean of the other cities"),
        "group_median": _("the median of the other cities"),
        "last_period": _("the city's value of the previous year"),
    }
    settings_rows = []
    if engine is not None:
        low, high = engine.normalisation_range
        settings_rows = [
            (_("Normalisation range"), f"{fmt.number(low, 0)}–{fmt.number(high, 0)}"),
            (_("Weighting"), {"explicit": _("declared weights"), "equal": _("equal weights"),
                              "entropy": _("entropy weights")}.get(engine.weighting, engine.weighting)),
            (_("Data availability required"), fmt.percent(engine.availability_threshold * 100, 0)),
            (_("Imputation"), imputation.get(engine.imputation, engine.imputation)),
            (_("Outlier treatment"),
             (_("winsorise when |skew| ≥ %(skew)s and kurtosis ≥ %(kurtosis)s (at most %(points)s points)")
              % {"skew": engine.outlier_skew, "kurtosis": engine.outlier_kurtosis, "points": engine.winsorise_max})
             if engine.outlier_treatment else _("none")),
            (_("Uncertainty analysis"),
             _("%(samples)s Monte Carlo samples, weights ±%(noise)s") % {
                 "samples": engine.uncertainty.samples,
                 "noise": fmt.percent(engine.uncertainty.weight_noise * 100, 0)}),
        ]
    diagnostics = data.diagnostics
    audit = diagnostics.get("audit") or {}
    names = {item.code: lang.name(item) for item in data.tree.items}
    group_audit = [{"code": group["code"], "name": names.get(group["code"], group["code"]),
                    "children": len(group.get("children") or []),
                    "alpha": fmt.number(group.get("cronbach_alpha"), 2),
                    "correlation": fmt.number(group.get("correlation_with_parent"), 2)}
                   for group in audit.get("groups", [])]
    flagged = [{"code": indicator["code"], "name": names.get(indicator["code"], indicator["code"]),
                "flags": ", ".join(_flag_label(flag) for flag in indicator.get("flags") or [])}
               for indicator in audit.get("indicators", []) if indicator.get("flags")]
    correlation_flags = [{"first": flag["first"], "second": flag["second"],
                          "correlation": fmt.number(flag.get("correlation"), 2),
                          "kind": _("high (> 0.9)") if flag.get("kind") == "high" else _("negative")}
                         for flag in audit.get("flags", [])]
    return {"rows": rows, "settings": settings_rows, "group_audit": group_audit, "flagged": flagged,
            "correlation_flags": correlation_flags,
            "treatments": len(diagnostics.get("treatments") or []),
            "imputed_cells": len(diagnostics.get("imputed_cells") or []),
            "excluded_indicators": diagnostics.get("excluded_indicators") or []}


def _flag_label(flag: str) -> str:
    return fmt.audit_flag_label(flag)


def _appendix(data: ReportData, lang: Lang) -> dict:
    indicators = data.indicators
    tables = []
    for start in range(0, len(indicators), APPENDIX_COLUMNS):
        chunk = indicators[start:start + APPENDIX_COLUMNS]
        rows = []
        for city in data.cities:
            values = data.values.get(city.code, {})
            rows.append({"city": lang.city(city), "cells": [
                {"value": _raw(values.get(item.code), item.decimals),
                 "imputed": (city.code, item.code) in data.imputed} for item in chunk]})
        tables.append({"columns": [{"code": item.code, "unit": lang.unit(item)} for item in chunk], "rows": rows,
                       "part": len(tables) + 1})
    legend = [{"code": item.code, "name": lang.name(item), "unit": lang.unit(item)} for item in indicators]
    return {"tables": tables, "legend": legend, "parts": len(tables)}


# The city report.

def city_report_context(data: ReportData, city: City, language: str) -> dict:
    lang = Lang(language)
    meta = _meta(data, lang)
    meta["title"] = _("%(city)s: %(index)s %(year)s city report") % {
        "city": lang.city(city), "index": meta["index_name"], "year": meta["year"]}
    profile = _profile(data, lang, city)
    rows = []
    current = data.values.get(city.code, {})
    before = data.previous_values.get(city.code, {})
    for item in data.indicators:
        value = current.get(item.code)
        rows.append({
            "code": item.code, "name": lang.name(item), "unit": lang.unit(item),
            "direction": "+" if item.direction > 0 else "−",
            "value": _raw(value, item.decimals), "median": _raw(data.indicator_median(item.code), item.decimals),
            "rank": data.rank(city, item.code), "previous": _raw(before.get(item.code), item.decimals),
            "change": _change_pct(value, before.get(item.code)),
            "imputed": (city.code, item.code) in data.imputed,
        })
    return {"meta": meta, "profile": profile, "indicators": rows, "cities": len(data.cities),
            "has_previous_values": any(value is not None for value in before.values()),
            "direction_note": pgettext("report", "+ higher is better, − lower is better")}
