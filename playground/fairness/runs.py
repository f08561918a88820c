"""From a stored run to audit inputs: labels, scores and group labels of one split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from playground.errors import PlaygroundError
from playground.fairness.actions import try_fairness_data
from playground.fairness.groups import groups_for_split
from playground.fairness.metrics import MIN_GROUP, ModelAudit, audit_model
from playground.runner import LoadedRun, predict_logits

BINARY_ONLY = "Fairness metrics here need a binary task."


def scores_for_run(run: LoadedRun, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(y_true (N,) int64 in {0, 1}, scores (N,) float64 = probability of the positive class)
    for one split of a stored binary-classification run. A model with one output is read
    through a sigmoid, one with two through a softmax (class 1)."""
    dataset = run.dataset
    if dataset.task != "binary":
        raise PlaygroundError(
            f"{BINARY_ONLY} The run's dataset {dataset.name!r} is {dataset.task}.",
            "Audit a run trained on a binary dataset. " + try_fairness_data(),
        )
    data = dataset.split(split)
    out = predict_logits(run.model, data.x).float()
    width = out.shape[-1] if out.dim() > 1 else 1
    if width == 1:
        scores = torch.sigmoid(out.reshape(-1))
    elif width == 2:
        scores = torch.softmax(out, dim=-1)[:, 1]
    else:
        raise PlaygroundError(
            f"{BINARY_ONLY} The model has {width} outputs; a binary model has 1 or 2.",
            "On the Build page, give the last Linear layer 1 or 2 out features.",
        )
    return data.y.numpy().astype(np.int64), scores.numpy().astype(np.float64)


def groups_for_run(run: LoadedRun, attribute: str, split: str = "test") -> pd.Series:
    """Group labels (N,) of one split of the run's dataset, in the same row order as
    `scores_for_run`."""
    return groups_for_split(run.dataset, split, attribute)


def audit_run(
    run: LoadedRun,
    attribute: str,
    split: str = "test",
    threshold: float = 0.5,
    n_boot: int = 200,
    seed: int = 0,
    min_group: int = MIN_GROUP,
) -> ModelAudit:
    """`audit_model` for one split of a stored run and one attribute (or "a & b")."""
    y_true, scores = scores_for_run(run, split)
    groups = groups_for_run(run, attribute, split)
    audit = audit_model(y_true, scores, groups, threshold, n_boot, seed, min_group)
    audit.split = split
    return audit
