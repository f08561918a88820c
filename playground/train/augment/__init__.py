"""Data augmentation in training: random changes to each training batch (never to evaluation).

    base.py      Augmentation (name, title, unit, kinds, tasks, limit) and DataStats
    image.py     shift, rotate, flip, cutout for (B, C, H, W) image batches
    noise.py     Gaussian noise for images, tables and 2D points
    mixup.py     mixup: blends of two examples and of their losses (classification)
    registry.py  AUGMENTATIONS (name -> class), what suits which data, config checks
    pipeline.py  BatchAugment: a run's augmentations with its own seeded device generator
    preview.py   augmented samples to look at before training

A config asks for them by name with a strength: `TrainConfig(augment={"shift": 1})`.
"""

from playground.train.augment.base import Augmentation, DataStats
from playground.train.augment.pipeline import BatchAugment
from playground.train.augment.registry import (
    AUGMENTATIONS,
    check_augment,
    strength_problem,
    suited,
)

__all__ = [
    "AUGMENTATIONS",
    "Augmentation",
    "BatchAugment",
    "DataStats",
    "check_augment",
    "strength_problem",
    "suited",
]
