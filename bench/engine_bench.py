"""Times of the index engine, side by side with the plain pandas version an analyst would write.

Run from the repository root:  .venv/bin/python bench/engine_bench.py  [--quick]

Rows (issue 4, "Done when"):
- the CCFI (30 × 33) full recompute from the database to stored scores: a hook for the Django layer,
  ``time_ccfi_recompute_from_database()`` below, on a throw-away SQLite database (BENCH_DATABASE_URL for another);
- the engine alone at 3,000 units × 150 indicators × 4 levels (indicators, groups, dimensions, index);
- 1,000 Monte Carlo samples at that size and at the CCFI size.

The pandas side does the same steps the plain way: min-max per indicator (direction applied),
weighted means up the tree with a groupby per level, ranks; for Monte Carlo a Python loop over
perturbed weights. ``--quick`` runs 100 pandas samples instead of 1,000 and scales the time up.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from bench_django import ROOT, setup_django  # also puts the project on sys.path

from indices.engine import spec
from indices.engine.compute import compute
from indices.engine.settings import EngineSettings, UncertaintySettings
from indices.engine.spec import IndicatorSpec, MethodologySpec, NodeSpec

SAMPLES = 1000
SEED = 2025


# Inputs.

def large_methodology(*, indicators: int = 150, groups: int = 30, dimensions: int = 5) -> MethodologySpec:
    """150 indicators → 30 groups → 5 dimensions → index, with uneven weights and some direction −1."""
    rng = np.random.default_rng(1)
    per_group, per_dimension = indicators // groups, groups // dimensions
    counter = iter(range(indicators))
    dimension_nodes = []
    for dimension in range(dimensions):
        group_nodes = []
        for group in range(per_group and per_dimension):
            leaves = []
            for _ in range(per_group):
                index = next(counter)
                leaves.append(IndicatorSpec(code=f"I{index:03d}", name_zh="指标", name_en="Indicator", unit_zh="",
                                            unit_en="", weight=float(rng.integers(1, 4)),
                                            direction=-1 if index % 7 == 0 else 1))
            group_nodes.append(NodeSpec(code=f"G{dimension}.{group}", name_zh="组", name_en="Group",
                                        weight=float(rng.integers(1, 3)), children=tuple(leaves)))
        dimension_nodes.append(NodeSpec(code=f"D{dimension}", name_zh="维度", name_en="Dimension",
                                        children=tuple(group_nodes)))
    root = NodeSpec(code="INDEX", name_zh="指数", name_en="Index", children=tuple(dimension_nodes))
    return MethodologySpec(code="BENCH", version="1", root=root)


def large_values(methodology: MethodologySpec, units: int = 3000) -> np.ndarray:
    return np.random.default_rng(2).lognormal(mean=3.0, sigma=0.8, size=(units, len(methodology.indicators())))


def ccfi_inputs() -> tuple[MethodologySpec, list[str], np.ndarray, str]:
    """The default methodology with the demo's illustrative 2024 values when Django can load them."""
    methodology = spec.loads((ROOT / "methodology" / "methodologies" / "ccfi-2025.1.json").read_text("utf-8"))
    codes = [indicator.code for indicator in methodology.indicators()]
    try:
        setup_django()
        from indices.demo import demo_values

        values = demo_values(methodology=methodology)
        cities = sorted(values)
        year = max(next(iter(values.values())))
        matrix = np.array([[float(values[city][year][code]) for code in codes] for city in cities])
        return methodology, cities, matrix, f"reporting.demo.demo_values, {year}"
    except Exception as error:  # noqa: BLE001 - the bench still runs on synthetic data
        matrix = np.random.default_rng(3).lognormal(size=(30, len(codes)))
        return methodology, [f"city{index}" for index in range(30)], matrix, f"synthetic ({type(error).__name__})"


# The pandas version.

