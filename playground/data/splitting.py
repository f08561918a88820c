"""Seeded train / validation / test splits and the step from numpy arrays to a `Dataset`.

Every builder ends here, so all datasets split, standardise and type their tensors the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from playground.data.dataset import Dataset, Kind, Split, Task
from playground.errors import DatasetError

DEFAULT_FRACTIONS = (0.7, 0.15, 0.15)
# The split draws from its own stream so that changing a generator's draws (e.g. more samples)
# does not silently reuse the same random numbers for the split.
_SPLIT_STREAM = 1

SplitIndices = tuple[np.ndarray, np.ndarray, np.ndarray]


def split_indices(
    y: np.ndarray,
    *,
    seed: int,
    stratify: bool,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
) -> SplitIndices:
    """Row indices (train, val, test) for N rows with labels `y` (N,).

    With `stratify`, each class is split in the same proportions, so every split has roughly
    the class balance of the whole. Each split's indices come out shuffled.
    """
    rng = np.random.default_rng([seed, _SPLIT_STREAM])
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    parts: list[list[np.ndarray]] = [[], [], []]
    for group in groups:
        group = rng.permutation(group)
        n_val = round(len(group) * fractions[1])
        n_test = round(len(group) * fractions[2])
        n_train = len(group) - n_val - n_test
        parts[0].append(group[:n_train])
        parts[1].append(group[n_train : n_train + n_val])
        parts[2].append(group[n_train + n_val :])
    out = tuple(rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts)
    if any(len(p) == 0 for p in out):
        raise DatasetError(
            f"{len(y)} samples are too few to split into train, validation and test.",
            "Use more samples (at least 20).",
        )
    return out  # type: ignore[return-value]


def check_n_samples(n_samples: int, minimum: int = 20) -> None:
    """Builders call this so a bad sample count fails with a message, not deep in numpy."""
    if int(n_samples) < minimum:
        raise DatasetError(f"n_samples={n_samples} is too small.", f"Use at least {minimum}.")


def standardize_target(y: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Regression targets (N,) -> (standardised float32, train mean, train std)."""
    mean = float(y[train].mean())
    std = float(y[train].std()) or 1.0  # a constant target would divide by zero
    return ((y - mean) / std).astype(np.float32), mean, std


def make_split(
    x: np.ndarray,
    y: np.ndarray,
    task: Task,
    sensitive: pd.DataFrame | None = None,
    raw: pd.DataFrame | None = None,
) -> Split:
    """Arrays of one split -> tensors: float32 features (int64 kept for tokens), typed labels;
    `sensitive` and `raw` frames (same rows) are kept beside them with a fresh index."""
    x_t = torch.from_numpy(np.ascontiguousarray(x))
    x_t = x_t.float() if x_t.dtype.is_floating_point else x_t.long()
    y_t = torch.from_numpy(np.ascontiguousarray(y))
    y_t = y_t.float() if task == "regression" else y_t.long()
    if sensitive is not None:
        sensitive = sensitive.reset_index(drop=True)
    if raw is not None:
        raw = raw.reset_index(drop=True)
    return Split(x=x_t, y=y_t, sensitive=sensitive, raw=raw)


def dataset_from_arrays(
    *,
    name: str,
    params: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    task: Task,
    kind: Kind,
    feature_names: Sequence[str],
    seed: int,
    class_names: Sequence[str] | None = None,
    standardize: bool = False,
    description: str = "",
    vocab_size: int | None = None,
    notes: Sequence[str] = (),
) -> Dataset:
    """Split arrays x (N, *input_shape) and y (N,) into a `Dataset`.

    `standardize` rescales each feature column of a 2-D x to train mean 0 / std 1 (fitted on the
    training split only, so validation and test stay honest). Regression targets are always
    standardised on train; `target_mean` / `target_std` undo it.
    """
    classification = task != "regression"
    train, val, test = split_indices(y, seed=seed, stratify=classification)
    # Standardised 2-D features keep their unscaled values for showing rows to people.
    raw = pd.DataFrame(x, columns=list(feature_names)) if standardize and x.ndim == 2 else None
    if standardize:
        mean = x[train].mean(axis=0)
        std = x[train].std(axis=0)
        x = (x - mean) / np.where(std > 0, std, 1.0)
    target_mean, target_std = 0.0, 1.0
    if not classification:
        y, target_mean, target_std = standardize_target(y.astype(np.float64), train)
    splits = [
        make_split(x[i], y[i], task, raw=None if raw is None else raw.iloc[i])
        for i in (train, val, test)
    ]
    return Dataset(
        name=name,
        params=params,
        task=task,
        kind=kind,
        input_shape=tuple(x.shape[1:]),
        feature_names=list(feature_names),
        train=splits[0],
        val=splits[1],
        test=splits[2],
        class_names=list(class_names) if class_names is not None else None,
        vocab_size=vocab_size,
        target_mean=target_mean,
        target_std=target_std,
        description=description,
        notes=list(notes),
    )
