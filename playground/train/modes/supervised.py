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

from playground.errors import TrainingError
from playground.train.augment import BatchAugment
from playground.train.modes.base import TrainingMode
from playground.train.objectives import Objective, class_weights_for
from playground.train.samplers import BalancedSampler, epoch_rows

if TYPE_CHECKING:
    from playground.data.dataset import Dataset, Split
    from playground.train.config import TrainConfig
    from playground.train.trainer import Trainer

EVAL_BATCH = 4096
# Up to this many classes, evaluation reports each class's recall (recall_0, recall_1...):
# curves of a rare class's recall show what imbalance does; a hundred would be noise.
MAX_RECALL_CLASSES = 20


def per_class_recall(pred: torch.Tensor, y: torch.Tensor, num_classes: int) -> dict[str, float]:
    """{"recall_<class>": share of that class's rows predicted as it} for the classes that
    have rows in `y` (a class absent from a split has no recall there). One host sync."""
    totals = torch.bincount(y, minlength=num_classes)
    hits = torch.bincount(y[pred == y], minlength=len(totals))
    hits_list, totals_list = hits.tolist(), totals.tolist()
    return {
        f"recall_{c}": hit / total
        for c, (hit, total) in enumerate(zip(hits_list, totals_list, strict=True))
        if total
    }


class SupervisedMode(TrainingMode):
    name: ClassVar[str] = "supervised"
    title: ClassVar[str] = "Supervised: predict the labels"
    module_names: ClassVar[tuple[str, ...]] = ("model",)
    draws_boundary: ClassVar[bool] = True

    @classmethod
    def epoch_size(cls, dataset: Dataset, config: TrainConfig, options: Mapping[str, Any]) -> int:
        if config.sampler != "none" and not dataset.is_classification:
            raise TrainingError(
                f"The sampler '{config.sampler}' balances classes; {dataset.title} is a "
                "regression dataset, with none to balance.",
                "Set the sampler to 'none'.",
            )
        return epoch_rows(dataset.train.y, len(dataset.class_names or []), config.sampler)

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
        # The run's own generator draws a balanced epoch (None: the trainer's order as is).
        self.sampler = (
            BalancedSampler(self.y, num_classes, cfg.sampler, cfg.seed)
            if cfg.sampler != "none"
            else None
        )
        self.num_classes = num_classes
        self.reports_recall = dataset.is_classification and num_classes <= MAX_RECALL_CLASSES
        # The epoch's outputs and batch losses, scored once at its end.
        rows = len(self.y) if self.sampler is None else len(self.sampler)
        self._outputs = torch.empty(rows, width, device=device)
        self._losses: list[torch.Tensor] = []
        self._sizes: list[int] = []
        self._order = self.y
        self._step_batch = self.schedule.step_batch if self.schedule.per_batch else None
        # Training batches only (evaluate never sees it), with the run's own generator.
        self.augment = BatchAugment.for_run(cfg.augment, dataset, device, cfg.seed, self.name)

    def _augmented(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's outputs and loss on augmented inputs; with mixup, the loss is the
        same blend of the two labels' losses as the inputs (lam and 1 - lam)."""
        x, mix = self.augment(self.x[idx])
        out = self.model(x)
        yb = self.y[idx]
        wb = None if self.weights is None else self.weights[idx]
        loss = self._loss(out, yb, wb)
        if mix is not None:
            perm, lam = mix
            other = self._loss(out, yb[perm], None if wb is None else wb[perm])
            loss = lam * loss + (1.0 - lam) * other
        return out, loss

    def _loss(self, out: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        if w is None:
            return self.objective.loss(out, y)
        return self.objective.weighted_loss(out, y, w)

    def epoch_order(self, order: torch.Tensor) -> torch.Tensor:
        return order if self.sampler is None else self.sampler.order()

    def begin_epoch(self, order: torch.Tensor) -> None:
        self._order = order
        self._losses, self._sizes = [], []

    def step(self, idx: torch.Tensor, start: int) -> torch.Tensor:
        cfg = self.trainer.config
        if self.augment is not None:
            out, loss = self._augmented(idx)
        elif self.weights is None:
            out = self.model(self.x[idx])
            loss = self.objective.loss(out, self.y[idx])
        else:
            out = self.model(self.x[idx])
            loss = self.objective.weighted_loss(out, self.y[idx], self.weights[idx])
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
        pred = torch.cat(preds)
        sums = self.objective.score_sums(pred, y)
        metrics = {
            "loss": float(loss_sum) / n,
            self.score_name: self.objective.finish_score(sums, n),
        }
        if self.reports_recall:
            metrics.update(per_class_recall(pred, y, self.num_classes))
        return metrics
