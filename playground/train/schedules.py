"""Learning-rate schedule registry. Each entry builds a scheduler and says when it steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch.optim import lr_scheduler

from playground.train.config import TrainConfig

StepOn = Literal["batch", "epoch", "val_loss"]


@dataclass
class Schedule:
    scheduler: lr_scheduler.LRScheduler | lr_scheduler.ReduceLROnPlateau | None
    step_on: StepOn

    @property
    def per_batch(self) -> bool:
        return self.scheduler is not None and self.step_on == "batch"

    def step_batch(self) -> None:
        if self.scheduler is not None and self.step_on == "batch":
            self.scheduler.step()

    def step_epoch(self, val_loss: float) -> None:
        if self.scheduler is None:
            return
        if self.step_on == "epoch":
            self.scheduler.step()
        elif self.step_on == "val_loss":
            self.scheduler.step(val_loss)


ScheduleBuilder = Callable[[torch.optim.Optimizer, TrainConfig, int], Schedule]

SCHEDULES: dict[str, ScheduleBuilder] = {
    "none": lambda o, c, n: Schedule(None, "epoch"),
    "step": lambda o, c, n: Schedule(lr_scheduler.StepLR(o, c.step_size, c.gamma), "epoch"),
    "exponential": lambda o, c, n: Schedule(lr_scheduler.ExponentialLR(o, c.gamma), "epoch"),
    "cosine": lambda o, c, n: Schedule(lr_scheduler.CosineAnnealingLR(o, T_max=c.epochs), "epoch"),
    "plateau": lambda o, c, n: Schedule(
        lr_scheduler.ReduceLROnPlateau(o, factor=c.gamma, patience=c.plateau_patience), "val_loss"
    ),
    # One-cycle warms up to `lr` and anneals, stepping every batch.
    "onecycle": lambda o, c, n: Schedule(
        lr_scheduler.OneCycleLR(o, max_lr=c.lr, total_steps=c.epochs * n), "batch"
    ),
}


def make_schedule(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> Schedule:
    return SCHEDULES[config.schedule](optimizer, config, steps_per_epoch)
