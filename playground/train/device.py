"""Which compute devices are really available, and resolving 'auto'."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from playground.errors import TrainingError


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # "cpu", "cuda", "mps"
    label: str  # shown to people, e.g. "cuda: NVIDIA H100"


def available_devices() -> list[DeviceInfo]:
    devices = [DeviceInfo("cpu", f"cpu ({torch.get_num_threads()} threads)")]
    if torch.cuda.is_available():
        devices.append(DeviceInfo("cuda", f"cuda: {torch.cuda.get_device_name(0)}"))
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append(DeviceInfo("mps", "mps: Apple GPU"))
    return devices


def resolve_device(requested: str) -> torch.device:
    """'auto' picks CUDA, then MPS, then CPU; asking for a missing device is a clear error."""
    names = [d.name for d in available_devices()]
    if requested == "auto":
        for name in ("cuda", "mps", "cpu"):
            if name in names:
                return torch.device(name)
    if requested not in names:
        raise TrainingError(
            f"Device '{requested}' is not available on this machine.",
            f"Choose one of: auto, {', '.join(names)}.",
        )
    return torch.device(requested)
