"""Training events. Everything optional (history, gradient stats, early stopping, progress,
persistence) is a Callback hanging on these, so the loop itself stays short."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from playground.train.trainer import Trainer

from playground.status import FINAL_STATUSES

__all__ = ["FINAL_STATUSES", "Callback", "TrainState"]


@dataclass
class TrainState:
    status: str = "pending"
    message: str = ""
    epoch: int = 0  # epochs completed
    step: int = 0  # optimiser steps taken
    samples_seen: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per epoch
    records: list[dict[str, Any]] = field(default_factory=list)  # every `record_every` steps
    final_metrics: dict[str, float] = field(default_factory=dict)
    stop_training: bool = False  # a callback (early stopping) asks the loop to end cleanly
    # How a run that a callback ends is recorded: "completed", or "diverged" when not learning.
    end_status: str = "completed"
    started_at: float = 0.0
    elapsed: float = 0.0


class Callback:
    """Override the events you need; the trainer calls them in list order."""

    def on_train_start(self, trainer: Trainer) -> None: ...

    def on_batch_end(self, trainer: Trainer, loss: torch.Tensor) -> None:
        """Every step. `loss` is a device tensor: do not sync it here."""

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        """Every `record_every` steps, a reporting point: host syncs are fine. Add to `record`."""

    def on_validation_start(self, trainer: Trainer) -> None:
        """Before the epoch's validation pass (the model in eval mode, no gradients)."""

    def on_validation_end(self, trainer: Trainer) -> None: ...

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        """After validation; callbacks may add entries to `row` before it is stored."""

    def on_status(self, trainer: Trainer, status: str) -> None: ...

    def on_train_end(self, trainer: Trainer) -> None: ...
