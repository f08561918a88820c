"""Dataset options that keep fewer rows: some classes only (`keep_classes`), a few training
rows per class (`per_class`), and one class made rare (`rare_class` with `rare_ratio`).

They change what the model learns from, never how it is judged: `per_class` and the rare
class thin the training split only, so validation and test still measure every class on all
of its rows (a rare class's recall is then a fair number). `keep_classes` is a different
task, so it applies to every split. Rows are picked with the dataset's own seed: the same
parameters always give the same rows. Each split's `raw` and `sensitive` columns are indexed
the same way as its tensors, so the rows people see stay the rows the model sees.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from playground.data.dataset import Dataset, Split
from playground.data.options import DatasetOption, register_option
from playground.errors import DatasetError

# Offsets on the dataset's seed, so each option draws its own rows (not the split's).
PER_CLASS_SEED, RARE_SEED = 101, 102


def take_rows(split: Split, index: np.ndarray, y: torch.Tensor | None = None) -> Split:
    """The rows `index` (int array) of a split, with `y` replacing the labels if given."""
    rows = torch.as_tensor(index, dtype=torch.long)
    return dataclasses.replace(
        split,
        x=split.x[rows],
        y=split.y[rows] if y is None else y,
        sensitive=None
        if split.sensitive is None
        else split.sensitive.iloc[index].reset_index(drop=True),
        raw=None if split.raw is None else split.raw.iloc[index].reset_index(drop=True),
    )


def _class_index(dataset: Dataset, value: int, option: str) -> int:
    names = dataset.class_names or []
    if not 0 <= value < len(names):
        raise DatasetError(
            f"Option {option!r}: {dataset.title} has no class {value}; its classes are "
            f"0 to {len(names) - 1}.",
            "Classes by index: " + ", ".join(f"{i} = {n}" for i, n in enumerate(names)) + ".",
        )
    return value


def _seed(dataset: Dataset, offset: int) -> int:
    return int(dataset.params.get("seed", 0)) + offset


# -- keep_classes ------------------------------------------------------------------------
def keep_classes(dataset: Dataset, classes: list[int], options: dict[str, Any]) -> Dataset:
    """Only `classes`, relabelled 0..k-1 in the order given, in every split."""
    for value in classes:
        _class_index(dataset, value, "keep_classes")
    if len(set(classes)) != len(classes) or len(classes) < 2:
        raise DatasetError(
            f"Option 'keep_classes' needs two or more different classes (got {classes}).",
            "E.g. [0, 1, 2, 3, 4] keeps the digits 0 to 4.",
        )
    names = dataset.class_names or []
    # Old label -> new label (-1: dropped), one lookup for every row.
    relabel = torch.full((len(names),), -1, dtype=torch.long)
    relabel[torch.tensor(classes)] = torch.arange(len(classes))

    def keep(split: Split) -> Split:
        new = relabel[split.y]
        index = torch.nonzero(new >= 0).squeeze(1)
        return take_rows(split, index.numpy(), new[index].to(split.y.dtype))

    kept = [names[c] for c in classes]
    return dataclasses.replace(
        dataset,
        train=keep(dataset.train),
        val=keep(dataset.val),
        test=keep(dataset.test),
        class_names=kept,
        # Two classes are a binary task, whatever the full dataset had (one-logit losses,
        # ROC curves and the fairness audit then apply).
        task="binary" if len(classes) == 2 else dataset.task,
        notes=[
            *dataset.notes,
            f"Only the classes {', '.join(kept)} (of {len(names)}), numbered 0 to "
            f"{len(kept) - 1} in that order, in every split.",
        ],
    )


# -- per_class ---------------------------------------------------------------------------
def per_class(dataset: Dataset, count: int, options: dict[str, Any]) -> Dataset:
    """At most `count` training rows of each class, drawn with the dataset's seed."""
    if count < 1:
        raise DatasetError(
            f"Option 'per_class' must be at least 1 (got {count}).",
            "E.g. 10 keeps ten training rows of each class (few-shot learning).",
        )
    y = dataset.train.y.numpy()
    rng = np.random.default_rng(_seed(dataset, PER_CLASS_SEED))
    picks = [
        rng.permutation(np.flatnonzero(y == c))[:count]
        for c in range(len(dataset.class_names or []))
    ]
    # Sorted, so the kept rows stay in the split's own order.
    index = np.sort(np.concatenate(picks)) if picks else np.zeros(0, dtype=np.int64)
    short = [
        name
        for name, rows in zip(dataset.class_names or [], picks, strict=True)
        if 0 < len(rows) < count
    ]
    note = (
        f"At most {count} training rows per class ({len(index)} in all); validation and test "
        "keep every row."
    )
    if short:
        note += f" Fewer rows than that, all kept: {', '.join(short)}."
    return dataclasses.replace(
        dataset, train=take_rows(dataset.train, index), notes=[*dataset.notes, note]
    )


