"""Proxy features: how strongly each original feature column goes with a sensitive attribute.

A model that never sees `sex` can still learn it from a feature that goes with it
(`relationship=Husband`). Each original column is compared with the attribute's groups:
Cramér's V for a categorical column (rebuilt from its one-hot block), the correlation ratio
(eta) for a numeric one. Both run from 0 (no association) to 1 (the feature tells the group).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.fairness.actions import try_fairness_data
from playground.fairness.groups import attribute_columns, groups_for_split

PROXY_FLAG = 0.3  # association above this is flagged as a possible proxy
UNSEEN = "(unseen)"  # a category first seen outside training encodes as all zeros


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramér's V between two categorical arrays (N,): sqrt(chi2 / (N (min(r, c) - 1)))."""
    _, ai = np.unique(np.asarray(a, dtype=str), return_inverse=True)
    _, bi = np.unique(np.asarray(b, dtype=str), return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)
    k = min(table.shape) - 1
    n = table.sum()
    if k == 0 or n == 0:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(min(chi2 / (n * k), 1.0)))


def correlation_ratio(groups: np.ndarray, values: np.ndarray) -> float:
    """Correlation ratio eta between categories (N,) and numbers (N,): the share of the
    numbers' spread explained by the group means, square-rooted (0..1)."""
    values = np.asarray(values, dtype=np.float64)
    _, gi = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    total = ((values - values.mean()) ** 2).sum()
    if total == 0:
        return 0.0
    counts = np.bincount(gi)
    means = np.bincount(gi, weights=values) / counts
    between = (counts * (means - values.mean()) ** 2).sum()
    return float(np.sqrt(between / total))


def original_columns(dataset: Dataset, x: np.ndarray) -> dict[str, tuple[str, np.ndarray]]:
    """Encoded features (N, F) -> {original column: ("numeric" | "categorical", values (N,))}.

    Numeric columns come back standardised (association measures do not care); categorical
    ones as the category names of their one-hot block.
    """
    if dataset.kind != "tabular" or not dataset.feature_groups:
        raise PlaygroundError(
            "Proxy features can only be found for tabular data.",
            try_fairness_data(),
        )
    blocks: dict[str, list[int]] = {}
    for j, name in enumerate(dataset.feature_names):
        blocks.setdefault(dataset.feature_groups.get(name, name), []).append(j)
    out: dict[str, tuple[str, np.ndarray]] = {}
    for column, idx in blocks.items():
        if len(idx) == 1 and dataset.feature_names[idx[0]] == column:
            out[column] = ("numeric", x[:, idx[0]])
            continue
        block = x[:, idx]
        cats = np.array([dataset.feature_names[j].split("=", 1)[1] for j in idx], dtype=object)
        values = cats[block.argmax(axis=1)]
        values[block.max(axis=1) == 0] = UNSEEN
        out[column] = ("categorical", values)
    return out


def proxy_scores(
    dataset: Dataset,
    attribute: str,
    splits: Sequence[str] = ("train", "val", "test"),
    flag: float = PROXY_FLAG,
) -> pd.DataFrame:
    """Association of every feature column with the attribute's groups, strongest first.

    Columns: feature, kind (numeric | categorical), measure (correlation_ratio | cramers_v),
    association (0..1), flagged (association > flag). The attribute's own columns are left
    out (they are the attribute, not a proxy of it).
    """
    x = np.concatenate([dataset.split(s).x.numpy() for s in splits])
    groups = pd.concat(
        [groups_for_split(dataset, s, attribute) for s in splits], ignore_index=True
    ).to_numpy()
    own = set(attribute_columns(attribute, dataset.sensitive_attributes))
    rows = []
    for column, (kind, values) in original_columns(dataset, x).items():
        if column in own:
            continue
        if kind == "numeric":
            rows.append((column, kind, "correlation_ratio", correlation_ratio(groups, values)))
        else:
            rows.append((column, kind, "cramers_v", cramers_v(groups, values)))
    frame = pd.DataFrame(rows, columns=["feature", "kind", "measure", "association"])
    frame["flagged"] = frame["association"] > flag
    return frame.sort_values("association", ascending=False, ignore_index=True)
