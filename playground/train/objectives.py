"""Loss registry and the task-specific bits of training: predictions and score sums.

Scores are accumulated as device tensors (no host sync) and turned into numbers only at
reporting points: accuracy for classification, R2 for regression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from playground.errors import TrainingError

# (outputs, targets, class weights, reduction) -> loss; reduction "mean" or "none" (per sample).
LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None, str], torch.Tensor]


def _squeeze(out: torch.Tensor) -> torch.Tensor:
    return out.squeeze(-1)


@dataclass(frozen=True)
class LossEntry:
    tasks: tuple[str, ...]
    fn: LossFn
    binary_single_logit: bool = False  # model has one output read through a sigmoid


LOSSES: dict[str, LossEntry] = {
    "cross_entropy": LossEntry(
        ("binary", "multiclass"),
        lambda o, y, w, r="mean": F.cross_entropy(o, y, weight=w, reduction=r),
    ),
    "bce": LossEntry(
        ("binary",),
        lambda o, y, w, r="mean": F.binary_cross_entropy_with_logits(
            _squeeze(o), y.float(), pos_weight=w, reduction=r
        ),
        binary_single_logit=True,
    ),
    "mse": LossEntry(
        ("regression",), lambda o, y, w, r="mean": F.mse_loss(_squeeze(o), y, reduction=r)
    ),
    "l1": LossEntry(
        ("regression",), lambda o, y, w, r="mean": F.l1_loss(_squeeze(o), y, reduction=r)
    ),
    "huber": LossEntry(
        ("regression",), lambda o, y, w, r="mean": F.huber_loss(_squeeze(o), y, reduction=r)
    ),
}


class Objective:
    """The loss plus how to score predictions, for one task and model output width."""

    def __init__(
        self, task: str, loss_name: str, output_width: int, class_weights: torch.Tensor | None
    ):
        if loss_name == "auto":
            if task == "regression":
                loss_name = "mse"
            else:
                loss_name = "bce" if output_width == 1 else "cross_entropy"
        entry = LOSSES[loss_name]
        if task not in entry.tasks:
            allowed = [n for n, e in LOSSES.items() if task in e.tasks]
            raise TrainingError(
                f"The {loss_name} loss does not fit a {task} task.",
                f"Choose one of: auto, {', '.join(allowed)}.",
            )
        if entry.binary_single_logit != (output_width == 1 and task == "binary"):
            need = (
                "1 output"
                if entry.binary_single_logit
                else f"{output_width if output_width > 1 else 2} outputs"
            )
            raise TrainingError(
                f"The {loss_name} loss needs a model with {need}, but it has {output_width}.",
                "Use loss 'auto', or change the last Linear's out_features.",
            )
        if class_weights is not None and entry.binary_single_logit:
            # BCE weighs only the positive class: the ratio of negatives to positives.
            class_weights = class_weights[1] / class_weights[0]
        self.name = loss_name
        self.task = task
        self.entry = entry
        self.weights = class_weights
        self.output_width = output_width

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.entry.fn(out, y, self.weights)

    def weighted_loss(
        self, out: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor
    ) -> torch.Tensor:
        """Mean of per-sample losses times `sample_weight` (B,). Weights that average 1 over
        the training set (as reweighing's do) keep the loss on the unweighted scale."""
        return (self.entry.fn(out, y, self.weights, "none") * sample_weight).mean()

    @torch.no_grad()
    def chance_loss(self, y: torch.Tensor) -> float:
        """The loss on targets `y` (N,) of a model that has learnt nothing: equal scores for
        every class (ln C for cross-entropy, ln 2 for one logit) or the mean target for
        regression (the targets' variance under MSE, about 1 for standardised ones). Computed
        with the run's own loss, so class weights count as they do in training."""
        if self.task == "regression":
            out = torch.full((len(y), 1), float(y.float().mean()), device=y.device)
        else:
            out = torch.zeros(len(y), self.output_width, device=y.device)
        return float(self.loss(out, y))

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        """Class indices (classification) or values (regression), shape (B,)."""
        if self.task == "regression":
            return _squeeze(out)
        if self.entry.binary_single_logit:
            return (_squeeze(out) > 0).long()
        return out.argmax(dim=-1)

    def probabilities(self, out: torch.Tensor) -> torch.Tensor:
        """(B, classes) probabilities for classification."""
        if self.entry.binary_single_logit:
            p = torch.sigmoid(_squeeze(out))
            return torch.stack([1 - p, p], dim=-1)
        return torch.softmax(out, dim=-1)

    def score_sums(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Sums over predictions (from `predict`), on the device: [correct] for
        classification or [ss_res, sum_y, sum_y2] for regression."""
        if self.task == "regression":
            y = y.float()
            return torch.stack([((pred - y) ** 2).sum(), y.sum(), (y * y).sum()])
        return (pred == y).sum().float().unsqueeze(0)

    @property
    def score_name(self) -> str:
        return "r2" if self.task == "regression" else "acc"

    def finish_score(self, sums: torch.Tensor, count: int) -> float:
        """Turn accumulated sums (host values) into accuracy or R2."""
        values = sums.tolist()
        if self.task != "regression":
            return values[0] / max(count, 1)
        ss_res, sum_y, sum_y2 = values
        ss_tot = sum_y2 - sum_y * sum_y / max(count, 1)
        return 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0


def class_weights_for(y_train: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Weights inversely proportional to class frequency, averaging 1 over examples."""
    counts = torch.bincount(y_train, minlength=num_classes).float().clamp(min=1)
    return counts.sum() / (num_classes * counts)
