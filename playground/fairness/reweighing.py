"""Reweighing (Kamiran & Calders, 2012): sample weights that make the label independent of
the group in the weighted training data.

Each (group, label) cell gets weight P(group) P(label) / P(group, label): the count it would
have if group and label were independent, over the count it has. Under-represented cells
(e.g. hired women when women were hired less) weigh more. The weights average exactly 1
over the rows, so a weighted mean loss stays on the usual scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.errors import TrainingError
from playground.fairness.actions import NO_REWEIGHING, REWEIGH, quote, try_fairness_data
from playground.fairness.groups import groups_for_split


def reweighing_weights(groups: pd.Series, y: np.ndarray) -> np.ndarray:
    """Weights (N,) float64 = P(g) P(y) / P(g, y) for group labels (N,) and class labels (N,)."""
    g = np.asarray(groups.astype(str).to_numpy() if isinstance(groups, pd.Series) else groups)
    y = np.asarray(y).reshape(-1)
    if len(g) != len(y):
        raise ValueError(f"{len(g)} group labels but {len(y)} labels")
    _, gi = np.unique(g, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    n = len(y)
    joint = np.zeros((gi.max() + 1, yi.max() + 1))
    np.add.at(joint, (gi, yi), 1)
    # Every (g, y) cell that occurs has a count >= 1, so no division by zero for real rows.
    expected = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True) / n
    return (expected / np.maximum(joint, 1))[gi, yi]


def training_weights(dataset: Dataset, attribute: str) -> np.ndarray:
    """Reweighing weights (N_train,) for the training split of a classification dataset."""
    if not dataset.is_classification:
        raise TrainingError(
            "Reweighing balances groups x labels, so it needs a classification task.",
            f"Leave {quote(REWEIGH)} at {quote(NO_REWEIGHING)} for regression (no --reweigh "
            "on the command line).",
        )
    if dataset.train.sensitive is None:
        raise TrainingError(
            f"reweigh={attribute!r}: the dataset {dataset.name!r} has no sensitive attributes.",
            try_fairness_data(),
        )
    if attribute not in dataset.sensitive_attributes and " & " not in attribute:
        raise TrainingError(
            f"reweigh={attribute!r} is not a sensitive attribute of {dataset.name!r}.",
            f"Choose one of: {', '.join(dataset.sensitive_attributes)}.",
        )
    groups = groups_for_split(dataset, "train", attribute)
    return reweighing_weights(groups, dataset.train.y.numpy())
