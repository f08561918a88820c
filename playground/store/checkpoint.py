"""Weights on disk as safetensors (no pickle: a checkpoint file can never run code)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save, save_file
from torch import nn


def _host_tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}


def save_weights(module: nn.Module, path: Path) -> None:
    """Write the module's state dict atomically (a crash mid-write keeps the old file)."""
    tmp = path.with_suffix(".tmp")
    save_file(_host_tensors(module), str(tmp))
    os.replace(tmp, path)


def weights_bytes(module: nn.Module) -> bytes:
    """The module's state dict as safetensors bytes, to send to another process or machine."""
    return save(_host_tensors(module))


def write_bytes(data: bytes, path: Path) -> None:
    """Write safetensors bytes atomically."""
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def load_weights(module: nn.Module, path: Path) -> None:
    """Load a safetensors file into `module` (strict: every tensor must match).

    A truncated, tampered or foreign file raises ValueError saying what is wrong with it in
    words; nothing in it is ever executed (safetensors holds only tensors)."""
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    try:
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ValueError(f"it is not a readable safetensors file ({_first_line(exc)})") from None
    try:
        module.load_state_dict(tensors)
    except RuntimeError as exc:
        raise ValueError(f"its tensors do not fit the model ({_first_line(exc)})") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
