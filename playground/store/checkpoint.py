"""Weights on disk as safetensors (no pickle: a checkpoint file can never run code)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn


def save_weights(module: nn.Module, path: Path) -> None:
    """Write the module's state dict atomically (a crash mid-write keeps the old file)."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def load_weights(module: nn.Module, path: Path) -> None:
    """Load a safetensors file into `module` (strict: every tensor must match)."""
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    module.load_state_dict(load_file(str(path), device=str(device)))
