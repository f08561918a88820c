"""Gaussian noise on the inputs, for every kind of float data."""

from __future__ import annotations

import torch

from playground.train.augment.base import Augmentation


class Noise(Augmentation):
    name = "noise"
    title = "Gaussian noise"
    unit = "std"
    help = (
        "Add random noise to each training input. Tables and 2D points: its std in units of "
        "each feature's own std (0.1 = a tenth of the feature's spread). Images: in units of "
        "the pixel range (0.1 = a tenth of black-to-white), kept inside that range."
    )
    kinds = ("image", "tabular", "toy2d")
    suggested, step, limit = 0.1, 0.05, 5.0

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        data = self.data
        if data.kind == "image":
            # Pixels scaled to the range of the data, and kept in it (a pixel cannot be
            # blacker than black).
            return (x + noise * (self.strength * (data.hi - data.lo))).clamp(data.lo, data.hi)
        return x + noise * (self.strength * data.feature_std)
