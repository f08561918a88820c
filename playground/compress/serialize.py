"""Files for compressed models, all safetensors (never pickle: nothing here runs code on load).

- dense: the model's state_dict as it is (the original and pruned models; zeros take space).
- sparse: each float tensor as a bit mask of its non-zero entries (packed 8 to a byte) plus
  those entries' values, so a pruned model's file shrinks with its sparsity. Exact.
- int8: the int8 values of each dynamically quantised weight with its scale and zero point,
  plus every float tensor left; reloaded into a freshly quantised copy of the float model.
"""

from __future__ import annotations

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from playground.compress.quantize import QUANTIZERS

SPARSE_MASK = ".__mask"
SPARSE_VALUES = ".__values"
SPARSE_SHAPE = ".__shape"
INT8 = ".__int8"
SCALE = ".__scale"
ZERO_POINT = ".__zero_point"
AXIS = ".__axis"


def _plain(state: dict[str, object]) -> dict[str, torch.Tensor]:
    return {
        k: v.detach().contiguous()
        for k, v in state.items()
        if isinstance(v, torch.Tensor) and not v.is_quantized
    }


def save_dense(model: nn.Module) -> bytes:
    return st_save(_plain(model.state_dict()), metadata={"format": "dense"})


def load_dense(model: nn.Module, data: bytes) -> nn.Module:
    """Load a dense file into `model` (same architecture) and return it."""
    model.load_state_dict(st_load(data))
    return model.eval()


def save_sparse(model: nn.Module) -> bytes:
    tensors: dict[str, torch.Tensor] = {}
    for key, value in _plain(model.state_dict()).items():
        if not value.is_floating_point():
            tensors[key] = value
            continue
        flat = value.flatten()
        mask = flat != 0
        bits = np.packbits(mask.numpy().astype(np.uint8))
        tensors[key + SPARSE_MASK] = torch.from_numpy(bits)
        tensors[key + SPARSE_VALUES] = flat[mask].clone()
        tensors[key + SPARSE_SHAPE] = torch.tensor(value.shape, dtype=torch.int64)
    return st_save(tensors, metadata={"format": "sparse-bitmask"})


def load_sparse(model: nn.Module, data: bytes) -> nn.Module:
    """Rebuild the dense tensors of a sparse file and load them into `model`."""
    raw = st_load(data)
    state: dict[str, torch.Tensor] = {}
    for key, value in raw.items():
        if key.endswith(SPARSE_MASK):
            name = key.removesuffix(SPARSE_MASK)
            shape = tuple(raw[name + SPARSE_SHAPE].tolist())
            count = int(np.prod(shape)) if shape else 1
            mask = np.unpackbits(value.numpy(), count=count).astype(bool)
            values = raw[name + SPARSE_VALUES]
            dense = torch.zeros(count, dtype=values.dtype)
            dense[torch.from_numpy(mask)] = values
            state[name] = dense.reshape(shape)
        elif not key.endswith((SPARSE_VALUES, SPARSE_SHAPE)):
            state[key] = value
    model.load_state_dict(state)
    return model.eval()


def _quantized_modules(model: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """Each dynamically quantised layer's weights and biases by name (weights as qint8)."""
    dynamic = torch.ao.nn.quantized.dynamic
    found: dict[str, dict[str, torch.Tensor]] = {}
    for name, module in model.named_modules():
        if isinstance(module, dynamic.Linear):
            found[name] = {"weight": module.weight(), "bias": module.bias()}
        elif isinstance(module, dynamic.modules.rnn.RNNBase):
            parts = module._weight_bias()  # {"weight": {...}, "bias": {...}}
            found[name] = {**parts["weight"], **parts["bias"]}
    return found


def quantized_weights(model: nn.Module) -> list[torch.Tensor]:
    """Every weight and bias of a quantised model as float values: its remaining float
    parameters and the (dequantised) tensors of its quantised layers."""
    values = [p.detach() for p in model.parameters()]
    for parts in _quantized_modules(model).values():
        for tensor in parts.values():
            if tensor is not None:
                values.append(tensor.dequantize() if tensor.is_quantized else tensor.detach())
    return values


def save_int8(model: nn.Module) -> bytes:
    """A dynamically quantised model (QUANTIZERS['int8_dynamic']) as safetensors."""
    quantized = _quantized_modules(model)
    tensors: dict[str, torch.Tensor] = {}
    for name, parts in quantized.items():
        for part, tensor in parts.items():
            key = f"{name}.{part}"
            if tensor is None:
                continue
            if not tensor.is_quantized:
                tensors[key] = tensor.detach().contiguous()
            elif tensor.qscheme() in (torch.per_tensor_affine, torch.per_tensor_symmetric):
                tensors[key + INT8] = tensor.int_repr().contiguous()
                tensors[key + SCALE] = torch.tensor([tensor.q_scale()], dtype=torch.float64)
                tensors[key + ZERO_POINT] = torch.tensor([tensor.q_zero_point()])
            else:  # per channel
                tensors[key + INT8] = tensor.int_repr().contiguous()
                tensors[key + SCALE] = tensor.q_per_channel_scales().contiguous()
                tensors[key + ZERO_POINT] = tensor.q_per_channel_zero_points().contiguous()
                tensors[key + AXIS] = torch.tensor([tensor.q_per_channel_axis()])
    prefixes = tuple(f"{name}." for name in quantized)
    named = dict(model.named_parameters()) | dict(model.named_buffers())
    for key, value in named.items():
        if not key.startswith(prefixes):
            tensors[key] = value.detach().contiguous()
    return st_save(tensors, metadata={"format": "int8-dynamic"})


def _qtensor(raw: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    values, scale, zero = raw[key + INT8], raw[key + SCALE], raw[key + ZERO_POINT]
    if key + AXIS in raw:
        return torch._make_per_channel_quantized_tensor(
            values, scale, zero, int(raw[key + AXIS][0])
        )
    return torch._make_per_tensor_quantized_tensor(values, float(scale[0]), int(zero[0]))


def load_int8(float_model: nn.Module, data: bytes) -> nn.Module:
    """Quantise a copy of `float_model` (same architecture, any weights) and set its weights
    from an int8 file: the int8 values are used as stored, so outputs match exactly."""
    model = QUANTIZERS["int8_dynamic"].apply(float_model)
    raw = st_load(data)
    dynamic = torch.ao.nn.quantized.dynamic
    for name, module in model.named_modules():
        if isinstance(module, dynamic.Linear):
            bias = raw.get(f"{name}.bias")
            module.set_weight_bias(_qtensor(raw, f"{name}.weight"), bias)
        elif isinstance(module, dynamic.modules.rnn.RNNBase):
            parts = module._weight_bias()
            flat = {
                part: _qtensor(raw, f"{name}.{part}")
                if f"{name}.{part}{INT8}" in raw
                else raw[f"{name}.{part}"]
                for part in [*parts["weight"], *parts["bias"]]
            }
            module.set_weight_bias(flat)
    named = dict(model.named_parameters()) | dict(model.named_buffers())
    with torch.no_grad():
        for key, value in named.items():
            value.copy_(raw[key])
    return model.eval()


# Reload a level's file by its format name (see CompressionLevel.files).
LOADERS = {"dense": load_dense, "sparse": load_sparse, "int8": load_int8}
