"""Per-group ROC curves: how each group's true and false positive rates trade off as the
decision threshold moves."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import auc, roc_curve

from playground.fairness.groups import sort_groups
from playground.fairness.metrics import as_groups


class GroupRoc(NamedTuple):
    """One group's ROC curve: fpr, tpr and thresholds (K,) each, and the area under it.
    A group with only one label value has no curve: empty arrays and auc NaN."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float


def group_roc(y_true: np.ndarray, scores: np.ndarray, groups: pd.Series) -> dict[str, GroupRoc]:
    """ROC curve per group (sorted by label) from labels y_true (N,) in {0, 1}, scores (N,)
    (probability of the positive class) and group labels (N,)."""
    y_true = np.asarray(y_true).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = as_groups(groups).to_numpy()
    curves: dict[str, GroupRoc] = {}
    for group in sort_groups(labels):
        rows = labels == group
        y, s = y_true[rows], scores[rows]
        if len(np.unique(y)) < 2:
            empty = np.zeros(0)
            curves[group] = GroupRoc(empty, empty, empty, float("nan"))
            continue
        fpr, tpr, thresholds = roc_curve(y, s)
        curves[group] = GroupRoc(fpr, tpr, thresholds, float(auc(fpr, tpr)))
    return curves
