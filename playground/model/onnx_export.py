"""ONNX export of a run's modules (the model of a supervised run; an autoencoder's encoder and
decoder; a GAN's generator and discriminator), each checked with onnxruntime against PyTorch.

Uses torch.onnx.export's torch.export-based exporter (dynamo=True, the default since PyTorch
2.9; the TorchScript one warns that it is deprecated), which needs `onnxscript`. The batch
axis is dynamic: the check runs a batch of a different size from the one exported with.
"""

from __future__ import annotations

import copy
import logging
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from playground.errors import PlaygroundError

if TYPE_CHECKING:
    from playground.runner import LoadedRun

EXPORT_ROWS = 3  # example batch for tracing (not 1: torch.export would fix a batch of 1)
CHECK_ROWS = 64


class OnnxExportError(PlaygroundError):
    """A module that the ONNX exporter or onnxruntime cannot take."""


@dataclass
class OnnxExport:
    """One module as an .onnx file, with how closely onnxruntime reproduces PyTorch."""

    module: str
    data: bytes
    max_abs_diff: float  # over `rows_checked` rows, every output value
    rows_checked: int
    input_shape: tuple[int, ...]  # without the batch axis
    input_dtype: str

    @property
    def file_name(self) -> str:
        return f"{self.module}.onnx"


def _reason(exc: BaseException) -> str:
    """The innermost cause's first line, without terminal colours: the exporter wraps the
    error that names the operator in a "step 1/3" banner."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines()]
    first = next((line for line in lines if line), "")
    return f"{type(exc).__name__}: {first[:300]}" if first else type(exc).__name__


def export_module(
    module: nn.Module, example: torch.Tensor, check: torch.Tensor | None = None, name: str = "model"
) -> OnnxExport:
    """Export `module` with a dynamic batch axis and compare onnxruntime's outputs on `check`
    (default: `example`) with PyTorch's. Raises OnnxExportError naming the module."""
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pinned in requirements.txt, but say what to do
        raise OnnxExportError(
            "ONNX export needs the onnx, onnxscript and onnxruntime packages.",
            "Install them: pip install -r requirements.txt",
        ) from exc
    module = (
        copy.deepcopy(module).cpu().eval()
    )  # the exporter may touch attributes of a shared (cached) module
    check = example if check is None else check
    batch = torch.export.Dim("batch", min=1, max=1_000_000)
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    try:
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)
            exporter_log.setLevel(logging.ERROR)  # "torchvision is not installed" and such
            path = Path(folder) / f"{name}.onnx"
            torch.onnx.export(
                module,
                (example,),
                str(path),
                input_names=["input"],
                output_names=["output"],
                dynamic_shapes=({0: batch},),
                dynamo=True,
                external_data=False,
                verbose=False,
            )
            data = path.read_bytes()
    except Exception as exc:  # the exporter raises many kinds; the user needs one message
        kinds = sorted({type(m).__name__ for m in module.modules()} - {"Sequential"})
        raise OnnxExportError(
            f"The {name} could not be exported to ONNX ({_reason(exc)}).",
            f"Its layers are {', '.join(kinds)}; download its weights (safetensors) instead, "
            "or replace the layer the message names.",
        ) from exc
    finally:
        exporter_log.setLevel(level)
    try:
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        ours = session.run(None, {"input": check.numpy()})[0]
    except Exception as exc:
        raise OnnxExportError(
            f"onnxruntime could not run the exported {name} ({type(exc).__name__}).",
            "Download its weights (safetensors) instead.",
        ) from exc
    with torch.no_grad():
        theirs = module(check).numpy()
    diff = float(np.abs(ours - theirs).max()) if theirs.size else 0.0
    return OnnxExport(
        name,
        data,
        diff,
        len(check),
        tuple(example.shape[1:]),
        str(example.dtype).removeprefix("torch."),
    )


def module_inputs(loaded: LoadedRun, rows: int) -> dict[str, torch.Tensor]:
    """Inputs for each module: test rows for those fed the data (a model, an encoder, a
    discriminator), seeded normal draws for those fed codes or noise (a decoder, a generator)."""
    data = loaded.dataset.test.x
    generator = torch.Generator().manual_seed(0)
    inputs = {}
    for name, built in loaded.modules.items():
        shape = tuple(built.input_shape)
        if shape == tuple(loaded.dataset.input_shape):
            inputs[name] = data[:rows]
        else:
            inputs[name] = torch.randn(rows, *shape, generator=generator)
    return inputs


def export_run(
    loaded: LoadedRun,
    modules: dict[str, nn.Module] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, OnnxExport]:
    """Every module of the run as ONNX (or those in `modules`: name -> a module of the same
    input, e.g. a pruned copy of the model), each checked on up to CHECK_ROWS rows."""
    chosen = modules or {name: built.module for name, built in loaded.modules.items()}
    inputs = module_inputs(loaded, CHECK_ROWS)
    out = {}
    for k, (name, module) in enumerate(chosen.items()):
        if progress is not None:
            progress(k / len(chosen), f"Exporting the {name} to ONNX")
        x = inputs[name if name in inputs else next(iter(inputs))]
        if len(x) < EXPORT_ROWS + 1:
            raise OnnxExportError(
                f"The test split has {len(x)} rows; exporting needs at least {EXPORT_ROWS + 1}.",
                "Use a dataset with a larger test split.",
            )
        out[name] = export_module(module, x[:EXPORT_ROWS], x, name)
    return out
