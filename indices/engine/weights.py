"""Weights of the children of a node: explicit, equal or entropy.

Weights are relative within siblings (COINr's "Original" weight set): only their ratios matter,
and a parent re-weights over the children a unit has (``a_amean`` drops the weights of NA children).
Entropy weighting is in neither COINr nor the Handbook; it is the usual Shannon-entropy method.
"""
from __future__ import annotations

import numpy as np


def entropy_weights(values: np.ndarray) -> np.ndarray:
    """Weights of the columns by how much they differentiate the units (Shannon entropy method).

    Each column is first rescaled onto [0, 1] by min-max over the units that have it, so any
    normalisation works; then p = y / Σy, e = −Σ p ln p / ln n and the weight is (1 − e) / Σ(1 − e).
    A column with fewer than two values or no spread has e = 1 (weight 0); if every column does,
    the weights are equal.
    """
    columns = values.shape[1]
    divergence = np.zeros(columns)
    for column in range(columns):
        known = values[~np.isnan(values[:, column]), column]
        if known.size < 2 or known.max() == known.min():
            continue
        rescaled = (known - known.min()) / (known.max() - known.min())
        shares = rescaled / rescaled.sum()
        positive = shares[shares > 0]
        entropy = -(positive * np.log(positive)).sum() / np.log(known.size)
        divergence[column] = 1.0 - entropy
    if divergence.sum() <= 0:
        return np.ones(columns) / columns
    return divergence / divergence.sum()
