"""Dynamic int8 quantisation on the CPU: weights stored as int8, activations quantised on the
fly per batch. One registry entry per method.

Why torch.ao.quantization.quantize_dynamic and not torchao: torchao 0.18 installs and runs with
torch 2.13 on the CPU, but its `quantize_(model, Int8DynamicActivationInt8WeightConfig())`
only converts nn.Linear (LSTM/GRU stay float), and on this machine it ran a 256-512-512-10 MLP
11x slower than float at batch 1 and only 1.2x faster at batch 256, where quantize_dynamic's
fbgemm kernels were within 15% of float at batch 1 and 3x faster at batch 256 (one thread,
median of 30). quantize_dynamic is deprecated; when called it warns, in torch 2.13:

    "torch.ao.quantization is deprecated and will be removed in 2.10. For migrations of
    users: 1. Eager mode quantization (torch.ao.quantization.quantize,
    torch.ao.quantization.quantize_dynamic), please migrate to use torchao eager mode
    quantize_ API instead ..." (see https://github.com/pytorch/ao/issues/2259)

and creating qint8 tensors warns that "torch.quantize_per_tensor, torch.quantize_per_channel
and other quantized tensor creation functions ... are deprecated and will be removed in a
future PyTorch release". We keep it while it is the only CPU path that quantises recurrent
layers and makes them faster; DEPRECATION_NOTE says so to the user.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

DEPRECATION_NOTE = (
    "int8 uses torch.ao.quantization.quantize_dynamic, which PyTorch 2.13 marks deprecated "
    '("torch.ao.quantization is deprecated and will be removed in 2.10 ... please migrate to '
    "use torchao eager mode quantize_ API instead\"). It still works here, and torchao's "
    "replacement does not yet quantise LSTM/GRU layers or speed up small CPU models."
)

# The layer kinds quantize_dynamic converts (nn.RNN has no dynamic int8 kernel).
DYNAMIC_KINDS: set[type[nn.Module]] = {nn.Linear, nn.LSTM, nn.GRU}


def _int8_dynamic(model: nn.Module) -> nn.Module:
    with warnings.catch_warnings():
        # Both deprecation warnings are quoted above and shown once by the page instead.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
        return torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model).eval().cpu(), DYNAMIC_KINDS, dtype=torch.qint8
        )


@dataclass(frozen=True)
class Quantizer:
    name: str
    title: str
    description: str
    apply: Callable[[nn.Module], nn.Module]  # returns a new model; the input is untouched
    note: str = ""


QUANTIZERS: dict[str, Quantizer] = {
    q.name: q
    for q in [
        Quantizer(
            "int8_dynamic",
            "int8 dynamic (Linear, LSTM, GRU)",
            "Stores Linear, LSTM and GRU weights as 8-bit integers and quantises their inputs "
            "per batch; other layers (conv, embedding) stay float. CPU only.",
            _int8_dynamic,
            DEPRECATION_NOTE,
        )
    ]
}


def quantized_layers(model: nn.Module) -> int:
    """How many layers of `model` are dynamically quantised."""
    kinds = (
        torch.ao.nn.quantized.dynamic.Linear,
        torch.ao.nn.quantized.dynamic.modules.rnn.RNNBase,
    )
    return sum(isinstance(m, kinds) for m in model.modules())
