"""Augmented samples to look at before training: what the model will be shown instead of
the training data (images: a few originals and several augmented versions of each; points:
a sample of the training inputs and the same points augmented once)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from playground.data.dataset import Dataset
from playground.train.augment.pipeline import BatchAugment


@dataclass
class AugmentPreview:
    """`originals` (N, *input_shape); `augmented` (N, V, *input_shape) for images, where row
    i holds V augmented versions of original i, or (N, *input_shape) for points (one version
    each); `labels` (N,) the originals' labels (class indices or targets)."""

    kind: str
    originals: np.ndarray
    augmented: np.ndarray
    labels: np.ndarray
    names: list[str]  # the augmentations applied, in order


def one_per_class(y: torch.Tensor, count: int) -> torch.Tensor:
    """Indices of up to `count` examples, the first of each class in turn, so the preview
    shows different digits rather than four of the same."""
    if y.is_floating_point():
        return torch.arange(min(count, len(y)))
    firsts = [int(torch.nonzero(y == c)[0]) for c in torch.unique(y)]
    extra = [i for i in range(len(y)) if i not in firsts]
    return torch.tensor((firsts + extra)[:count], dtype=torch.long)


@torch.no_grad()
def augment_preview(
    dataset: Dataset,
    augment: Mapping[str, float],
    *,
    count: int = 4,
    versions: int = 6,
    points: int = 300,
    seed: int = 0,
) -> AugmentPreview | None:
    """Training samples and their augmented versions, on the CPU with a generator seeded by
    `seed` (the run's seed shows what its first batches could look like); None when
    `augment` asks for nothing. Raises TrainingError for augmentations the data does not suit."""
    pipeline = BatchAugment.for_run(augment, dataset, "cpu", seed)
    if pipeline is None:
        return None
    train = dataset.train
    if dataset.kind == "image":
        idx = one_per_class(train.y, count)
        originals = train.x[idx]
        repeated = originals.repeat_interleave(versions, dim=0)
        augmented, _ = pipeline(repeated)
        augmented = augmented.reshape(len(idx), versions, *originals.shape[1:])
    else:
        idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:points]
        originals = train.x[idx]
        augmented, _ = pipeline(originals)
    return AugmentPreview(
        kind=dataset.kind,
        originals=originals.numpy(),
        augmented=augmented.numpy(),
        labels=train.y[idx].numpy(),
        names=pipeline.names,
    )
