"""The `folds` and `fold` dataset options: K-fold cross-validation.

With folds=K, the training and validation splits are pooled and dealt into K folds
(stratified by class for classification, seeded by the dataset's seed); fold i becomes the
validation split and the other K-1 folds the training split. The test split is untouched, so
every fold's run is tested on the same rows. `raw` and `sensitive` follow their rows.

Preprocessing (standardisation, one-hot encoding) stays as the dataset fitted it on its
original training split, so every fold reads the same encoded features; its statistics include
rows that are validation rows in some folds, a small leak that changes the features' scale a
little, not which rows are learnt from.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import torch

from playground.data.dataset import Dataset, Split
from playground.data.options import DatasetOption, register_option
from playground.errors import DatasetError

MAX_FOLDS = 20
# Folds draw from their own stream of the dataset's seed, apart from the split's.
_FOLD_STREAM = 7


def fold_assignment(y: np.ndarray, folds: int, seed: int, stratify: bool) -> np.ndarray:
    """The fold (0..folds-1) of each of N rows with labels `y` (N,). With `stratify`, each
    class is dealt round-robin over the folds after a seeded shuffle, so every fold has the
    class balance of the whole, and fold sizes differ by at most one per class."""
    rng = np.random.default_rng([seed, _FOLD_STREAM])
    assignment = np.empty(len(y), dtype=np.int64)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    offset = 0
    for group in groups:
        group = rng.permutation(group)
        # Each class starts where the last one ended, so small classes do not all land in
        # fold 0 and the folds stay within one row of each other in size.
        assignment[group] = (np.arange(len(group)) + offset) % folds
        offset += len(group)
    return assignment


def _take(split: Split, rows: np.ndarray) -> Split:
    index = torch.from_numpy(rows)
    return Split(
        x=split.x[index],
        y=split.y[index],
        sensitive=None
        if split.sensitive is None
        else split.sensitive.iloc[rows].reset_index(drop=True),
        raw=None if split.raw is None else split.raw.iloc[rows].reset_index(drop=True),
    )


def _pool(a: Split, b: Split) -> Split:
    def frames(x: pd.DataFrame | None, y: pd.DataFrame | None) -> pd.DataFrame | None:
        if x is None or y is None:
            return None
        return pd.concat([x.reset_index(drop=True), y.reset_index(drop=True)], ignore_index=True)

    return Split(
        x=torch.cat([a.x, b.x]),
        y=torch.cat([a.y, b.y]),
        sensitive=frames(a.sensitive, b.sensitive),
        raw=frames(a.raw, b.raw),
    )


def pooled(dataset: Dataset) -> Split:
    """The training then the validation rows, as one split (what the folds divide)."""
    return _pool(dataset.train, dataset.val)


def split_fold(dataset: Dataset, folds: int, options: dict) -> Dataset:
    fold = int(options.get("fold", 0))
    if not 2 <= folds <= MAX_FOLDS:
        raise DatasetError(
            f"Option 'folds' must be from 2 to {MAX_FOLDS} (got {folds}).",
            "Try 5: each run validates on a fifth of the rows and trains on the rest.",
        )
    if not 0 <= fold < folds:
        raise DatasetError(
            f"Option 'fold' must be from 0 to {folds - 1} with {folds} folds (got {fold}).",
            "Folds are numbered from 0.",
        )
    pool = pooled(dataset)
    if len(pool) < folds:
        raise DatasetError(
            f"{len(pool)} training and validation rows are too few for {folds} folds.",
            "Use fewer folds, or more samples.",
        )
    seed = int(dataset.params.get("seed", 0))
    assignment = fold_assignment(pool.y.numpy(), folds, seed, dataset.is_classification)
    return dataclasses.replace(
        dataset,
        train=_take(pool, np.flatnonzero(assignment != fold)),
        val=_take(pool, np.flatnonzero(assignment == fold)),
        notes=[
            *dataset.notes,
            f"Cross-validation fold {fold + 1} of {folds}: the training and validation rows "
            f"pooled and dealt into {folds} folds; this fold validates, the others train.",
        ],
    )


def check_fold(dataset: Dataset, fold: int, options: dict) -> Dataset:
    """`fold` alone means nothing: it picks one of the `folds` (which applies it)."""
    if not options.get("folds"):
        raise DatasetError(
            f"Option 'fold' ({fold}) needs 'folds', the number of folds.",
            "Set folds (e.g. 5) too, or remove 'fold'.",
        )
    return dataset


register_option(
    DatasetOption(
        name="folds",
        title="cross-validation folds (0 = off)",
        annotation=int,
        default=0,
        help="K pools the training and validation rows and splits them into K folds; "
        "'fold' picks the one that validates. The test split is untouched.",
        apply=split_fold,
        order=80,  # after options that pick rows, before outliers are injected into val/test
    )
)
register_option(
    DatasetOption(
        name="fold",
        title="cross-validation fold (0 to folds-1)",
        annotation=int,
        default=0,
        help="Which fold is the validation split (0 to folds-1); needs 'folds'.",
        apply=check_fold,
        order=81,
    )
)