# -- rare_class / rare_ratio -------------------------------------------------------------
def make_rare(dataset: Dataset, rare: int, options: dict[str, Any]) -> Dataset:
    """Keep only `rare_ratio` of the training rows of class `rare` (at least one)."""
    ratio = float(options.get("rare_ratio", 1.0))
    _class_index(dataset, rare, "rare_class")
    if not 0 < ratio <= 1:
        raise DatasetError(
            f"Option 'rare_ratio' must be a fraction above 0 and at most 1 (got {ratio}).",
            "E.g. 0.05 keeps one training row in twenty of the rare class.",
        )
    if ratio == 1:
        return dataset  # nothing made rare yet (the app sets the class before the ratio)
    y = dataset.train.y.numpy()
    rows = np.flatnonzero(y == rare)
    keep = max(1, round(len(rows) * ratio)) if len(rows) else 0
    rng = np.random.default_rng(_seed(dataset, RARE_SEED))
    dropped = rng.permutation(rows)[keep:]
    index = np.setdiff1d(np.arange(len(y)), dropped)  # sorted: the split's own order
    name = (dataset.class_names or [])[rare]
    return dataclasses.replace(
        dataset,
        train=take_rows(dataset.train, index),
        notes=[
            *dataset.notes,
            f"Class {name} made rare: {keep} of its {len(rows)} training rows kept "
            f"({ratio:.0%}). Validation and test keep all of theirs, so they still measure "
            "it fairly (watch its recall).",
        ],
    )


def check_rare_ratio(dataset: Dataset, ratio: float, options: dict[str, Any]) -> Dataset:
    """`rare_ratio` does its work inside `rare_class`; alone it names no class to thin."""
    if options.get("rare_class") is None:
        raise DatasetError(
            f"Option 'rare_ratio' ({ratio}) needs 'rare_class': which class to make rare.",
            "Set rare_class to a class index (e.g. rare_class=3, rare_ratio=0.05), or "
            "remove rare_ratio.",
        )
    return dataset


register_option(
    DatasetOption(
        name="keep_classes",
        title="keep only these classes",
        annotation=list[int] | None,
        default=None,
        help="Class indices to keep in every split, renumbered 0..k-1 in the order given "
        "(e.g. [0, 1, 2, 3, 4] for the digits 0 to 4).",
        apply=keep_classes,
        order=10,  # first: the other options count rows of the classes that remain
        classification_only=True,
    )
)
register_option(
    DatasetOption(
        name="per_class",
        title="training rows per class",
        annotation=int | None,
        default=None,
        help="Keep at most this many training rows of each class (drawn with the dataset's "
        "seed); validation and test keep every row. Empty: all rows.",
        apply=per_class,
        order=20,
        classification_only=True,
    )
)
register_option(
    DatasetOption(
        name="rare_class",
        title="make this class rare",
        annotation=int | None,
        default=None,
        help="A class index (after keep_classes renumbers them) whose training rows are "
        "thinned to 'rare class ratio' of them; validation and test keep every row. Empty: "
        "none.",
        apply=make_rare,
        order=30,
        classification_only=True,
    )
)
register_option(
    DatasetOption(
        name="rare_ratio",
        title="rare class ratio",
        annotation=float,
        default=1.0,
        help="The fraction of the rare class's training rows to keep (0.05: one in twenty).",
        apply=check_rare_ratio,
        order=31,  # checked after rare_class, which reads it
        classification_only=True,
    )
)
