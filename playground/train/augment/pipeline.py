"""A run's augmentations, built once, applied to each training batch on its device."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch

from playground.train.augment.base import Augmentation, DataStats
from playground.train.augment.mixup import Mixup
from playground.train.augment.registry import AUGMENTATIONS, check_augment

if TYPE_CHECKING:
    from playground.data.dataset import Dataset

# The augmentation stream is seeded from the run's seed but offset from it, so its draws are
# not the same numbers as the shuffling generator's (both are seeded with the run's seed).
SEED_OFFSET = 1_000_003


class BatchAugment:
    """The run's augmentations in registry order, with the run's own device generator.

    `__call__(x)` returns the augmented batch and, with mixup, (partner rows, lam) for the
    loss; without mixup, None.
    """

    def __init__(
        self,
        augment: Mapping[str, float],
        data: DataStats,
        device: str | torch.device = "cpu",
        seed: int = 0,
        mode: str = "supervised",
    ) -> None:
        check_augment(augment, data.kind, data.task, mode)
        self.steps: list[Augmentation] = []
        self.mixup: Mixup | None = None
        for name, cls in AUGMENTATIONS.items():
            strength = float(augment.get(name, 0.0))
            if strength <= 0:
                continue
            if cls is Mixup:
                self.mixup = Mixup(strength, data, seed)
            else:
                self.steps.append(cls(strength, data))
        self.generator = torch.Generator(device=torch.device(device)).manual_seed(
            seed + SEED_OFFSET
        )

    @classmethod
    def for_run(
        cls,
        augment: Mapping[str, float],
        dataset: Dataset,
        device: str | torch.device = "cpu",
        seed: int = 0,
        mode: str = "supervised",
    ) -> BatchAugment | None:
        """The run's augmentation, or None when it has none (the step then skips it)."""
        if not any(augment.values()):
            return None
        check_augment(augment, dataset.kind, dataset.task, mode)  # before measuring anything
        return cls(augment, DataStats.of(dataset, device), device, seed, mode)

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.steps] + (["mixup"] if self.mixup else [])

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """The batch with every augmentation but mixup applied."""
        for aug in self.steps:
            x = aug(x, self.generator)
        return x

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, float] | None]:
        x = self.inputs(x)
        if self.mixup is None:
            return x, None
        x, perm, lam = self.mixup.mix(x, self.generator)
        return x, (perm, lam)
