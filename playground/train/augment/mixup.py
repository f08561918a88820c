"""Mixup (Zhang et al. 2018): train on blends of two examples, scored against both labels.

The batch is blended with a shuffled copy of itself, lam * x + (1 - lam) * x[perm], with one
lam ~ Beta(alpha, alpha) per batch; the loss is lam * loss(y) + (1 - lam) * loss(y[perm]).
"""

from __future__ import annotations

import numpy as np
import torch

from playground.train.augment.base import Augmentation, DataStats

# The Beta draw is on the host (torch's Beta/Gamma samplers take no generator): a Python
# float, so it costs no device sync. Its own stream, offset from the run's seed.
LAMBDA_SEED_OFFSET = 7_919


class Mixup(Augmentation):
    name = "mixup"
    title = "mixup"
    unit = "alpha"
    help = (
        "Train on blends of two examples (lam of one plus 1 - lam of another, lam drawn from "
        "Beta(alpha, alpha) each batch), with the loss blended the same way between their "
        "two labels. Small alpha (0.2-0.4) blends a little; 1 blends evenly. Classification "
        "only: a blend of two inputs need not have the blend of their targets."
    )
    kinds = ("tabular", "toy2d")
    tasks = ("binary", "multiclass")
    task_reason = (
        "a blend of two inputs need not have the blend of their targets (that holds only "
        "for a straight-line relationship)"
    )
    suggested, step, limit = 0.2, 0.1, 10.0
    mixes_labels = True

    def __init__(self, strength: float, data: DataStats, seed: int = 0) -> None:
        super().__init__(strength, data)
        self.rng = np.random.default_rng(seed + LAMBDA_SEED_OFFSET)

    def draw_lambda(self) -> float:
        """lam ~ Beta(alpha, alpha); alpha 0 is no mixing (lam 1)."""
        if self.strength <= 0:
            return 1.0
        return float(self.rng.beta(self.strength, self.strength))

    def mix(
        self, x: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, float]:
        """(blended batch, the partner of each row (B,), lam)."""
        lam = self.draw_lambda()
        perm = torch.randperm(len(x), generator=generator, device=x.device)
        if lam == 1.0:
            return x, perm, lam
        return x * lam + x[perm] * (1.0 - lam), perm, lam

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.mix(x, generator)[0]
