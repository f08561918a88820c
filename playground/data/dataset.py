"""The Dataset every other part of the playground consumes.

A dataset is split once, with a seed, into train / validation / test. Features are already
preprocessed (fitted on the training split only) and held as tensors; tabular datasets keep
their raw sensitive columns beside the encoded features for fairness work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

Task = Literal["binary", "multiclass", "regression"]
Kind = Literal["toy2d", "tabular", "image", "sequence"]
SPLIT_NAMES = ("train", "val", "test")


def dataset_title(name: str, params: dict[str, Any]) -> str:
    """A dataset's name for people: a CSV is its uploaded file's name ("titanic.csv")."""
    if name == "csv":
        return str(params.get("file_name") or Path(str(params.get("path") or "your CSV")).name)
    return name


@dataclass
class Split:
    """One split. `x` is float32 (or int64 for token sequences) with shape (N, *input_shape);
    `y` is int64 class indices (N,) for classification or float32 (N,) for regression.
    `sensitive` holds the raw (un-encoded) sensitive columns for the same rows, or None.
    `raw` holds the feature columns as the user gave them (numbers unscaled, text as text,
    missing as NaN) for the same rows, for showing rows to people; None where `x` is already
    what a person reads (images, sequences, unscaled toys)."""

    x: torch.Tensor
    y: torch.Tensor
    sensitive: pd.DataFrame | None = None
    raw: pd.DataFrame | None = None

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass
class Dataset:
    """A dataset ready for training.

    `name` and `params` are enough to build it again (`load_dataset(name, **params)` gives the
    same splits), which is how stored runs are reloaded.
    """

    name: str
    params: dict[str, Any]
    task: Task
    kind: Kind
    input_shape: tuple[int, ...]
    feature_names: list[str]
    train: Split
    val: Split
    test: Split
    class_names: list[str] | None = None
    sensitive_attributes: list[str] = field(default_factory=list)
    # For one-hot encoded tabular data: encoded feature name -> original column name.
    feature_groups: dict[str, str] = field(default_factory=dict)
    # Token sequences feed an Embedding layer: vocabulary size, else None.
    vocab_size: int | None = None
    # Regression targets are standardised on the training split; these undo it.
    target_mean: float = 0.0
    target_std: float = 1.0
    description: str = ""
    notes: list[str] = field(default_factory=list)
    # What a person calls the target column ("survived"), for tables of rows.
    target_name: str = "label"
    # Tabular data: missing values per feature column as given (before filling or dropping).
    missing_counts: dict[str, int] = field(default_factory=dict)
    # Tabular data: the fitted TabularPreprocessor, which encodes raw rows (what-if edits).
    encoder: Any = None

    @property
    def title(self) -> str:
        """The dataset's name as the user knows it: an uploaded file's own name, not "csv"."""
        return dataset_title(self.name, self.params)

    @property
    def num_outputs(self) -> int:
        """Default output width of a model: one logit per class, or 1 for regression."""
        return 1 if self.task == "regression" else len(self.class_names or [])

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    @property
    def input_dtype(self) -> torch.dtype:
        return self.train.x.dtype

    def split(self, name: str) -> Split:
        if name not in SPLIT_NAMES:
            raise KeyError(f"unknown split {name!r}; use one of {SPLIT_NAMES}")
        return getattr(self, name)

    def class_counts(self, split: str = "train") -> dict[str, int]:
        """Number of examples per class name in a split (classification only)."""
        if not self.is_classification:
            return {}
        counts = np.bincount(self.split(split).y.numpy(), minlength=len(self.class_names or []))
        return {name: int(c) for name, c in zip(self.class_names or [], counts, strict=True)}

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "kind": self.kind,
            "input_shape": list(self.input_shape),
            "num_features": len(self.feature_names),
            "classes": self.class_names,
            "sizes": {s: len(self.split(s)) for s in SPLIT_NAMES},
            "sensitive_attributes": self.sensitive_attributes,
        }