class PandasIndex:
    """What an analyst would write with pandas: no imputation, treatment or diagnostics."""

    def __init__(self, methodology: MethodologySpec, values: np.ndarray, units: list[str]):
        self.indicators = [indicator.code for indicator in methodology.indicators()]
        self.frame = pd.DataFrame(values, index=units, columns=self.indicators)
        self.directions = pd.Series({indicator.code: indicator.direction for indicator in methodology.indicators()})
        self.parent = {item.code: parent for _, parent, item in methodology.walk() if parent}
        self.weights = pd.Series({item.code: item.weight for _, parent, item in methodology.walk() if parent})

    def normalise(self) -> pd.DataFrame:
        oriented = self.frame * self.directions
        return (oriented - oriented.min()) / (oriented.max() - oriented.min()) * 100

    def levels(self, normalised: pd.DataFrame, weights: pd.Series) -> list[pd.DataFrame]:
        """Scores level by level, indicators first, root last; weights re-normalised over present children."""
        current, levels = normalised, [normalised]
        while True:
            parents = pd.Series({code: self.parent[code] for code in current.columns if code in self.parent})
            if parents.empty:
                return levels
            w = weights[current.columns]
            numerator = current.mul(w, axis=1).T.groupby(parents).sum().T
            denominator = current.notna().mul(w, axis=1).T.groupby(parents).sum().T
            current = numerator / denominator
            levels.append(current)

    def root_ranks(self) -> pd.Series:
        root = self.levels(self.normalise(), self.weights)[-1]
        return root.iloc[:, 0].rank(ascending=False, method="min")

    def all_ranks(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        scores = pd.concat(self.levels(self.normalise(), self.weights), axis=1)
        return scores, scores.rank(ascending=False, method="min")

    def monte_carlo(self, samples: int, *, noise: float = 0.25, seed: int = SEED) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        normalised = self.normalise()
        ranks = []
        for _ in range(samples):
            weights = self.weights * rng.uniform(1 - noise, 1 + noise, size=len(self.weights))
            root = self.levels(normalised, weights)[-1].iloc[:, 0]
            ranks.append(root.rank(ascending=False, method="min"))
        table = pd.concat(ranks, axis=1)
        return pd.DataFrame({"median": table.median(axis=1), "q05": table.quantile(0.05, axis=1),
                             "q95": table.quantile(0.95, axis=1)})


# Timing.

def best_of(function, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def once(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def time_ccfi_recompute_from_database(repeats: int = 5) -> float:
    """Seconds (best of ``repeats``) for the CCFI (30 × 33) full recompute from the database to stored scores:
    load the approved values, compute with the 1,000-sample uncertainty analysis, write the run and its scores."""
    setup_django()
    from django.core.management import call_command

    from indices.demo import demo_load
    from indices.models import IndexRun
    from indices.services import index_run_compute
    from reporting.models import ReportingPeriod

    call_command("migrate", verbosity=0)
    demo_load()
    period = ReportingPeriod.objects.select_related("methodology").get(data_year=2024)
    times = []
    for _ in range(repeats):
        IndexRun.objects.filter(period=period).delete()
        start = time.perf_counter()
        run = index_run_compute(period=period)
        times.append(time.perf_counter() - start)
        assert run.state == "succeeded" and run.scores.count() == 30 * 49, run.error
    return min(times)


def weights_only(samples: int) -> EngineSettings:
    """The pandas loop's steps: min-max, arithmetic means, weights × U(0.75, 1.25)."""
    return EngineSettings(uncertainty=UncertaintySettings(samples=samples, seed=SEED, weight_noise=0.25,
                                                          normalisations=("minmax",), aggregations=("arithmetic",)))


def alternating(samples: int) -> EngineSettings:
    """Weights perturbed and methods alternated; on 1–100 so geometric means never meet a zero."""
    return EngineSettings(normalisation_range=(1.0, 100.0), uncertainty=UncertaintySettings(
        samples=samples, seed=SEED, weight_noise=0.25, normalisations=("minmax", "percentile_rank"),
        aggregations=("arithmetic", "geometric")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 pandas Monte Carlo samples, scaled up to 1,000.")
    options = parser.parse_args()
    pandas_samples = 100 if options.quick else SAMPLES

    large = large_methodology()
    values = large_values(large)
    units = [f"u{index}" for index in range(len(values))]
    ccfi, cities, ccfi_values, source = ccfi_inputs()
    pandas_large, pandas_ccfi = PandasIndex(large, values, units), PandasIndex(ccfi, ccfi_values, cities)

    engine_root = compute(methodology=large, units=units, values=values, audit=False).scores[:, 0]
    pandas_root = pandas_large.levels(pandas_large.normalise(), pandas_large.weights)[-1].iloc[:, 0].to_numpy()
    agree = np.allclose(engine_root, pandas_root, rtol=1e-12, atol=1e-12)

    rows = []
    database = time_ccfi_recompute_from_database()
    rows.append(("CCFI 30 × 33 full recompute, database → stored scores",
                 _ms(database), "—", "< 500 ms"))
    rows.append(("Engine alone, 3,000 × 150 × 4 levels (no audit)",
                 _ms(best_of(lambda: compute(methodology=large, units=units, values=values, audit=False), 7)),
                 f"{_ms(best_of(pandas_large.root_ranks, 7))} root rank only; "
                 f"{_ms(best_of(pandas_large.all_ranks, 7))} every node scored and ranked",
                 "≤ pandas"))
    rows.append(("  … with the statistical audit",
                 _ms(best_of(lambda: compute(methodology=large, units=units, values=values), 3)), "—", "—"))
    rows.append(("Engine alone, CCFI 30 × 33 (with audit)",
                 _ms(best_of(lambda: compute(methodology=ccfi, units=cities, values=ccfi_values), 7)),
                 _ms(best_of(pandas_ccfi.all_ranks, 7)), "—"))

    large_mc = best_of(lambda: compute(methodology=large, units=units, values=values, audit=False,
                                       uncertainty=True, settings=weights_only(SAMPLES)), 3)
    large_mc_methods = best_of(lambda: compute(methodology=large, units=units, values=values, audit=False,
                                               uncertainty=True, settings=alternating(SAMPLES)), 3)
    pandas_large_mc = once(lambda: pandas_large.monte_carlo(pandas_samples)) * SAMPLES / pandas_samples
    rows.append(("1,000 Monte Carlo samples, 3,000 × 150: weights perturbed",
                 _s(large_mc), _s(pandas_large_mc) + (" (scaled from 100)" if options.quick else ""), "< 5 s"))
    rows.append(("  … also alternating normalisation and aggregation", _s(large_mc_methods), "—", "< 5 s"))

    ccfi_mc = best_of(lambda: compute(methodology=ccfi, units=cities, values=ccfi_values, audit=False,
                                      uncertainty=True, settings=weights_only(SAMPLES)), 3)
    ccfi_mc_methods = best_of(lambda: compute(methodology=ccfi, units=cities, values=ccfi_values, audit=False,
                                              uncertainty=True, settings=alternating(SAMPLES)), 3)
    ccfi_default = compute(methodology=ccfi, units=cities, values=ccfi_values, audit=False, uncertainty=True,
                           uncertainty_nodes=[node.code for node in ccfi.nodes()])
    ccfi_default_time = best_of(lambda: compute(methodology=ccfi, units=cities, values=ccfi_values, audit=False,
                                                uncertainty=True,
                                                uncertainty_nodes=[node.code for node in ccfi.nodes()]), 3)
    pandas_ccfi_mc = once(lambda: pandas_ccfi.monte_carlo(pandas_samples)) * SAMPLES / pandas_samples
    rows.append(("1,000 Monte Carlo samples, CCFI 30 × 33: weights perturbed",
                 _s(ccfi_mc), _s(pandas_ccfi_mc) + (" (scaled from 100)" if options.quick else ""), "< 1 s"))
    rows.append(("  … also alternating normalisation and aggregation", _s(ccfi_mc_methods), "—", "< 1 s"))
    valid = ccfi_default.uncertainty.valid_samples
    rows.append((f"  … the version's own settings, bands for all 16 nodes ({valid} of 1,000 samples valid)",
                 _s(ccfi_default_time), "—", "—"))
    sensitivity = best_of(lambda: compute(methodology=large, units=units, values=values, audit=False,
                                          sensitivity=True), 3)
    rows.append(("Sensitivity (drop each of 150 indicators and 35 nodes), 3,000 × 150", _s(sensitivity), "—", "—"))

    print(f"numpy {np.__version__}, pandas {pd.__version__}, {os.cpu_count()} CPUs; CCFI values: {source}")
    print(f"engine and pandas agree on the 3,000-unit index: {'yes' if agree else 'NO'}")
    widths = [max(len(row[column]) for row in [*rows, _HEADER]) for column in range(4)]
    for row in [_HEADER, tuple("-" * width for width in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


_HEADER = ("What", "Engine", "pandas", "Target")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
