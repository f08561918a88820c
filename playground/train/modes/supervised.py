"""Supervised learning: one model, one loss against the labels, accuracy or R2.

The step is the hot path of every run, so it does only what a hand-written loop does plus
one device copy (the batch's outputs into the epoch's buffer) and a list append (its loss):
the epoch's training loss and score are computed from those once, at its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from playground.train.modes.base import TrainingMode
from playground.train.objectives import Objective, class_weights_for

if TYPE_CHECKING:
    from playground.data.dataset import Split
    from playground.train.trainer import Trainer

EVAL_BATCH = 4096


class SupervisedMode(TrainingMode):
    name: ClassVar[str] = "supervised"
    title: ClassVar[str] = "Supervised: predict the labels"
    module_names: ClassVar[tuple[str, ...]] = ("model",)
    draws_boundary: ClassVar[bool] = True

    def __init__(self, trainer: Trainer, options: Mapping[str, Any]) -> None:
        super().__init__(trainer, options)
        dataset, cfg, device = trainer.dataset, trainer.config, trainer.device
        num_classes = len(dataset.class_names or [])
        weights = (
            class_weights_for(dataset.train.y, num_classes).to(device)
            if cfg.class_weighting and dataset.is_classification
            else None
        )
        self.model: nn.Module = trainer.modules["model"].module
        self.objective = Objective(
            dataset.task, cfg.loss, trainer.modules["model"].output_shape[0], weights
        )
        self.score_name = self.objective.score_name
        self.optimizer = trainer.optimizers["model"]
        self.steps = trainer.steps["model"]
        self.schedule = trainer.schedules["model"]
        self.x = dataset.train.x.to(device)
        self.y = dataset.train.y.to(device)
        self.l1_params = [p for p in self.model.parameters() if p.dim() >= 2] if cfg.l1 else []
        self.weights = trainer.sample_weights
        width = trainer.modules["model"].output_shape[0]
        # The epoch's outputs and batch losses, scored once at its end.
        self._outputs = torch.empty(len(self.y), width, device=device)
        self._losses: list[torch.Tensor] = []
        self._sizes: list[int] = []
        self._order = self.y
        self._step_batch = self.schedule.step_batch if self.schedule.per_batch else None

    def begin_epoch(self, order: torch.Tensor) -> None:
        self._order = order
        self._losses, self._sizes = [], []

    def step(self, idx: torch.Tensor, start: int) -> torch.Tensor:
        cfg = self.trainer.config
        out = self.model(self.x[idx])
        yb = self.y[idx]
        if self.weights is None:
            loss = self.objective.loss(out, yb)
        else:
            loss = self.objective.weighted_loss(out, yb, self.weights[idx])
        if self.l1_params:
            loss = loss + cfg.l1 * sum(p.abs().sum() for p in self.l1_params)
        self.steps.zero_grad()
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.steps.step()
        if self._step_batch is not None:
            self._step_batch()
        loss = loss.detach()
        self._losses.append(loss)
        self._sizes.append(len(idx))
        self._outputs[start : start + len(idx)] = out.detach()
        return loss

    def end_epoch(self) -> dict[str, float]:
        n = sum(self._sizes)
        sizes = torch.tensor(self._sizes, dtype=torch.float32, device=self.x.device)
        loss = float(torch.stack(self._losses).float() @ sizes) / n
        preds = self.objective.predict(self._outputs[:n])
        sums = self.objective.score_sums(preds, self.y[self._order[:n]])
        return {"loss": loss, self.score_name: self.objective.finish_score(sums, n)}

    @torch.no_grad()
    def evaluate(self, split: Split) -> dict[str, float]:
        was_training = self.model.training
        self.model.eval()
        device = self.x.device
        x, y = split.x.to(device), split.y.to(device)
        loss_sum = torch.zeros((), device=device)
        preds = []
        for start in range(0, len(y), EVAL_BATCH):
            xb, yb = x[start : start + EVAL_BATCH], y[start : start + EVAL_BATCH]
            out = self.model(xb)
            loss_sum.add_(self.objective.loss(out, yb), alpha=len(yb))
            preds.append(self.objective.predict(out))
        self.model.train(was_training)
        n = max(len(y), 1)
        sums = self.objective.score_sums(torch.cat(preds), y)
        return {"loss": float(loss_sum) / n, self.score_name: self.objective.finish_score(sums, n)}
