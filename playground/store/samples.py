"""Generated samples over training (a GAN's or a decoder's images from fixed noise at several
epochs), kept beside a run's weights as safetensors, so a finished run still shows how its
samples improved. At most KEPT_ROWS rows: older rows are thinned evenly, the newest stays."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from playground.store.checkpoint import write_bytes

KEPT_ROWS = 8
_KEY = re.compile(r"epoch_(\d+)$")


def read_samples(path: Path) -> list[tuple[int, np.ndarray]]:
    """The stored rows as (epoch, images (n, C, H, W)), oldest first; [] if none or damaged
    (the progress rows are an illustration: a damaged file must not break the run's page)."""
    if not path.exists():
        return []
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError):
        return []
    rows = [(int(m[1]), t.numpy()) for k, t in tensors.items() if (m := _KEY.match(k))]
    return sorted(rows, key=lambda row: row[0])


def thin(rows: list[tuple[int, np.ndarray]], kept: int = KEPT_ROWS) -> list[tuple[int, np.ndarray]]:
    """At most `kept` rows, one per epoch: drop every other older row until they fit."""
    by_epoch = dict(rows)  # a later row of the same epoch replaces the earlier one
    rows = sorted(by_epoch.items())
    while len(rows) > kept:
        rows = [*rows[:-1:2], rows[-1]] if len(rows) > 2 else rows[-kept:]
    return rows


def append_samples(path: Path, new: list[tuple[int, np.ndarray]]) -> None:
    """Add rows to the file (atomically), thinned to KEPT_ROWS."""
    rows = thin([*read_samples(path), *new])
    tensors = {
        f"epoch_{epoch}": torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32))
        for epoch, images in rows
    }
    write_bytes(save(tensors), path)
