"""Calibration by group: does a score of 0.7 mean a 70% chance for every group?

Scores are put in `n_bins` equal-width bins over [0, 1]. A group's reliability diagram plots
each bin's mean score against the share of its rows that are positive; the expected
calibration error (ECE) is the bins' gaps weighted by their rows:

    ECE = sum_b (n_b / n) |positives_b / n_b - score_sum_b / n_b| = sum_b |positives_b - score_sum_b| / n

Bootstrap intervals resample each group's rows (stratified by group, as the rates' are): a
replicate's row counts are one multinomial draw, and its bin sums are one product with the
rows' bin indicators, so every replicate is computed at once. Like the max-minus-min gaps, an ECE is a sum of
absolute values: resamples of a well calibrated group sit above its small ECE, so read the
interval as the ECE's plausible size, not as a test against 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from playground.fairness.bootstrap import percentile_interval
from playground.fairness.groups import sort_groups
from playground.fairness.metrics import as_groups

DEFAULT_BINS = 10


@dataclass
class GroupCalibration:
    """`bins`: one row per (group, bin) with rows in it: group, bin, low, high, count,
    mean_score, positive_rate. `ece`: one row per group (index = groups): count, ece, and
    ece_ci_low / ece_ci_high when n_boot > 0. `overall_ece` over everyone."""

    attribute: str
    n_bins: int
    bins: pd.DataFrame
    ece: pd.DataFrame
    overall_ece: float
    n_boot: int
    ci_level: float
    split: str = ""


def bin_index(scores: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """Each score's bin (N,) in 0..n_bins-1; a score of exactly 1 is in the last bin."""
    s = np.clip(np.asarray(scores, dtype=np.float64).reshape(-1), 0.0, 1.0)
    return np.minimum((s * n_bins).astype(np.int64), n_bins - 1)


def expected_calibration_error(
    y_true: np.ndarray, scores: np.ndarray, n_bins: int = DEFAULT_BINS
) -> float:
    """ECE of scores (N,) against labels (N,) in {0, 1}."""
    y = np.asarray(y_true, dtype=np.float64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(y) == 0:
        return float("nan")
    b = bin_index(s, n_bins)
    gaps = np.bincount(b, weights=y, minlength=n_bins) - np.bincount(b, weights=s, minlength=n_bins)
    return float(np.abs(gaps).sum() / len(y))


def bootstrap_ece(
    y_true: np.ndarray, scores: np.ndarray, n_bins: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """ECE of `n_boot` row resamples (n_boot,) of one group's rows."""
    y = np.asarray(y_true, dtype=np.float64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    n = len(y)
    if n == 0 or n_boot == 0:
        return np.full(n_boot, np.nan)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)  # (B, n)
    onehot = np.zeros((n, n_bins))
    onehot[np.arange(n), bin_index(s, n_bins)] = 1.0
    gaps = counts @ (onehot * (y - s)[:, None])  # (B, bins): positives_b - score_sum_b
    return np.abs(gaps).sum(axis=1) / n


def calibration_by_group(
    y_true: np.ndarray,
    scores: np.ndarray,
    groups: pd.Series,
    n_bins: int = DEFAULT_BINS,
    n_boot: int = 200,
    seed: int = 0,
    ci_level: float = 0.95,
) -> GroupCalibration:
    """Reliability bins and ECE per group for labels (N,) in {0, 1}, scores (N,) (probability
    of the positive class) and group labels (N,)."""
    y = np.asarray(y_true, dtype=np.float64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = as_groups(groups)
    g = labels.to_numpy()
    rng = np.random.default_rng(seed)
    bin_rows, ece_rows = [], []
    for group in sort_groups(g):
        rows = g == group
        yg, sg = y[rows], s[rows]
        b = bin_index(sg, n_bins)
        count = np.bincount(b, minlength=n_bins)
        score_sum = np.bincount(b, weights=sg, minlength=n_bins)
        positives = np.bincount(b, weights=yg, minlength=n_bins)
        for k in np.flatnonzero(count):
            bin_rows.append(
                {
                    "group": group,
                    "bin": int(k),
                    "low": k / n_bins,
                    "high": (k + 1) / n_bins,
                    "count": int(count[k]),
                    "mean_score": float(score_sum[k] / count[k]),
                    "positive_rate": float(positives[k] / count[k]),
                }
            )
        row = {
            "group": group,
            "count": int(rows.sum()),
            "ece": expected_calibration_error(yg, sg, n_bins),
        }
        if n_boot > 0:
            low, high = percentile_interval(bootstrap_ece(yg, sg, n_bins, n_boot, rng), ci_level)
            row["ece_ci_low"], row["ece_ci_high"] = float(low), float(high)
        ece_rows.append(row)
    ece = pd.DataFrame(ece_rows).set_index("group").rename_axis(labels.name)
    return GroupCalibration(
        attribute=str(labels.name),
        n_bins=n_bins,
        bins=pd.DataFrame(bin_rows),
        ece=ece,
        overall_ece=expected_calibration_error(y, s, n_bins),
        n_boot=n_boot,
        ci_level=ci_level,
    )
