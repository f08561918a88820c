"""Tabular datasets with sensitive attributes, for fairness audits: UCI Adult and German credit.

They are read only from the compact copies shipped in `playground/data/files/` (see CREDITS.md
there). The raw sensitive columns ride along in `Split.sensitive`; by default they are also
model features, and `drop_columns` trains without them (or any other column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.data.registry import register_dataset
from playground.data.splitting import check_n_samples
from playground.data.tabular import dataset_from_frame
from playground.errors import DatasetError

FILES = Path(__file__).parent / "files"
# Subsampling draws from its own stream, apart from the split's.
_SUBSAMPLE_STREAM = 2


@dataclass(frozen=True)
class TableSpec:
    """How to read one shipped table: its target, class names and column types."""

    file: str
    target: str
    # Raw target value -> class index; class_names[i] names index i.
    labels: dict[object, int]
    class_names: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    sensitive: tuple[str, ...]


ADULT = TableSpec(
    file="adult.csv.gz",
    target="income",
    labels={"<=50K": 0, ">50K": 1},
    class_names=("<=50K", ">50K"),
    numeric=("age", "education_num", "capital_gain", "capital_loss", "hours_per_week"),
    categorical=(
        "workclass",
        "education",
        "marital_status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "native_country",
    ),
    sensitive=("sex", "race", "age"),
)

GERMAN = TableSpec(
    file="german_credit.csv.gz",
    target="risk",
    labels={0: 0, 1: 1},
    class_names=("bad", "good"),
    # `job` is an ordinal skill level 0..3, so it stays numeric.
    numeric=("job", "credit_amount", "duration", "age"),
    categorical=("sex", "housing", "saving_accounts", "checking_account", "purpose"),
    sensitive=("sex", "age"),
)


@lru_cache(maxsize=4)
def _read_table(file: str) -> pd.DataFrame:
    # Cached: the same file is read once per process; callers get a copy via .iloc below.
    return pd.read_csv(FILES / file)


def _build(
    name: str,
    spec: TableSpec,
    seed: int,
    n_samples: int | None,
    drop_columns: Sequence[str],
    description: str,
) -> Dataset:
    drop_columns = tuple(drop_columns)  # a list from JSON rebuilds the same dataset
    params = {"seed": seed, "n_samples": n_samples, "drop_columns": drop_columns}
    table = _read_table(spec.file)
    columns = [*spec.numeric, *spec.categorical]
    unknown = [c for c in drop_columns if c not in columns]
    if unknown:
        raise DatasetError(
            f"{name} has no column {', '.join(map(repr, unknown))} to drop.",
            f"Valid columns: {', '.join(columns)}.",
        )
    if set(columns) <= set(drop_columns):
        raise DatasetError(f"drop_columns removes every column of {name}.", "Keep at least one.")
    rows = np.arange(len(table))
    if n_samples is not None:
        check_n_samples(n_samples)
        if n_samples > len(table):
            raise DatasetError(
                f"n_samples={n_samples} is more than the {len(table)} rows of {name}.",
                "Use a smaller number, or None for all rows.",
            )
        rng = np.random.default_rng([seed, _SUBSAMPLE_STREAM])
        rows = np.sort(rng.choice(len(table), size=n_samples, replace=False))
    table = table.iloc[rows].reset_index(drop=True)
    y = table[spec.target].map(spec.labels).to_numpy(dtype=np.int64)
    notes = [f"Trained without: {', '.join(drop_columns)}."] if drop_columns else []
    return dataset_from_frame(
        name=name,
        params=params,
        features=table.drop(columns=[spec.target, *drop_columns]),
        y=y,
        task="binary",
        numeric=[c for c in spec.numeric if c not in drop_columns],
        categorical=[c for c in spec.categorical if c not in drop_columns],
        seed=seed,
        class_names=spec.class_names,
        sensitive=table[list(spec.sensitive)],
        description=description,
        notes=notes,
        target_name=spec.target,
    )


ADULT_TEXT = (
    "UCI Adult (1994 US census, 48,842 people): does income exceed $50K a year? "
    "Sensitive attributes: sex, race, age."
)


@register_dataset(
    "adult", title="Adult income (UCI)", kind="tabular", task="binary", description=ADULT_TEXT
)
def adult(
    seed: int = 0, n_samples: int | None = None, drop_columns: tuple[str, ...] = ()
) -> Dataset:
    return _build("adult", ADULT, seed, n_samples, drop_columns, ADULT_TEXT)


GERMAN_TEXT = (
    "Statlog German credit (1,000 loan applicants): is the credit risk good or bad? "
    "Sensitive attributes: sex, age."
)


@register_dataset(
    "german_credit",
    title="German credit (UCI)",
    kind="tabular",
    task="binary",
    description=GERMAN_TEXT,
)
def german_credit(
    seed: int = 0, n_samples: int | None = None, drop_columns: tuple[str, ...] = ()
) -> Dataset:
    return _build("german_credit", GERMAN, seed, n_samples, drop_columns, GERMAN_TEXT)
