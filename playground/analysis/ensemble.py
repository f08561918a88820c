"""What an ensemble's members agree on: their disagreement over a 2-D plane, and the
ensemble's score beside each member's.

The grid goes through every member in one batched forward pass (`MemberStack.member_outputs`:
one vmapped call for all K members and all grid points), in eval mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from playground.analysis.boundary import BoundaryGrid, _axes, _check_2d, _interpret
from playground.data.dataset import Dataset
from playground.train.modes.ensemble import (
    MemberStack,
    combine_outputs,
    member_probabilities,
    member_scores,
)


@dataclass
class DisagreementGrid:
    """The ensemble's output on a grid (`ensemble`, a BoundaryGrid as the Train page draws
    it) and how much the members disagree at each grid point, `disagreement` (res, res),
    indexed like `ensemble.values`:

    - binary: the std over members of their probability of class 1 (0 to 0.5);
    - multiclass: the std over members of their probability of the class the ensemble
      predicts there;
    - regression: the std over members of their predictions, in the target's units.
    """

    ensemble: BoundaryGrid
    disagreement: np.ndarray
    members: int

    @property
    def measure(self) -> str:
        """What a disagreement value is, in words (a colour bar's title)."""
        if self.ensemble.kind == "value":
            return "std of the members' predictions"
        if self.ensemble.kind == "probability":
            return "std of the members' P(class 1)"
        return "std of the members' P(predicted class)"


def disagreement_grid(
    model: MemberStack, dataset: Dataset, resolution: int = 60, padding: float = 0.1
) -> DisagreementGrid:
    """Every member on a resolution x resolution grid covering the data (as `decision_grid`),
    in one batched forward pass; the model's train/eval mode is restored afterwards."""
    _check_2d(dataset)
    if resolution < 2:
        raise ValueError(f"resolution={resolution} is too small; use at least 2 points per axis.")
    xs, ys = _axes(dataset, resolution, padding)
    grid_x, grid_y = np.meshgrid(xs, ys)  # [i, j] is the point (xs[j], ys[i])
    points = torch.from_numpy(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = model.member_outputs(points.to(device, dataset.input_dtype)).float()
    finally:
        model.train(was_training)
    combined = combine_outputs(outputs, model.combine).cpu()  # reporting point: host copies
    probs = member_probabilities(outputs, model.combine).cpu()
    values, kind = _interpret(combined, dataset)
    if kind == "value":
        spread = probs.std(dim=0, unbiased=False) * dataset.target_std
    elif kind == "probability":
        spread = probs[..., 1].std(dim=0, unbiased=False)
    else:
        chosen = combined.argmax(dim=1)  # (M,)
        picked = probs.gather(2, chosen.view(1, -1, 1).expand(probs.shape[0], -1, 1))
        spread = picked[..., 0].std(dim=0, unbiased=False)
    shape = (resolution, resolution)
    return DisagreementGrid(
        BoundaryGrid(xs, ys, values.reshape(shape), kind),
        spread.numpy().astype(np.float64).reshape(shape),
        model.members,
    )


@dataclass
class EnsembleScores:
    """One split's scores: the ensemble's and each member's (in member order)."""

    split: str
    score_name: str
    ensemble: float
    members: list[float]

    @property
    def best_member(self) -> float:
        # Lower is better only for errors; the ensemble modes here score acc or R2.
        return max(self.members)

    @property
    def mean_member(self) -> float:
        return float(np.mean(self.members))

    @property
    def gain(self) -> float:
        """How much the ensemble beats its average member (same units as the score)."""
        return self.ensemble - self.mean_member


def ensemble_scores(metrics: Mapping[str, float], split: str, score_name: str) -> EnsembleScores:
    """A split's ensemble and member scores from a run's final metrics (or an epoch row)."""
    members = member_scores(metrics, split, score_name)
    key = f"{split}_{score_name}"
    if key not in metrics or not members:
        raise KeyError(f"no ensemble scores for split {split!r} ({key}, {split}_member0_...)")
    return EnsembleScores(split, score_name, float(metrics[key]), members)
