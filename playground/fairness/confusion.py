"""Per-group confusion counts, and the rates that follow from them.

Every metric in the audit (selection rate, accuracy, TPR, FPR, FNR, precision, base rate)
is a function of four counts per group: true positives, false positives, false negatives
and true negatives. Working from the counts is what makes the bootstrap and the threshold
sweep cheap, and lets Fairlearn's MetricFrame run on a few weighted rows instead of all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playground.fairness.groups import sort_groups

CELLS = ("tp", "fp", "fn", "tn")
# (y_true, y_pred) of each cell, in CELLS order.
CELL_LABELS = ((1, 1), (0, 1), (1, 0), (0, 0))
RATES = ("selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision", "base_rate")


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, groups: pd.Series) -> pd.DataFrame:
    """Counts (G groups x 4 cells: tp, fp, fn, tn) from labels and predictions (N,) each,
    groups in `sort_groups` order."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    labels = groups.astype(str).to_numpy()
    names = sort_groups(labels)
    codes = pd.Categorical(labels, categories=names).codes
    cell = np.select([y_true & y_pred, ~y_true & y_pred, y_true & ~y_pred], [0, 1, 2], default=3)
    counts = np.zeros((len(names), 4), dtype=np.int64)
    np.add.at(counts, (codes, cell), 1)
    return pd.DataFrame(counts, index=pd.Index(names, name=groups.name), columns=list(CELLS))


def rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Rates from counts (..., 4) in CELLS order; each (...). An undefined rate (e.g. TPR
    with no positive labels) is NaN."""
    counts = np.asarray(counts, dtype=np.float64)
    tp, fp, fn, tn = (counts[..., i] for i in range(4))
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "selection_rate": (tp + fp) / n,
            "accuracy": (tp + tn) / n,
            "tpr": tp / (tp + fn),
            "fpr": fp / (fp + tn),
            "fnr": fn / (tp + fn),
            "precision": tp / (tp + fp),
            "base_rate": (tp + fn) / n,
        }


def weighted_rows(counts: pd.DataFrame) -> pd.DataFrame:
    """The counts as at most 4 rows per group (group, y_true, y_pred, weight), weight > 0:
    the same data as the N original rows for any metric that accepts sample weights."""
    rows = []
    for group, row in counts.iterrows():
        for cell, (yt, yp) in zip(CELLS, CELL_LABELS, strict=True):
            if row[cell] > 0:
                rows.append((group, yt, yp, float(row[cell])))
    return pd.DataFrame(rows, columns=["group", "y_true", "y_pred", "weight"])
