"""Sensitive columns -> group labels: categories as they are, numbers in bands, intersections.

Every audit compares groups of people, so each row gets one string label per attribute:
a category ("Female"), a band of a number ("25-44"), "missing", or for an intersection of
attributes both labels joined ("Female & Black"). Missing values form their own group
rather than being dropped, so they stay visible in the audit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.fairness.actions import try_fairness_data

MISSING = "missing"
JOIN = " & "  # "sex & race" names an intersection; its labels read "Male & White"
AGE_BANDS = (25.0, 45.0, 65.0)  # <25, 25-44, 45-64, 65+
# Bands a dataset's documentation asks for: German credit studies compare applicants under 25.
DATASET_BANDS: dict[tuple[str, str], tuple[float, ...]] = {("german_credit", "age"): (25.0,)}
# A numeric column with this many distinct values or fewer is read as categories (e.g. 0/1).
MAX_CODES = 10
QUANTILES = (0.25, 0.5, 0.75)

Bands = Mapping[str, Sequence[float]]
_LEADING_NUMBER = re.compile(r"^>?=?(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)")


def _label_key(label: str) -> tuple:
    """Sort key for one label: bands in numeric order ("<25" first), then other labels
    alphabetically, "missing" last."""
    if label == MISSING:
        return (3, 0.0, "")
    if label.startswith("<"):
        return (0, -np.inf, label)
    number = _LEADING_NUMBER.match(label)
    if number:
        return (1, float(number.group(1)), label)
    return (2, 0.0, label)


def sort_groups(labels: Sequence[str] | pd.Series | np.ndarray) -> list[str]:
    """Distinct group labels in reading order: bands by number, "<25" before "25-44",
    intersections part by part, "missing" last."""
    return sorted({str(x) for x in labels}, key=lambda g: [_label_key(p) for p in g.split(JOIN)])


def attribute_columns(attribute: str, columns: Sequence[str] = ()) -> list[str]:
    """The columns an attribute names: itself, or the parts of "a & b" (an intersection).

    A column whose own name contains " & " is taken whole when it is in `columns`.
    """
    if attribute in columns or JOIN not in attribute:
        return [attribute]
    return [part.strip() for part in attribute.split(JOIN)]


def is_banded(values: pd.Series) -> bool:
    """True for a numeric column with too many distinct values to be used as categories."""
    return pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_CODES


def default_bands(values: pd.Series, name: str) -> tuple[float, ...]:
    """Band edges for a numeric column: fixed age bands, else its quartiles (rounded)."""
    if name.lower() == "age":
        return AGE_BANDS
    present = values.dropna().to_numpy(dtype=np.float64)
    if present.size == 0:
        return ()
    edges = np.quantile(present, QUANTILES)
    integers = bool(np.all(present == np.round(present)))
    edges = np.round(edges) if integers else np.array([float(f"{e:.3g}") for e in edges])
    # Drop edges no value lies below: they would make an empty first band.
    return tuple(float(e) for e in np.unique(edges) if e > present.min())


def band_labels(values: pd.Series, edges: Sequence[float]) -> pd.Series:
    """Numbers (N,) -> band labels (N,): "<25", "25-44", "45-64", "65+" for whole numbers and
    whole edges, "<1.5", "1.5 to <3", ">=3" otherwise; NaN -> "missing"."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    edges = [float(e) for e in edges]
    whole = all(e == round(e) for e in edges) and bool(
        np.all(np.isnan(numbers) | (numbers == np.round(numbers)))
    )
    names = _band_names(edges, whole)
    # side="right": a value equal to an edge starts the next band (25 is in "25-44").
    index = np.searchsorted(np.asarray(edges), numbers, side="right")
    labels = np.asarray(names, dtype=object)[np.minimum(index, len(names) - 1)]
    labels[np.isnan(numbers)] = MISSING
    return pd.Series(labels, index=values.index, name=values.name, dtype=object)


def _band_names(edges: list[float], whole: bool) -> list[str]:
    def fmt(e: float) -> str:
        return f"{e:g}"

    if not edges:
        return ["all"]
    if whole:
        names = [f"<{fmt(edges[0])}"]
        names += [f"{fmt(lo)}-{fmt(hi - 1)}" for lo, hi in pairwise(edges)]
        return [*names, f"{fmt(edges[-1])}+"]
    names = [f"<{fmt(edges[0])}"]
    names += [f"{fmt(lo)} to <{fmt(hi)}" for lo, hi in pairwise(edges)]
    return [*names, f">={fmt(edges[-1])}"]


def category_labels(values: pd.Series) -> pd.Series:
    """Categories (N,) -> string labels (N,); whole numbers print without ".0"; NaN -> "missing"."""

    def text(v: object) -> str:
        if isinstance(v, float) and v == round(v):
            return str(int(v))
        return str(v)

    labels = [MISSING if pd.isna(v) else text(v) for v in values.to_numpy(dtype=object)]
    return pd.Series(labels, index=values.index, name=values.name, dtype=object)


def group_labels(sensitive: pd.DataFrame, attribute: str, bands: Bands | None = None) -> pd.Series:
    """One group label per row (N,) for `attribute`: a column of `sensitive`, or "a & b" for
    the intersection of columns a and b. Numeric columns with many values are banded by
    `bands[column]` when given, else by `default_bands`. The Series is named `attribute`."""
    columns = attribute_columns(attribute, list(sensitive.columns))
    missing = [c for c in columns if c not in sensitive.columns]
    if missing:
        raise PlaygroundError(
            f"No sensitive attribute {', '.join(map(repr, missing))} in this data.",
            f"Choose from: {', '.join(map(str, sensitive.columns)) or 'none'}"
            f" (or two joined with '{JOIN.strip()}', e.g. 'a{JOIN}b').",
        )
    parts = []
    for col in columns:
        values = sensitive[col]
        if is_banded(values):
            edges = (bands or {}).get(col)
            parts.append(
                band_labels(values, default_bands(values, col) if edges is None else edges)
            )
        else:
            parts.append(category_labels(values))
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + JOIN + part
    return labels.rename(attribute).reset_index(drop=True)


def dataset_bands(dataset: Dataset, attribute: str) -> dict[str, tuple[float, ...]]:
    """Band edges for the numeric columns of `attribute`, fixed from the training split so
    that every split (and a model's validation and test rows) uses the same bands."""
    train = _sensitive(dataset, "train")
    bands = {}
    for col in attribute_columns(attribute, list(train.columns)):
        if col in train.columns and is_banded(train[col]):
            bands[col] = DATASET_BANDS.get((dataset.name, col)) or default_bands(train[col], col)
    return bands


def groups_for_split(dataset: Dataset, split: str, attribute: str) -> pd.Series:
    """Group labels (N,) of one split's rows (train, val or test), in the split's row order."""
    return group_labels(_sensitive(dataset, split), attribute, dataset_bands(dataset, attribute))


def sensitive_frame(
    dataset: Dataset, splits: Sequence[str] = ("train", "val", "test")
) -> pd.DataFrame:
    """The raw sensitive columns of several splits stacked in order (rows as in the splits)."""
    return pd.concat([_sensitive(dataset, s) for s in splits], ignore_index=True)


def _sensitive(dataset: Dataset, split: str) -> pd.DataFrame:
    frame = dataset.split(split).sensitive
    if frame is None or frame.shape[1] == 0:
        raise PlaygroundError(
            f"The dataset {dataset.name!r} has no sensitive attributes to audit.",
            try_fairness_data(),
        )
    return frame.reset_index(drop=True)
