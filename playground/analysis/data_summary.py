"""Tables that describe a dataset before any training: columns, class balance, sample rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def dataset_frame(dataset: Dataset, split: str = "train", limit: int = 200) -> pd.DataFrame:
    """The first `limit` rows of a split as a table: one column per (encoded) feature, named
    as in `dataset.feature_names`, then a `target` column holding the class name, or the
    target value in its original units for regression.

    Works when each example flattens to one value per feature name (tabular, toy2d, image
    pixels); sequence datasets raise ValueError.
    """
    part = dataset.split(split)
    x = part.x[:limit]
    flat = x.reshape(len(x), -1).float().numpy()
    names = [str(n) for n in dataset.feature_names]
    if flat.shape[1] != len(names):
        raise ValueError(
            f"Dataset {dataset.name!r} ({dataset.kind}) has examples of shape "
            f"{tuple(dataset.input_shape)}, which do not form one row of {len(names)} "
            "feature columns; a table view needs tabular, 2-D or image data."
        )
    frame = pd.DataFrame(flat, columns=pd.Index(names))
    y = part.y[:limit].numpy()
    if dataset.is_classification:
        count = int(y.max()) + 1 if len(y) else 0
        classes = np.asarray(dataset.class_names or [str(i) for i in range(count)])
        target = classes[y]
    else:
        target = y.astype(np.float64) * dataset.target_std + dataset.target_mean
    column = TARGET_COLUMN
    while column in frame.columns:  # a feature may itself be called "target"
        column = f"{column} (label)"
    frame[column] = target
    return frame
