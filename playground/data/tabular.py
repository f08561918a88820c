"""Tabular preprocessing, fitted on the training split only, and DataFrame -> `Dataset`.

Numeric columns: missing values get the train median, then train mean 0 / std 1.
Categorical columns: one-hot, one column per category seen in train (named `column=value`);
a missing value is its own category (`column=(missing)`) or, with `categorical_fill=
"most_frequent"`, the train split's most frequent category; a category first seen in
validation or test encodes as all zeros, as the model has never seen it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset, Task
from playground.data.splitting import make_split, split_indices, standardize_target

MISSING = "(missing)"


@dataclass
class TabularPreprocessor:
    """Encode a DataFrame into a float32 matrix (N, F); call `fit` on training rows only."""

    numeric: list[str]
    categorical: list[str]
    categorical_fill: str = "category"  # or "most_frequent"
    medians: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    most_frequent: dict[str, str] = field(default_factory=dict)

    def fit(self, frame: pd.DataFrame) -> TabularPreprocessor:
        for col in self.numeric:
            values = pd.to_numeric(frame[col], errors="coerce").astype(float)
            median = float(values.median()) if values.notna().any() else 0.0
            filled = values.fillna(median)
            self.medians[col] = median
            self.means[col] = float(filled.mean())
            self.stds[col] = float(filled.std(ddof=0)) or 1.0  # constant column: avoid 0/0
        for col in self.categorical:
            values = _as_categories(frame[col])
            present = values[values != MISSING]
            self.most_frequent[col] = str(present.mode().iloc[0]) if len(present) else MISSING
            if self.categorical_fill == "most_frequent":
                values = values.replace(MISSING, self.most_frequent[col])
            seen = sorted(set(values) - {MISSING})
            # The missing category goes last, and only if training data has missing values.
            self.categories[col] = seen + ([MISSING] if MISSING in set(values) else [])
        return self

    @property
    def feature_names(self) -> list[str]:
        names = list(self.numeric)
        for col in self.categorical:
            names += [f"{col}={cat}" for cat in self.categories[col]]
        return names

    @property
    def feature_groups(self) -> dict[str, str]:
        """Encoded feature name -> the original column it came from."""
        groups = {col: col for col in self.numeric}
        for col in self.categorical:
            groups.update({f"{col}={cat}": col for cat in self.categories[col]})
        return groups

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows (N,) of the fitted columns -> float32 matrix (N, len(feature_names))."""
        blocks = []
        for col in self.numeric:
            values = pd.to_numeric(frame[col], errors="coerce").astype(float)
            values = values.fillna(self.medians[col]).to_numpy()
            blocks.append(((values - self.means[col]) / self.stds[col])[:, None])
        for col in self.categorical:
            values = _as_categories(frame[col])
            if self.categorical_fill == "most_frequent":
                values = values.replace(MISSING, self.most_frequent[col])
            values = values.to_numpy()
            cats = np.asarray(self.categories[col], dtype=object)
            # Unknown categories match no column and so stay all zeros.
            blocks.append((values[:, None] == cats[None, :]).astype(np.float64))
        if not blocks:
            return np.zeros((len(frame), 0), dtype=np.float32)
        return np.concatenate(blocks, axis=1).astype(np.float32)


def _as_categories(column: pd.Series) -> pd.Series:
    """Category labels as strings, with missing values as their own label."""
    return column.astype(object).where(column.notna(), MISSING).astype(str)


def dataset_from_frame(
    *,
    name: str,
    params: dict[str, Any],
    features: pd.DataFrame,
    y: np.ndarray,
    task: Task,
    numeric: Sequence[str],
    categorical: Sequence[str],
    seed: int,
    class_names: Sequence[str] | None = None,
    sensitive: pd.DataFrame | None = None,
    description: str = "",
    notes: Sequence[str] = (),
    target_name: str = "label",
    categorical_fill: str = "category",
    missing_counts: dict[str, int] | None = None,
) -> Dataset:
    """Split raw features (N rows) and labels y (N,) and encode them into a tabular `Dataset`.

    `sensitive` holds raw columns for the same rows; they are carried into each split
    untouched (they are model features only if also present in `features`).
    """
    classification = task != "regression"
    idx = split_indices(y, seed=seed, stratify=classification)
    prep = TabularPreprocessor(list(numeric), list(categorical), categorical_fill)
    prep.fit(features.iloc[idx[0]])
    # The columns as given, in the caller's order (the encoding puts numbers first).
    used = set(numeric) | set(categorical)
    raw = features[[c for c in features.columns if c in used]]
    target_mean, target_std = 0.0, 1.0
    if not classification:
        y, target_mean, target_std = standardize_target(y.astype(np.float64), idx[0])
    splits = [
        make_split(
            prep.transform(features.iloc[i]),
            y[i],
            task,
            None if sensitive is None else sensitive.iloc[i],
            raw.iloc[i],
        )
        for i in idx
    ]
    return Dataset(
        name=name,
        params=params,
        task=task,
        kind="tabular",
        input_shape=(len(prep.feature_names),),
        feature_names=prep.feature_names,
        train=splits[0],
        val=splits[1],
        test=splits[2],
        class_names=list(class_names) if class_names is not None else None,
        sensitive_attributes=[] if sensitive is None else list(sensitive.columns),
        feature_groups=prep.feature_groups,
        target_mean=target_mean,
        target_std=target_std,
        description=description,
        notes=list(notes),
        target_name=target_name,
        encoder=prep,
        missing_counts=(
            {c: int(n) for c, n in raw.isna().sum().items() if n}
            if missing_counts is None
            else dict(missing_counts)
        ),
    )
