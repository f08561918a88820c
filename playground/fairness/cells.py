"""A reduction's training problem as a recipe: a target and a weight per (group, label) cell.

Fairlearn's reductions (ExponentiatedGradient, GridSearch) turn "accurate subject to a
fairness constraint" into a series of weighted classification problems: for a Lagrange
multiplier vector, each training row gets a signed cost, trained on as target 1 where it is
positive and with weight |cost|. For demographic parity, equalized odds and true positive
rate parity every cost depends only on the row's group and its label, so the whole problem is
a small table of cells. A stored run keeps that table in its request (mode `cell_weights`),
which is enough to train the same network again from the dataset alone. Reweighing (Kamiran &
Calders) is the special case where every target is the label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.errors import TrainingError

Cell = dict[str, Any]  # {"group": str, "label": int, "target": int, "weight": float}


def cell_recipe(
    groups: pd.Series | np.ndarray, y: np.ndarray, targets: np.ndarray, weights: np.ndarray
) -> list[Cell]:
    """The (group, label) table behind per-row targets (N,) and weights (N,); raises
    ValueError when rows of one cell differ (the problem is not a cell recipe)."""
    g = np.asarray(pd.Series(groups).astype(str).to_numpy())
    y = np.asarray(y).reshape(-1).astype(np.int64)
    targets = np.asarray(targets).reshape(-1).astype(np.int64)
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    cells = []
    for group in sorted(set(g)):
        for label in sorted(set(y[g == group].tolist())):
            rows = (g == group) & (y == label)
            t, w = targets[rows], weights[rows]
            if (t != t[0]).any() or not np.allclose(w, w[0], rtol=1e-9, atol=1e-12):
                raise ValueError(f"rows of cell ({group!r}, {label}) have different weights")
            cells.append(
                {"group": group, "label": int(label), "target": int(t[0]), "weight": float(w[0])}
            )
    return cells


def apply_cells(
    groups: pd.Series | np.ndarray, y: np.ndarray, cells: Sequence[Mapping[str, Any]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row (targets (N,) int64, weights (N,) float64) from a cell recipe."""
    g = np.asarray(pd.Series(groups).astype(str).to_numpy())
    y = np.asarray(y).reshape(-1).astype(np.int64)
    table = {
        (str(c["group"]), int(c["label"])): (int(c["target"]), float(c["weight"])) for c in cells
    }
    missing = sorted({(a, int(b)) for a, b in zip(g, y, strict=True)} - set(table))
    if missing:
        group, label = missing[0]
        raise TrainingError(
            f"The reduction's recipe has no cell for group {group!r} with label {label}.",
            "Run the reduction again on this dataset: its groups have changed.",
        )
    pairs = [table[(a, int(b))] for a, b in zip(g, y, strict=True)]
    targets = np.array([p[0] for p in pairs], dtype=np.int64)
    weights = np.array([p[1] for p in pairs], dtype=np.float64)
    return targets, weights


def dataset_cells(dataset: Dataset, options: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Training targets and weights (N_train,) of a `cell_weights` run's options
    {"attribute": ..., "cells": [...]}, checked against the dataset."""
    from playground.fairness.groups import groups_for_split  # pandas only; no Fairlearn

    unknown = sorted(set(options) - {"attribute", "cells", "reduction"})
    if unknown:
        raise TrainingError(
            f"Mode 'cell_weights' has no option {unknown[0]!r}.",
            "Its options are: attribute, cells (and reduction, which names where they came from).",
        )
    attribute, cells = options.get("attribute"), options.get("cells")
    if dataset.task != "binary":
        raise TrainingError(
            "Mode 'cell_weights' trains a yes/no decision: it needs a binary dataset.",
            "Choose a binary dataset with sensitive attributes, e.g. hiring.",
        )
    if not isinstance(attribute, str) or not attribute or not cells:
        raise TrainingError(
            "Mode 'cell_weights' needs the options 'attribute' and 'cells'.",
            "Make such a run from the Fairness page's reductions, which fill them in.",
        )
    groups = groups_for_split(dataset, "train", attribute)
    return apply_cells(groups, dataset.train.y.numpy(), cells)
