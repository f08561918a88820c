"""Rates and disparities at many decision thresholds at once, for a threshold slider.

A threshold move is otherwise a new `audit_model(..., n_boot=0)` call (about 0.1 s); the
sweep gives every threshold of a grid in one vectorised pass (sorted scores and
`searchsorted`), so a chart can show how each group's rates move with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playground.fairness.confusion import rates
from playground.fairness.groups import sort_groups
from playground.fairness.metrics import as_groups


def threshold_sweep(
    y_true: np.ndarray,
    scores: np.ndarray,
    groups: pd.Series,
    thresholds: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per-group rates at each threshold: one row per (threshold, group) with columns
    threshold, group, count, selection_rate, accuracy, tpr, fpr, fnr, precision, base_rate.
    A row is positive when score >= threshold; default thresholds 0, 0.01, ..., 1."""
    y_true = np.asarray(y_true).reshape(-1).astype(bool)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    t = np.linspace(0.0, 1.0, 101) if thresholds is None else np.asarray(thresholds, float)
    labels = as_groups(groups).to_numpy()
    frames = []
    for group in sort_groups(labels):
        rows = labels == group
        pos = np.sort(scores[rows & y_true])
        neg = np.sort(scores[rows & ~y_true])
        # Scores >= t: everything from the first index whose score is >= t.
        tp = len(pos) - np.searchsorted(pos, t, side="left")
        fp = len(neg) - np.searchsorted(neg, t, side="left")
        counts = np.stack([tp, fp, len(pos) - tp, len(neg) - fp], axis=1)
        frame = pd.DataFrame(rates(counts))
        frame.insert(0, "count", len(pos) + len(neg))
        frame.insert(0, "group", group)
        frame.insert(0, "threshold", t)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def disparity_sweep(sweep: pd.DataFrame) -> pd.DataFrame:
    """Disparities at each threshold from a `threshold_sweep` table: one row per threshold,
    columns threshold and the five disparities of `metrics.DISPARITIES` (between groups)."""
    wide = sweep.pivot(index="threshold", columns="group")
    sel, tpr, fpr = wide["selection_rate"], wide["tpr"], wide["fpr"]

    def gap(v: pd.DataFrame) -> pd.Series:
        return v.max(axis=1) - v.min(axis=1)

    def ratio(v: pd.DataFrame) -> pd.Series:
        return v.min(axis=1) / v.max(axis=1)

    out = pd.DataFrame(
        {
            "demographic_parity_difference": gap(sel),
            "demographic_parity_ratio": ratio(sel),
            "equalized_odds_difference": np.fmax(gap(tpr), gap(fpr)),
            "equalized_odds_ratio": np.fmin(ratio(tpr), ratio(fpr)),
            "equal_opportunity_difference": gap(tpr),
        }
    )
    return out.reset_index()
