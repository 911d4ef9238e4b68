"""Column statistics shared by the treatment, normalisation, uncertainty and audit steps.

Every function works column by column on a units × columns block and skips NaN, the way COINr's
``na.rm = TRUE`` does, so one missing value never spoils a whole indicator.
"""
from __future__ import annotations

import os
import threading
import warnings
from contextlib import contextmanager

import numpy as np

MAX_RANK_THREADS = 4
PARALLEL_RANK_CELLS = 200_000  # below this, starting threads costs more than it saves


def skew_kurtosis(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample skewness and excess kurtosis of each column, as Excel's SKEW and KURT compute them.

    These are e1071's type 2 statistics, which COINr's ``skew()`` and ``kurt()`` copy. A column
    needs 3 values for skewness and 4 for kurtosis, and some spread; otherwise the result is NaN.
    """
    block = np.asarray(block, dtype=float)
    if block.ndim == 1:
        block = block[:, None]
    present = ~np.isnan(block)
    n = present.sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, block, 0.0).sum(axis=0) / n
        centred = np.where(present, block - mean, 0.0)
        squares = centred * centred
        m2 = squares.sum(axis=0)
        m3 = (squares * centred).sum(axis=0)
        m4 = (squares * squares).sum(axis=0)
        skew = np.sqrt(n) * m3 / m2**1.5 * np.sqrt(n * (n - 1)) / (n - 2)
        ratio = n * m4 / m2**2
        kurtosis = ((n + 1) * (ratio - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    flat = m2 <= 0
    skew = np.where((n < 3) | flat, np.nan, skew)
    kurtosis = np.where((n < 4) | flat, np.nan, kurtosis)
    return skew, kurtosis


def distinct_counts(block: np.ndarray) -> np.ndarray:
    """Number of distinct non-missing values in each column."""
    ordered = np.sort(block, axis=0)  # NaN sorts last
    present = ~np.isnan(ordered)
    changes = (ordered[1:] != ordered[:-1]) & present[1:]
    return np.where(present[0], 1, 0) + changes.sum(axis=0)


def ranks_descending(scores: np.ndarray) -> np.ndarray:
    """Rank each column, 1 = highest score, ties share the lowest rank ("min"), 0 = no score.

    Ranks are taken on the unrounded scores, as COINr has done since 1.1.9.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        return ranks_descending_rows(scores[None, :])[0]
    return ranks_descending_rows(np.ascontiguousarray(scores.T)).T


def ranks_descending_rows(rows: np.ndarray) -> np.ndarray:
    """``ranks_descending`` along each row (rows contiguous in memory, which makes sorting fast).

    Large inputs are split across threads (NumPy sorts without the GIL); every row is ranked by
    the same code either way, so the result does not depend on the number of threads.
    """
    workers = min(MAX_RANK_THREADS, os.cpu_count() or 1, rows.shape[0])
    if workers < 2 or rows.size < PARALLEL_RANK_CELLS:
        return _ranks_rows(rows)
    parts = np.array_split(rows, workers)
    results: list = [None] * workers

    def work(index: int) -> None:
        try:
            results[index] = _ranks_rows(parts[index])
        except BaseException as error:  # re-raised in the calling thread below
            results[index] = error

    threads = [threading.Thread(target=work, args=(index,)) for index in range(1, workers)]
    for thread in threads:
        thread.start()
    work(0)
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return np.concatenate(results)


def _ranks_rows(rows: np.ndarray) -> np.ndarray:
    missing = np.isnan(rows)
    keys = np.where(missing, np.inf, -rows)
    order = np.argsort(keys, axis=1)
    ordered = np.sort(keys, axis=1)
    ties = ordered[:, 1:] == ordered[:, :-1]
    positions = np.arange(1, rows.shape[1] + 1)
    if ties.any():
        starts_run = np.ones(ordered.shape, dtype=bool)
        starts_run[:, 1:] = ~ties
        values = np.maximum.accumulate(np.where(starts_run, positions, 0), axis=1)
    else:
        values = np.broadcast_to(positions, rows.shape)
    ranks = np.empty(rows.shape, dtype=np.int64)
    ranks[np.arange(rows.shape[0])[:, None], order] = values
    ranks[missing] = 0
    return ranks


def ranks_ascending_min(block: np.ndarray) -> np.ndarray:
    """R's ``rank(x, ties.method = "min", na.last = "keep")`` per column: 1 = lowest value, NaN stays NaN."""
    block = np.asarray(block, dtype=float)
    ranks = ranks_descending(-block).astype(float)
    ranks[np.isnan(block)] = np.nan
    return ranks


def correlation_matrix(block: np.ndarray) -> np.ndarray:
    """Pearson correlations of the columns, each pair over the units where both are present.

    NaN for a pair with fewer than 3 common units or without spread.
    """
    block = np.asarray(block, dtype=float)
    if np.isnan(block).any():
        return _pairwise(block, correlation=True)
    columns = block.shape[1]
    if block.shape[0] < 3:
        return np.full((columns, columns), np.nan)
    centred = block - block.mean(axis=0)
    products = centred.T @ centred
    scale = np.sqrt(np.diag(products))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = products / np.outer(scale, scale)
    correlation = np.where(np.outer(scale, scale) > 0, np.clip(correlation, -1.0, 1.0), np.nan)
    np.fill_diagonal(correlation, np.where(scale > 0, 1.0, np.nan))
    return correlation


def pairwise_covariance(block: np.ndarray) -> np.ndarray:
    """Sample covariance matrix of the columns, each pair over the units where both are present."""
    block = np.asarray(block, dtype=float)
    if np.isnan(block).any():
        return _pairwise(block, correlation=False)
    if block.shape[0] < 2:
        return np.full((block.shape[1],) * 2, np.nan)
    centred = block - block.mean(axis=0)
    return centred.T @ centred / (block.shape[0] - 1)


def _pairwise(block: np.ndarray, *, correlation: bool) -> np.ndarray:
    """Pair by pair, with each pair's own units, means and deviations (R's pairwise.complete.obs)."""
    columns = block.shape[1]
    result = np.full((columns, columns), np.nan)
    present = ~np.isnan(block)
    for i in range(columns):
        for j in range(i, columns):
            both = present[:, i] & present[:, j]
            count = int(both.sum())
            if count < (3 if correlation else 2):
                continue
            x = block[both, i] - block[both, i].mean()
            y = block[both, j] - block[both, j].mean()
            if correlation:
                denominator = np.sqrt((x * x).sum() * (y * y).sum())
                if denominator > 0:
                    result[i, j] = result[j, i] = min(1.0, max(-1.0, (x * y).sum() / denominator))
            else:
                result[i, j] = result[j, i] = (x * y).sum() / (count - 1)
    return result


def cronbach_alpha(block: np.ndarray) -> float:
    """Cronbach's alpha of the columns, as COINr's ``get_cronbach()`` computes it.

    alpha = k² × (mean off-diagonal covariance) / (sum of all covariances), covariances pairwise.
    """
    columns = block.shape[1]
    if columns < 2:
        return float("nan")
    covariance = pairwise_covariance(block)
    total = np.nansum(covariance)
    if not total:
        return float("nan")
    off_diagonal = (total - np.nansum(np.diag(covariance))) / (columns * (columns - 1))
    return float(columns**2 * off_diagonal / total)


@contextmanager
def quiet_nan_warnings():
    """An indicator or unit with no data left is NaN by design; numpy's all-NaN warnings would be noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
