"""Tables that describe a dataset before any training: columns, class balance, sample rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from playground.data.dataset import SPLIT_NAMES, Dataset

SUMMARY_COLUMNS = ["column", "type", "missing", "unique", "mean", "std", "min", "max", "top"]
TARGET_COLUMN = "target"


def column_summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per column of `df`: type ("numeric" or "categorical"), missing count, unique
    (non-missing) values, mean / std / min / max for numeric columns, and the most frequent
    value (`top`) for categorical ones. Booleans count as categorical."""
    rows = []
    for name in df.columns:
        col = df[name]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        row: dict[str, object] = {
            "column": str(name),
            "type": "numeric" if numeric else "categorical",
            "missing": int(col.isna().sum()),
            "unique": int(col.nunique(dropna=True)),
            "mean": np.nan,
            "std": np.nan,
            "min": np.nan,
            "max": np.nan,
            "top": None,
        }
        present = col.dropna()
        if numeric and len(present):
            values = present.astype(float)
            row.update(
                mean=float(values.mean()),
                std=float(values.std()) if len(values) > 1 else np.nan,
                min=float(values.min()),
                max=float(values.max()),
            )
        elif not numeric and len(present):
            row["top"] = str(present.astype(str).value_counts().index[0])
        rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def class_balance(dataset: Dataset) -> pd.DataFrame:
    """One row per class: `class` name, example count in each split (train, val, test),
    `total`, and `share` of all examples (0..1). Classification datasets only."""
    if not dataset.is_classification:
        raise ValueError(
            f"Dataset {dataset.name!r} is a regression task: it has no classes to balance."
        )
    names = list(dataset.class_names or [])
    table = pd.DataFrame({"class": names})
    for split in SPLIT_NAMES:
        y = dataset.split(split).y.numpy()
        table[split] = np.bincount(y, minlength=len(names))[: len(names)].astype(np.int64)
    table["total"] = table[list(SPLIT_NAMES)].sum(axis=1)
    grand = int(table["total"].sum())
    table["share"] = table["total"] / grand if grand else 0.0
    return table


def dataset_frame(
    dataset: Dataset,
    split: str = "train",
    limit: int = 200,
    *,
    rows: Sequence[int] | np.ndarray | None = None,
    encoded: bool = False,
) -> pd.DataFrame:
    """Rows of a split as a table a person reads, indexed by their row number in the split.

    By default the feature columns are the values as the user gave them (age 22, sex
    "female"; missing stays missing); with `encoded`, or for data kept only encoded, one column
    per model input as in `dataset.feature_names` (standardised, one-hot). A last column named
    after the target (`dataset.target_name`) holds the class name, or the target value in its
    original units for regression. `rows` picks rows (default: the first `limit`).

    Works when each example flattens to one value per feature name (tabular, toy2d, image
    pixels); sequence datasets raise ValueError.
    """
    part = dataset.split(split)
    index = np.arange(min(limit, len(part))) if rows is None else np.asarray(rows, dtype=np.int64)
    if part.raw is not None and not encoded:
        frame = part.raw.iloc[index].reset_index(drop=True)
    else:
        frame = _encoded_frame(dataset, part.x[torch.from_numpy(index)])
    frame.index = pd.Index(index, name="row")
    y = part.y[torch.from_numpy(index)].numpy()
    if dataset.is_classification:
        count = int(y.max()) + 1 if len(y) else 0
        classes = np.asarray(dataset.class_names or [str(i) for i in range(count)])
        target = classes[y]
    else:
        target = y.astype(np.float64) * dataset.target_std + dataset.target_mean
    column = dataset.target_name or TARGET_COLUMN
    while column in frame.columns:  # a feature may itself be called "target"
        column = f"{column} (label)"
    frame[column] = target
    return frame


def original_features(
    dataset: Dataset, split: str, rows: Sequence[int] | np.ndarray
) -> pd.DataFrame | None:
    """The feature columns of `rows` as the user gave them, indexed by row number; None for
    data that is only held encoded (images, sequences, unscaled toys)."""
    raw = dataset.split(split).raw
    if raw is None:
        return None
    index = np.asarray(rows, dtype=np.int64)
    return raw.iloc[index].set_index(pd.Index(index, name="row"))


def _encoded_frame(dataset: Dataset, x: torch.Tensor) -> pd.DataFrame:
    flat = x.reshape(len(x), -1).float().numpy()
    names = [str(n) for n in dataset.feature_names]
    if flat.shape[1] != len(names):
        raise ValueError(
            f"Dataset {dataset.name!r} ({dataset.kind}) has examples of shape "
            f"{tuple(dataset.input_shape)}, which do not form one row of {len(names)} "
            "feature columns; a table view needs tabular, 2-D or image data."
        )
    return pd.DataFrame(flat, columns=pd.Index(names))


def missing_values(dataset: Dataset) -> pd.DataFrame:
    """How each feature column with missing values (as given) is handled: `column`,
    `missing` (count), and `handled` in words ("filled with the median, 28", "filled with the
    most frequent value, 'S'", "its own category", or "rows dropped")."""
    encoder = dataset.encoder
    rows = []
    for column, count in dataset.missing_counts.items():
        if dataset.params.get("missing") == "drop":
            handled = "rows dropped"
        elif encoder is not None and column in encoder.medians:
            handled = f"filled with the training median, {encoder.medians[column]:g}"
        elif encoder is not None and encoder.categorical_fill == "most_frequent":
            handled = f"filled with the most frequent value, {encoder.most_frequent[column]!r}"
        else:
            handled = "kept as a category of its own, '(missing)'"
        rows.append({"column": column, "missing": count, "handled": handled})
    return pd.DataFrame(rows, columns=["column", "missing", "handled"])
