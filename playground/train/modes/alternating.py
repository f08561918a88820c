"""Two modules trained in turn: an encoder (input -> features) and a head (features -> labels).

Each module has its own optimiser and schedule; even steps update the head on the encoder's
detached features, odd steps update the encoder through the frozen head (block-coordinate
descent). It is the smallest mode with several named modules and a step that alternates
between them, the shape GANs and adversarial debiasing take, and reports scores of its own
(each module's loss) beside accuracy or R2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from playground.model.build import DataSignature
from playground.model.spec import ModelSpec
from playground.train.modes.base import TrainingMode
from playground.train.modes.supervised import EVAL_BATCH
from playground.train.objectives import Objective

if TYPE_CHECKING:
    from playground.data.dataset import Dataset, Split
    from playground.train.trainer import Trainer

DEFAULT_FEATURES = 16


class AlternatingMode(TrainingMode):
    name: ClassVar[str] = "alternating"
    title: ClassVar[str] = "Encoder and head trained in turn (two modules, two optimisers)"
    module_names: ClassVar[tuple[str, ...]] = ("encoder", "head")
    draws_boundary: ClassVar[bool] = False

    @classmethod
    def signatures(
        cls, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
    ) -> dict[str, DataSignature]:
        cls.check_modules(specs)
        data = DataSignature.of(dataset)
        features = int(options.get("features", DEFAULT_FEATURES))
        return {
            "encoder": DataSignature(
                data.input_shape, features, "features", data.tokens, data.vocab_size
            ),
            "head": DataSignature((features,), data.num_outputs, data.task),
        }

    def __init__(self, trainer: Trainer, options: Mapping[str, Any]) -> None:
        super().__init__(trainer, options)
        dataset, device = trainer.dataset, trainer.device
        self.encoder: nn.Module = trainer.modules["encoder"].module
        self.head: nn.Module = trainer.modules["head"].module
        self.objective = Objective(
            dataset.task, trainer.config.loss, trainer.modules["head"].output_shape[0], None
        )
        self.score_name = self.objective.score_name
        self.x = dataset.train.x.to(device)
        self.y = dataset.train.y.to(device)
        self._sums = torch.zeros(2, device=device)  # [encoder loss sum, head loss sum]
        self._counts = [0, 0]

    def begin_epoch(self, order: torch.Tensor) -> None:
        self._sums = torch.zeros(2, device=self.x.device)
        self._counts = [0, 0]

    def step(self, idx: torch.Tensor, start: int) -> torch.Tensor:
        trainer = self.trainer
        which = "head" if trainer.state.step % 2 == 0 else "encoder"
        xb, yb = self.x[idx], self.y[idx]
        if which == "head":
            with torch.no_grad():
                features = self.encoder(xb)
            loss = self.objective.loss(self.head(features), yb)
        else:
            loss = self.objective.loss(self.head(self.encoder(xb)), yb)
        for steps in trainer.steps.values():
            steps.zero_grad()
        loss.backward()
        if trainer.config.grad_clip:
            nn.utils.clip_grad_norm_(
                trainer.modules[which].module.parameters(), trainer.config.grad_clip
            )
        trainer.steps[which].step()  # only this module moves; the other's gradients are dropped
        trainer.schedules[which].step_batch()
        loss = loss.detach()
        slot = 1 if which == "head" else 0
        self._sums[slot].add_(loss, alpha=len(idx))
        self._counts[slot] += len(idx)
        return loss

    def end_epoch(self) -> dict[str, float]:
        encoder_sum, head_sum = self._sums.tolist()
        metrics = self.evaluate_tensors(self.x, self.y)
        metrics["encoder_loss"] = encoder_sum / max(self._counts[0], 1)
        metrics["head_loss"] = head_sum / max(self._counts[1], 1)
        return metrics

    def evaluate(self, split: Split) -> dict[str, float]:
        return self.evaluate_tensors(split.x.to(self.x.device), split.y.to(self.x.device))

    @torch.no_grad()
    def evaluate_tensors(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        modes = self.encoder.training, self.head.training
        self.encoder.eval()
        self.head.eval()
        loss_sum = torch.zeros((), device=x.device)
        preds = []
        for start in range(0, len(y), EVAL_BATCH):
            out = self.head(self.encoder(x[start : start + EVAL_BATCH]))
            yb = y[start : start + EVAL_BATCH]
            loss_sum.add_(self.objective.loss(out, yb), alpha=len(yb))
            preds.append(self.objective.predict(out))
        self.encoder.train(modes[0])
        self.head.train(modes[1])
        n = max(len(y), 1)
        sums = self.objective.score_sums(torch.cat(preds), y)
        return {"loss": float(loss_sum) / n, self.score_name: self.objective.finish_score(sums, n)}
