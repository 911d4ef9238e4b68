"""The methodology tree flattened into index arrays, so every step can work on whole matrices.

Items (the root, every node and every indicator) are numbered in tree order, root first, which is
the order of ``MethodologySpec.walk()`` and of the output columns. Indicators also have a column:
their position in ``MethodologySpec.indicators()``, which is the column order of the input values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indices.engine.errors import EngineError
from indices.engine.spec import AGGREGATIONS, N_, IndicatorSpec, MethodologySpec, NodeSpec


@dataclass(frozen=True, eq=False)
class TreePlan:
    codes: tuple[str, ...]  # every item in tree order, root first
    parent: tuple[int, ...]  # item index of the parent, -1 for the root
    children: tuple[tuple[int, ...], ...]  # item indices of the children, () for indicators
    column: tuple[int, ...]  # input column of an indicator, -1 for a node
    declared_weight: np.ndarray  # the weight written in the document, per item
    aggregation: tuple[str, ...]  # per item, "" for indicators
    indicators: tuple[IndicatorSpec, ...]  # in column order
    nodes: tuple[int, ...]  # item indices of the nodes, children before parents (bottom-up)

    @property
    def size(self) -> int:
        return len(self.codes)

    @property
    def indicator_codes(self) -> tuple[str, ...]:
        return tuple(indicator.code for indicator in self.indicators)

    def is_indicator(self, item: int) -> bool:
        return self.column[item] >= 0

    def item_of_column(self) -> np.ndarray:
        """Item index of each input column."""
        items = np.empty(len(self.indicators), dtype=np.int64)
        for item, column in enumerate(self.column):
            if column >= 0:
                items[column] = item
        return items


def plan_tree(methodology: MethodologySpec) -> TreePlan:
    """Flatten the tree; refuse what the engine cannot compute (unknown aggregation, bad weight)."""
    indicators = methodology.indicators()
    column_of = {indicator.code: index for index, indicator in enumerate(indicators)}
    codes: list[str] = []
    parents: list[int] = []
    kinds: list[NodeSpec | IndicatorSpec] = []
    index_of: dict[str, int] = {}
    for _, parent_code, item in methodology.walk():
        if item.code in index_of:
            raise EngineError(N_("code %(code)s is used twice in the tree"), {"code": item.code})
        index_of[item.code] = len(codes)
        codes.append(item.code)
        parents.append(index_of[parent_code] if parent_code is not None else -1)
        kinds.append(item)
    children = [[] for _ in codes]
    for item, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(item)
    weights = np.array([float(getattr(item, "weight", 1.0)) for item in kinds])
    for item, (code, kind) in enumerate(zip(codes, kinds, strict=True)):
        if item and not (np.isfinite(weights[item]) and weights[item] > 0):
            raise EngineError(N_("the weight of %(code)s must be positive"), {"code": code})
        if isinstance(kind, NodeSpec):
            if kind.aggregation not in AGGREGATIONS:
                raise EngineError(N_("node %(node)s has the unknown aggregation %(method)s"),
                                  {"node": code, "method": kind.aggregation}, node=code)
            if not kind.children:
                raise EngineError(N_("node %(node)s has no children"), {"node": code}, node=code)
    if not isinstance(kinds[0], NodeSpec):
        raise EngineError(N_("the root of the tree must be a node"))
    return TreePlan(
        codes=tuple(codes),
        parent=tuple(parents),
        children=tuple(tuple(items) for items in children),
        column=tuple(column_of[code] if isinstance(kind, IndicatorSpec) else -1
                     for code, kind in zip(codes, kinds, strict=True)),
        declared_weight=weights,
        aggregation=tuple(kind.aggregation if isinstance(kind, NodeSpec) else "" for kind in kinds),
        indicators=tuple(indicators),
        nodes=tuple(item for item in reversed(range(len(codes))) if isinstance(kinds[item], NodeSpec)),
    )


def retained_items(plan: TreePlan, kept_columns: np.ndarray) -> np.ndarray:
    """Which items still carry data once excluded indicators are gone (a node needs one kept child)."""
    retained = np.zeros(plan.size, dtype=bool)
    for item, column in enumerate(plan.column):
        if column >= 0:
            retained[item] = kept_columns[column]
    for node in plan.nodes:
        retained[node] = any(retained[child] for child in plan.children[node])
    return retained


def declared_weights(plan: TreePlan, weighting: str, retained: np.ndarray | None = None) -> np.ndarray:
    """Weights before entropy: declared (explicit) or 1 (equal, entropy's start); items not ``retained``
    (excluded indicators, empty nodes) get 0 and the root 1. Shared by the engine and the methodology
    page, which shows the document's weights before any run."""
    weights = plan.declared_weight.copy() if weighting == "explicit" else np.ones(plan.size)
    if retained is not None:
        weights[~retained] = 0.0
    weights[0] = 1.0
    return weights


def sibling_shares(plan: TreePlan, weights: np.ndarray, retained: np.ndarray) -> np.ndarray:
    """Each item's weight as a share of its retained siblings' weights (the root gets 1)."""
    shares = np.zeros(plan.size)
    shares[0] = 1.0
    for node in plan.nodes:
        kept = [child for child in plan.children[node] if retained[child]]
        total = sum(weights[child] for child in kept)
        for child in kept:
            shares[child] = weights[child] / total
    return shares


def effective_weights(plan: TreePlan, shares: np.ndarray) -> np.ndarray:
    """Each item's weight in the root: the product of its shares down the path (COINr get_eff_weights)."""
    effective = np.zeros(plan.size)
    effective[0] = 1.0
    for item in range(1, plan.size):
        effective[item] = effective[plan.parent[item]] * shares[item]
    return effective


def document_weights(methodology: MethodologySpec) -> tuple[dict[str, float], dict[str, float]]:
    """Sibling shares and effective weights by code from the document alone (every item retained): what
    the methodology page and the methodology admin show before (or without) a run."""
    plan = plan_tree(methodology)
    shares = sibling_shares(plan, declared_weights(plan, methodology.engine.weighting),
                            np.ones(plan.size, dtype=bool))
    effective = effective_weights(plan, shares)
    return (dict(zip(plan.codes, map(float, shares), strict=True)),
            dict(zip(plan.codes, map(float, effective), strict=True)))
