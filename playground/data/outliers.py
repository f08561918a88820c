"""The `outliers` dataset option: labelled anomalies injected into the validation and test
splits, so an autoencoder's anomaly score has something to find (ROC curve, AUC).

An injected row takes each feature (pixel, column) from a different real row of the same
split: every value is one the data really has, but the combination is not (a digit's pixels
from twenty different digits, a passenger aged 4 travelling first class with 8 siblings).
The training split stays clean: the model learns what normal looks like. Tabular rows are
made from the columns as given and encoded with the dataset's own preprocessor, so they read
as real rows on every page.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import torch

from playground.data.dataset import Dataset, Split
from playground.data.options import DatasetOption, register_option
from playground.errors import DatasetError

OUTLIER_CLASS = "outlier (injected)"


def _mixed_rows(values: np.ndarray | pd.DataFrame, count: int, rng: np.random.Generator):
    """`count` rows whose column j comes from a random row of `values` (per column)."""
    n = len(values)
    if isinstance(values, pd.DataFrame):
        columns = {c: values[c].to_numpy()[rng.integers(0, n, count)] for c in values.columns}
        return pd.DataFrame(columns)
    flat = values.reshape(n, -1)
    picks = rng.integers(0, n, size=(count, flat.shape[1]))
    return flat[picks, np.arange(flat.shape[1])].reshape(count, *values.shape[1:])


def _inject(dataset: Dataset, split: Split, fraction: float, seed: int) -> Split:
    count = max(1, round(len(split) * fraction))
    rng = np.random.default_rng(seed)
    label = len(dataset.class_names or [])
    if split.raw is not None and dataset.encoder is not None:
        raw = _mixed_rows(split.raw, count, rng)
        x = torch.as_tensor(np.asarray(dataset.encoder.transform(raw)), dtype=split.x.dtype)
    else:
        raw = None
        x = torch.as_tensor(_mixed_rows(split.x.numpy(), count, rng), dtype=split.x.dtype)
        if split.raw is not None:  # unscaled 2D toys: the same mixing of their own values
            raw = _mixed_rows(split.raw, count, np.random.default_rng(seed))
    sensitive = None
    if split.sensitive is not None:
        sensitive = split.sensitive.iloc[rng.integers(0, len(split), count)].reset_index(drop=True)
        sensitive = pd.concat(
            [split.sensitive.reset_index(drop=True), sensitive], ignore_index=True
        )
    return Split(
        x=torch.cat([split.x, x]),
        y=torch.cat([split.y, torch.full((count,), label, dtype=split.y.dtype)]),
        sensitive=sensitive,
        raw=None
        if split.raw is None or raw is None
        else pd.concat([split.raw.reset_index(drop=True), raw], ignore_index=True),
    )


def inject_outliers(dataset: Dataset, fraction: float, options: dict) -> Dataset:
    if not 0 < fraction <= 0.5:
        raise DatasetError(
            f"Option 'outliers' must be a fraction between 0 and 0.5 (got {fraction}).",
            "E.g. 0.05 adds one outlier per 20 rows to the validation and test splits.",
        )
    if dataset.kind == "sequence":
        raise DatasetError(
            "Option 'outliers' works on images, tabular and 2D data, not token sequences.",
            "Pick another dataset, or hold out a class with the autoencoder's anomaly class.",
        )
    seed = int(dataset.params.get("seed", 0))
    return dataclasses.replace(
        dataset,
        val=_inject(dataset, dataset.val, fraction, seed + 1),
        test=_inject(dataset, dataset.test, fraction, seed + 2),
        class_names=[*(dataset.class_names or []), OUTLIER_CLASS],
        notes=[
            *dataset.notes,
            f"{fraction:.0%} injected outliers in the validation and test splits (class "
            f"'{OUTLIER_CLASS}'): each feature taken from a different real row.",
        ],
    )


def outlier_class_index(dataset: Dataset) -> int | None:
    """The injected outliers' class, or None where the dataset has none."""
    names = dataset.class_names or []
    return names.index(OUTLIER_CLASS) if OUTLIER_CLASS in names else None


register_option(
    DatasetOption(
        name="outliers",
        title="inject outliers (fraction of val/test)",
        annotation=float,
        default=0.0,
        help="0.05 adds one outlier per 20 rows to the validation and test splits, labelled "
        f"'{OUTLIER_CLASS}'; training data stays clean.",
        apply=inject_outliers,
        order=90,  # after every option that picks rows
        classification_only=True,
    )
)
