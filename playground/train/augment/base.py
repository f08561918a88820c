"""What an augmentation is: a random change to a training batch, with one strength.

An augmentation is built once per run (with what it needs to know of the training inputs,
measured once) and then called on every batch with the run's own generator: torch ops on the
batch's device, no host syncs, no process-wide random state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch

if TYPE_CHECKING:
    from playground.data.dataset import Dataset

ALL_TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class DataStats:
    """The training inputs' kind, task, value range and per-feature std (shape input_shape),
    measured once so a batch step never has to."""

    kind: str
    task: str
    lo: float
    hi: float
    feature_std: torch.Tensor

    @classmethod
    def of(cls, dataset: Dataset, device: str | torch.device = "cpu") -> DataStats:
        x = dataset.train.x
        if not x.is_floating_point() or len(x) == 0:
            # Token sequences: no augmentation suits them (refused before this is used).
            return cls(dataset.kind, dataset.task, 0.0, 1.0, torch.ones(1, device=device))
        # A feature that never varies gets std 1 rather than 0, so noise still means something.
        std = x.std(dim=0) if len(x) > 1 else torch.ones(x.shape[1:])
        std = torch.where(std > 0, std, torch.ones_like(std))
        return cls(dataset.kind, dataset.task, float(x.min()), float(x.max()), std.to(device))


class Augmentation:
    """One augmentation. Subclasses set the class attributes and `__call__`.

    `strength` is in the augmentation's `unit` (pixels, degrees, ...); 0 means off, and
    `limit` is the largest a config may ask for.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    unit: ClassVar[str]
    help: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    tasks: ClassVar[tuple[str, ...]] = ALL_TASKS
    # Why it does not fit the other tasks (said when a config asks for it there).
    task_reason: ClassVar[str] = ""
    # A strength to start from and the widget's step; `whole` strengths count pixels.
    suggested: ClassVar[float]
    step: ClassVar[float]
    limit: ClassVar[float]
    whole: ClassVar[bool] = False
    # Mixup changes the labels too: the step mixes two losses (see Mixup.mix).
    mixes_labels: ClassVar[bool] = False

    def __init__(self, strength: float, data: DataStats) -> None:
        self.strength = float(strength)
        self.data = data

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A changed copy of the batch `x` (B, *input_shape), same shape and dtype."""
        raise NotImplementedError
