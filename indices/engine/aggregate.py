"""Aggregation up the tree, for one set of weights or for many at once.

Scores are kept as units × samples matrices, so one pass up the tree computes every Monte Carlo
sample (or every "drop one element" scenario) of a batch: indicators reach their parents through a
matrix product with the samples' weights, nodes through element-wise sums. The means are COINr's
``a_amean``, ``a_gmean`` and ``a_hmean`` with weights relative within siblings; a child a unit lacks
(NaN) and a child of weight 0 drop out, and the others are re-weighted.

Geometric and harmonic means refuse a non-positive child of positive weight. Here that does not
raise: the unit and sample are marked invalid, and the caller decides (the nominal run raises an
EngineError naming node and unit; the uncertainty analysis records the sample as failed, as COINr's
``get_sensitivity()`` does when a replication errors).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indices.engine.tree import TreePlan
from indices.engine.weights import entropy_weights


@dataclass(frozen=True)
class AggregationFailure:
    """The first non-positive value met by a geometric or harmonic mean in one sample."""

    node: int  # item indices
    child: int
    unit: int  # row
    value: float


@dataclass(frozen=True, eq=False)
class Aggregated:
    scores: dict[int, np.ndarray]  # item → units × samples
    failures: tuple[AggregationFailure | None, ...]  # per sample
    weights: np.ndarray  # samples × items, as used (entropy weights resolved)


class _LeafBlock:
    """The normalised indicators under one node, prepared once (lazily) for every batch of weights."""

    def __init__(self, values: np.ndarray):
        self.values = values
        self.present = ~np.isnan(values)
        self.complete = bool(self.present.all())
        self.zeroed = values if self.complete else np.where(self.present, values, 0.0)
        self._cache: dict[str, np.ndarray] = {}

    def source(self, method: str) -> np.ndarray:
        """What the weights multiply: values, their logs (geometric) or their inverses (harmonic)."""
        if method == "arithmetic":
            return self.zeroed
        if method not in self._cache:
            usable = self.present & (self.values > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                transformed = np.log(self.values) if method == "geometric" else 1.0 / self.values
            self._cache[method] = np.where(usable, transformed, 0.0)
        return self._cache[method]

    @property
    def present_weight(self) -> np.ndarray:
        if "present" not in self._cache:
            self._cache["present"] = self.present.astype(float)
        return self._cache["present"]

    @property
    def non_positive(self) -> np.ndarray | None:
        """1.0 where a present value is not positive; None when there is none (the usual case)."""
        if "non_positive" not in self._cache:
            bad = self.present & (self.values <= 0)
            self._cache["non_positive"] = bad.astype(float) if bad.any() else None
        return self._cache["non_positive"]


class LeafBlocks:
    """Leaf blocks per node for one normalised matrix; reused by every batch that shares it."""

    def __init__(self, plan: TreePlan, leaves: np.ndarray):
        self.leaves = leaves
        self._blocks: dict[int, tuple[np.ndarray, _LeafBlock]] = {}
        self._plan = plan

    def of(self, node: int) -> tuple[np.ndarray, _LeafBlock] | None:
        if node not in self._blocks:
            items = np.array([child for child in self._plan.children[node] if self._plan.is_indicator(child)],
                             dtype=np.int64)
            if not items.size:
                self._blocks[node] = None
            else:
                columns = [self._plan.column[item] for item in items]
                self._blocks[node] = (items, _LeafBlock(self.leaves[:, columns]))
        return self._blocks[node]


def aggregate(plan: TreePlan, leaves: LeafBlocks, weights: np.ndarray, *, methods: Sequence[str],
              keep: Sequence[int], entropy: bool = False) -> Aggregated:
    """Scores of the ``keep`` items for every row of ``weights`` (samples × items).

    ``methods`` gives the aggregation of each item (ignored for indicators). With ``entropy`` the
    weights of each node's children are replaced, bottom-up, by their entropy weights (one sample).
    """
    weights = np.array(weights, dtype=float)
    samples = weights.shape[0]
    units = leaves.leaves.shape[0]
    keep_set = set(keep)
    needed: dict[int, _Scores] = {}
    failures: list[AggregationFailure | None] = [None] * samples
    for node in plan.nodes:
        if entropy:
            _set_entropy_weights(plan, node, leaves, needed, weights)
        scores, invalid = _node_scores(plan, node, methods[node], leaves, needed, weights)
        if invalid is not None and invalid.any():
            _record_failures(plan, node, invalid, leaves, needed, weights, failures)
            scores.blank(invalid)
        needed[node] = scores
        for child in plan.children[node]:
            if child in needed and child not in keep_set:
                del needed[child]
    result = {}
    for item in keep:
        if plan.is_indicator(item):
            column = leaves.leaves[:, plan.column[item]][:, None]
            result[item] = np.broadcast_to(column, (units, samples))
        else:
            result[item] = needed[item].values
    return Aggregated(scores=result, failures=tuple(failures), weights=weights)


class _Scores:
    """A node's scores, held as values or as their logs, whichever the node produced.

    A geometric mean is computed in logs; its geometric parent uses those logs directly, so a tree
    of geometric means takes one exp at the end instead of an exp and a log per node (NumPy's exp
    and log cost about 5 ns a value here, the rest of the step well under 1).
    """

    def __init__(self, *, values: np.ndarray | None = None, logs: np.ndarray | None = None):
        self._values, self._logs = values, logs
        self.positive = logs is not None  # exp(anything) > 0: no need to look for values ≤ 0
        self.complete = False  # True when known to hold no NaN

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            self._values = np.exp(self._logs)
        return self._values

    @property
    def logs(self) -> np.ndarray:
        if self._logs is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                self._logs = np.log(self._values)
        return self._logs

    def blank(self, mask: np.ndarray) -> None:
        for array in (self._values, self._logs):
            if array is not None:
                array[np.broadcast_to(mask, array.shape)] = np.nan


# Kept in one piece: the engine's hot loop, where each split would mean another pass over the matrices.
def _node_scores(plan, node, method, leaves, needed, weights) -> tuple[_Scores, np.ndarray | None]:
    """One node's scores (units × samples) and where a geometric or harmonic mean met a value ≤ 0.

    Written to touch each units × samples matrix as few times as possible: with 1,000 samples this
    loop, not the matrix products, is where the time goes. Children known to be complete (no NaN)
    skip the missing-value masks.
    """
    numerator = denominator = invalid = None
    complete_node = True
    leaf_part = leaves.of(node)
    if leaf_part is not None:
        items, block = leaf_part
        leaf_weights = weights[:, items].T
        numerator = _combine(block.source(method), leaf_weights)
        denominator = (leaf_weights.sum(axis=0, keepdims=True) if block.complete
                       else _combine(block.present_weight, leaf_weights))
        complete_node = block.complete
        if method != "arithmetic" and block.non_positive is not None:
            invalid = _combine(block.non_positive, (leaf_weights > 0).astype(float)) > 0
    scratch = None
    with np.errstate(divide="ignore", invalid="ignore"):
        for child in plan.children[node]:
            if plan.is_indicator(child):
                continue
            scores = needed[child]
            child_weight = weights[:, child][None, :]
            in_logs = method == "geometric" and scores.positive
            source = scores.logs if in_logs else scores.values
            missing = None if scores.complete else np.isnan(source)
            usable = None if missing is None or not missing.any() else ~missing
            if method != "arithmetic" and not scores.positive:
                bad = source <= 0  # False where missing
                if bad.any():
                    bad &= child_weight > 0
                    invalid = bad if invalid is None else invalid | bad
                    usable = ~bad if usable is None else usable & ~bad
            if method == "geometric" and not in_logs:
                source = scores.logs
            elif method == "harmonic":
                source = 1.0 / source
            if usable is not None:
                source = np.where(usable, source, 0.0)
                complete_node = False
            if numerator is None:
                numerator = source * child_weight
            else:
                if scratch is None:
                    scratch = np.empty(numerator.shape)
                numerator += np.multiply(source, child_weight, out=scratch)
            present_weight = child_weight if usable is None else child_weight * usable
            denominator = present_weight if denominator is None else denominator + present_weight
        if method == "harmonic":
            result = _Scores(values=np.broadcast_to(denominator, numerator.shape) / numerator)
        else:
            numerator /= denominator  # in place: the weighted mean of the values, or of their logs
            result = _Scores(values=numerator) if method == "arithmetic" else _Scores(logs=numerator)
    empty = denominator <= 0
    if empty.any():
        result.blank(empty)
        complete_node = False
    result.complete = complete_node and (invalid is None or not invalid.any())
    return result, invalid


def _combine(block: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """block (units × k) times weights (k × samples); one sample avoids BLAS so results do not
    depend on the BLAS build or thread count."""
    if weights.shape[1] == 1:
        return (block * weights[:, 0]).sum(axis=1, keepdims=True)
    return block @ weights


def _children_values(plan, node, leaves, needed, units, samples):
    """(child item, units × samples values) of every child of a node."""
    values = []
    for child in plan.children[node]:
        if plan.is_indicator(child):
            column = leaves.leaves[:, plan.column[child]][:, None]
            values.append((child, np.broadcast_to(column, (units, samples))))
        else:
            values.append((child, needed[child].values))
    return values


def _set_entropy_weights(plan, node, leaves, needed, weights) -> None:
    units = leaves.leaves.shape[0]
    children = _children_values(plan, node, leaves, needed, units, 1)
    block = np.column_stack([values[:, 0] for _, values in children])
    kept = [index for index, (child, _) in enumerate(children) if weights[0, child] > 0]
    if kept:
        resolved = entropy_weights(block[:, kept])
        for share, index in zip(resolved, kept, strict=True):
            weights[0, children[index][0]] = share


def _record_failures(plan, node, invalid, leaves, needed, weights, failures) -> None:
    units, samples = invalid.shape
    newly = np.flatnonzero(invalid.any(axis=0) & np.array([failure is None for failure in failures]))
    if not newly.size:
        return
    children = _children_values(plan, node, leaves, needed, units, samples)
    for sample in newly:
        unit = int(np.argmax(invalid[:, sample]))
        for child, values in children:
            value = values[unit, sample]
            if weights[sample, child] > 0 and not np.isnan(value) and value <= 0:
                failures[sample] = AggregationFailure(node=node, child=child, unit=unit, value=float(value))
                break
