"""Small methodologies for the engine tests, built from the spec dataclasses directly."""
from dataclasses import replace

import numpy as np

from indices.engine.settings import EngineSettings, UncertaintySettings
from indices.engine.spec import IndicatorSpec, MethodologySpec, NodeSpec

IDENTITY = {"method": "goalposts", "params": {"lower": 0.0, "upper": 100.0}}  # leaf = value on 0–100


def indicator(code: str, *, weight: float = 1.0, direction: int = 1, method: str = "minmax",
              params: dict | None = None, log: bool = False) -> IndicatorSpec:
    return IndicatorSpec(code=code, name_zh=code, name_en=code, unit_zh="个", unit_en="count", weight=weight,
                         direction=direction, normalisation=method, normalisation_params=dict(params or {}),
                         log_transform=log)


def identity(code: str, **options) -> IndicatorSpec:
    """An indicator whose normalised value is its raw value (goalposts 0–100 onto 0–100)."""
    return indicator(code, method=IDENTITY["method"], params=IDENTITY["params"], **options)


def node(code: str, *children, weight: float = 1.0, aggregation: str = "arithmetic") -> NodeSpec:
    return NodeSpec(code=code, name_zh=code, name_en=code, weight=weight, aggregation=aggregation,
                    children=tuple(children))


def methodology(root: NodeSpec, **engine) -> MethodologySpec:
    uncertainty = engine.pop("uncertainty", None)
    settings = EngineSettings(**engine)
    if uncertainty is not None:
        settings = replace(settings, uncertainty=UncertaintySettings(**uncertainty))
    return MethodologySpec(code="T", version="1", root=root, engine=settings)


def units(count: int) -> list[str]:
    return [f"u{index}" for index in range(count)]


def matrix(*rows) -> np.ndarray:
    return np.array(rows, dtype=float)


def scores(result, code: str) -> np.ndarray:
    return result.scores[:, result.codes.index(code)]


def ranks(result, code: str) -> np.ndarray:
    return result.ranks[:, result.codes.index(code)]
