"""The user's own CSV file -> `Dataset`, with errors naming the column, row or limit at fault.

The task and column types are inferred: a non-numeric target, or an integer target with few
distinct values, is classification; anything else numeric is regression. Feature columns are
numeric or categorical; ID-like and free-text columns are dropped with a note in
`Dataset.notes`. Encoding is the shared tabular preprocessor, fitted on the training split.
Reading the file (limits, encoding, separator, header) is `uploads.read_frame`, shared with
the Data page so a file it offers is a file that loads.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset, Task
from playground.data.registry import register_dataset
from playground.data.tabular import dataset_from_frame
from playground.data.uploads import read_frame
from playground.errors import CsvError

MIN_ROWS = 20  # fewer rows cannot fill train, validation and test splits meaningfully
MAX_CLASSES = 50  # a classification target with more classes is almost surely a mistake
MAX_CATEGORIES = 50  # a text column with more distinct values is treated as free text
INTEGER_CLASS_LIMIT = 10  # an integer target with at most this many values is classification
MOSTLY_NUMERIC = 0.8  # share of numbers above which other values in a column are called junk

# How missing feature values are handled; the Data page offers the same choices.
MissingChoice = Literal["fill", "drop"]
MISSING_CHOICES: tuple[str, ...] = typing.get_args(MissingChoice)
# What infinite numbers (inf, -inf, 1e999) are: an error naming them, or missing values.
InfiniteChoice = Literal["error", "missing"]
INFINITE_CHOICES: tuple[str, ...] = typing.get_args(InfiniteChoice)
_INFINITE_WHAT = "infinite values (inf, -inf or numbers too large such as 1e999)"

_ID_NAME = re.compile(r"^(id|index|uuid|guid|key|unnamed: ?\d+)$|[_ \-.]id$", re.IGNORECASE)


def load_csv(
    source: str | Path | bytes,
    target: str,
    *,
    seed: int = 0,
    sensitive: Sequence[str] = (),
    drop_columns: Sequence[str] = (),
    missing: MissingChoice = "fill",
    infinite: InfiniteChoice = "error",
    file_name: str = "",
) -> Dataset:
    """Read a CSV (a path or the file's bytes) and build a tabular `Dataset` predicting `target`.

    `sensitive` names columns whose raw values are kept in `Split.sensitive` (they stay model
    features unless also in `drop_columns`). `missing` says what happens to missing feature
    values: "fill" (numbers get the training median, text the most frequent value) or "drop"
    (rows with any missing feature value are left out). `infinite` says what infinite numbers
    are: "error" (a CsvError naming each column, count and rows) or "missing" (then filled or
    dropped like any missing value; an infinite target drops its row). Column names given
    with spaces around them match the trimmed header. `file_name` is the name the user
    knows the file by (an upload is kept under a content hash). `params["path"]` is None for
    bytes, so save an upload to a file first if the dataset must be rebuilt later with
    `load_dataset("csv", ...)`.
    """
    target = target.strip()
    sensitive = tuple(s.strip() for s in sensitive)
    drop_columns = tuple(d.strip() for d in drop_columns)
    for name, value, choices in (
        ("missing", missing, MISSING_CHOICES),
        ("infinite", infinite, INFINITE_CHOICES),
    ):
        if value not in choices:
            raise CsvError(
                f"{name}={value!r} is not a way to handle {name} values.",
                f"Use one of: {', '.join(choices)}.",
            )
    path = None if isinstance(source, bytes) else str(source)
    file_name = file_name or (Path(path).name if path else "")
    params = {
        "path": path,
        "target": target,
        "seed": seed,
        "sensitive": sensitive,
        "drop_columns": drop_columns,
        "missing": missing,
        "infinite": infinite,
        "file_name": file_name,
    }
    frame = read_frame(source)
    _check_columns(frame, target, sensitive, drop_columns)
    # Columns the user drops are not checked for junk: they will not be used.
    numbers = {c: _numeric_or_junk(frame[c], c, c not in drop_columns) for c in frame.columns}
    kept = [c for c in frame.columns if c not in drop_columns or c in sensitive]
    notes: list[str] = []
    frame, numbers = _infinite_values(frame, numbers, kept, infinite, notes)

    missing_target = frame[target].isna().to_numpy()
    if missing_target.all():
        raise CsvError(
            f"The target column {target!r} is empty: no row has a value to predict.",
            "Choose another target column, or fill in its values.",
        )
    if missing_target.any():
        notes.append(f"Dropped {int(missing_target.sum())} rows with no value for '{target}'.")
        frame = frame.loc[~missing_target].reset_index(drop=True)
        numbers = {c: (None if v is None else v[~missing_target]) for c, v in numbers.items()}
    _check_enough_rows(frame, f"with a value for '{target}'")

    task, y, class_names, note = _encode_target(frame[target], numbers[target], target)
    notes.append(note)
    numeric, categorical = _feature_types(frame, numbers, target, drop_columns, notes)
    if not numeric and not categorical:
        raise CsvError(
            "No usable feature columns are left besides the target.",
            "Add numeric or categorical columns. " + " ".join(notes[1:]),
        )
    # Numeric columns as numbers, so the sensitive frame holds e.g. ages rather than strings.
    typed = frame.assign(**{c: v for c, v in numbers.items() if v is not None})
    # In the file's own column order: rows are shown to people as they wrote them.
    used = set(numeric + categorical)
    features = typed[[c for c in typed.columns if c in used]]
    # Counted as uploaded (before any rows are dropped), for the Data page.
    missing_counts = {c: int(n) for c, n in features.isna().sum().items() if n}
    if missing == "drop" and missing_counts:
        keep = features.notna().all(axis=1).to_numpy()
        notes.append(f"Dropped {int((~keep).sum())} rows with a missing feature value.")
        typed, y = typed.loc[keep].reset_index(drop=True), y[keep]
        features = typed[[c for c in typed.columns if c in used]]
        _check_enough_rows(typed, "without missing values", "or fill missing values instead")
    return dataset_from_frame(
        name="csv",
        params=params,
        features=features,
        y=y,
        task=task,
        numeric=numeric,
        categorical=categorical,
        seed=seed,
        class_names=class_names,
        sensitive=typed[list(sensitive)] if sensitive else None,
        description=f"Your CSV file{f' {file_name}' if file_name else ''}, predicting '{target}'.",
        notes=notes,
        target_name=target,
        categorical_fill="most_frequent",
        missing_counts=missing_counts,
    )


def _check_enough_rows(frame: pd.DataFrame, which: str, fix: str = "") -> None:
    if len(frame) < MIN_ROWS:
        rows = f"{len(frame)} row{'' if len(frame) == 1 else 's'}"
        raise CsvError(
            f"The file has only {rows} {which}; at least {MIN_ROWS} are needed.",
            "Add more rows so there is enough data to train, validate and test"
            + (f", {fix}." if fix else "."),
        )


def _infinite_values(
    frame: pd.DataFrame,
    numbers: dict[str, np.ndarray | None],
    used: list[str],
    infinite: str,
    notes: list[str],
) -> tuple[pd.DataFrame, dict[str, np.ndarray | None]]:
    """CsvError naming each used column with infinite numbers, or (infinite="missing") the
    frame and numbers with those cells made missing and a note saying so.

    Left in, one infinite value turns its whole column into NaN once standardised, and
    training then fails in a way that looks like a bad learning rate.
    """
    found = {}
    for col in used:
        values = numbers[col]
        if values is not None and np.isinf(values).any():
            found[col] = np.flatnonzero(np.isinf(values))
    if not found:
        return frame, numbers
    if infinite == "error":
        sentences = [
            f"Column {col!r} has {_count(len(rows), _INFINITE_WHAT)}, {_rows(rows)}."
            for col, rows in found.items()
        ]
        raise CsvError(
            " ".join(sentences) + " Rows count from 1 after the header.",
            "Fix or blank out those values in the file, or choose to treat infinite values "
            "as missing.",
        )
    frame, numbers = frame.copy(), dict(numbers)
    for col, rows in found.items():
        values = numbers[col].copy()  # type: ignore[union-attr]
        values[rows] = np.nan
        numbers[col] = values
        # The text too, so later checks (distinct values, empty columns) see the same cells.
        frame[col] = frame[col].mask(np.isin(np.arange(len(frame)), rows))
    counts = ", ".join(f"'{col}' ({len(rows)})" for col, rows in found.items())
    total = sum(len(rows) for rows in found.values())
    notes.append(f"Treated {_count(total, 'infinite values')} as missing: {counts}.")
    return frame, numbers


def _count(n: int, plural: str) -> str:
    """'1 infinite value (...)' or '3 infinite values (...)'."""
    if n == 1:
        plural = plural.replace("values", "value", 1)
    return f"{n} {plural}"


def _rows(rows: np.ndarray, limit: int = 5) -> str:
    """0-based row positions as the user counts them: 'row 3', 'rows 3 and 17', ..."""
    shown = [str(int(r) + 1) for r in rows[:limit]]
    if len(rows) > limit:
        return f"rows {', '.join(shown)} and {len(rows) - limit} more"
    if len(shown) == 1:
        return f"row {shown[0]}"
    return f"rows {', '.join(shown[:-1])} and {shown[-1]}"


def _check_columns(
    frame: pd.DataFrame, target: str, sensitive: tuple[str, ...], drop: tuple[str, ...]
) -> None:
    columns = list(frame.columns)  # the column limit is the reader's, checked before parsing
    if len(columns) < 2:
        raise CsvError(
            f"Only one column was found ({columns[0]!r}); a target and at least one feature "
            "column are needed.",
            "Check that the values are separated by commas, semicolons or tabs.",
        )
    available = f"Available columns: {_list(columns)}."
    if target not in columns:
        raise CsvError(f"There is no column named {target!r} to predict.", available)
    for label, names in (("sensitive", sensitive), ("drop_columns", drop)):
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise CsvError(f"{label}: no column named {_list(unknown)}.", available)
        if target in names:
            raise CsvError(f"{label} cannot include the target column {target!r}.", available)


def _list(names: Sequence[str], limit: int = 40) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _numeric_or_junk(column: pd.Series, name: str, strict: bool = True) -> np.ndarray | None:
    """The column as float64 (N,) if numeric, None if it is text (or junky and not `strict`).

    A column that is mostly numbers with a few other values is almost always a typo or a
    unit ("12kg") in the data, so it is an error naming the values rather than silently
    becoming a categorical column with thousands of categories.
    """
    present = column.notna().to_numpy()
    if not present.any():
        return None
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    bad = present & np.isnan(values)
    if not bad.any():
        return values
    if (~bad[present]).mean() < MOSTLY_NUMERIC or not strict:
        return None
    rows = np.flatnonzero(bad)
    examples = ", ".join(f"{column.iloc[i]!r} (row {i + 1})" for i in rows[:3])
    raise CsvError(
        f"Column {name!r} is mostly numbers but has {len(rows)} non-numeric "
        f"value{'s' if len(rows) > 1 else ''}: "
        f"{examples}{' ...' if len(rows) > 3 else ''}. Rows count from 1 after the header.",
        "Fix or blank out those values (empty cells are treated as missing).",
    )


def _encode_target(
    column: pd.Series, numbers: np.ndarray | None, name: str
) -> tuple[Task, np.ndarray, list[str] | None, str]:
    """Target -> (task, y (N,), class names or None, a note saying what was inferred)."""
    if numbers is not None:
        distinct = np.unique(numbers)
        integers = bool(np.all(distinct == np.round(distinct)))
        if len(distinct) > 1 and not (integers and len(distinct) <= INTEGER_CLASS_LIMIT):
            note = f"Task: regression ('{name}' is numeric with {len(distinct)} distinct values)."
            return "regression", numbers, None, note
        labels = np.searchsorted(distinct, numbers)
        names = [str(int(v)) if v == round(v) else f"{v:g}" for v in distinct]
    else:
        values = column.astype(str).to_numpy()
        names, labels = np.unique(values, return_inverse=True)
        names = [str(n) for n in names]
    if len(names) < 2:
        raise CsvError(
            f"The target column {name!r} is constant: it is {names[0]!r} in every row, so there "
            "is nothing to predict.",
            "Choose another target column.",
        )
    if len(names) > MAX_CLASSES:
        raise CsvError(
            f"The target column {name!r} has {len(names)} distinct values; a classification "
            f"target can have at most {MAX_CLASSES} classes.",
            "Choose a column with fewer categories, or a numeric column for regression.",
        )
    task: Task = "binary" if len(names) == 2 else "multiclass"
    note = f"Task: {task} classification ('{name}' has {len(names)} classes)."
    return task, labels.astype(np.int64), names, note


def _feature_types(
    frame: pd.DataFrame,
    numbers: dict[str, np.ndarray | None],
    target: str,
    drop: tuple[str, ...],
    notes: list[str],
) -> tuple[list[str], list[str]]:
    """Split feature columns into (numeric, categorical); note each column left out and why."""
    numeric: list[str] = []
    categorical: list[str] = []
    for col in frame.columns:
        if col == target or col in drop:
            continue
        present = frame[col].dropna()
        n_distinct = present.nunique()
        reason = None
        if present.empty:
            reason = "it is empty"
        elif n_distinct == 1:
            reason = "it has the same value in every row"
        elif numbers[col] is not None:
            if _looks_like_integer_id(col, numbers[col]):
                reason = "it looks like a row ID (distinct whole numbers)"
            else:
                numeric.append(col)
        elif n_distinct == len(present) or _ID_NAME.search(col):
            reason = "it looks like an ID or free text (a different value in every row)"
        elif n_distinct > MAX_CATEGORIES:
            reason = f"it has {n_distinct} distinct text values (limit {MAX_CATEGORIES})"
        else:
            categorical.append(col)
        if reason:
            notes.append(f"Dropped column '{col}': {reason}.")
    return numeric, categorical


def _looks_like_integer_id(name: str, values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    if len(np.unique(present)) < len(present) or np.any(present != np.round(present)):
        return False
    consecutive = bool(np.all(np.diff(np.sort(present)) == 1))
    return consecutive or bool(_ID_NAME.search(name))


@register_dataset(
    "csv",
    title="Your CSV file",
    kind="tabular",
    # Placeholder: the real task is inferred from the target column when the file is loaded.
    task="binary",
    description="Upload a CSV and name the column to predict; the task is inferred from it.",
)
def csv_dataset(
    path: str = "",
    target: str = "",
    seed: int = 0,
    sensitive: tuple[str, ...] = (),
    drop_columns: tuple[str, ...] = (),
    missing: MissingChoice = "fill",
    infinite: InfiniteChoice = "error",
    file_name: str = "",
) -> Dataset:
    """`load_csv` from a file path, for `load_dataset("csv", path=..., target=...)`."""
    if not path:
        raise CsvError("No CSV file was given.", "Pass path= to a CSV file.")
    if not target:
        raise CsvError("No target column was given.", "Pass target= with the column to predict.")
    return load_csv(
        path,
        target,
        seed=seed,
        sensitive=sensitive,
        drop_columns=drop_columns,
        missing=missing,
        infinite=infinite,
        file_name=file_name,
    )
