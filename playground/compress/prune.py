"""Pruning: zero the weights (or whole units) that matter least, then make it permanent.

One registry entry per method. Each applies `torch.nn.utils.prune` reparametrisations
(weight = weight_orig * weight_mask, recomputed before every forward), so fine-tuning after
pruning keeps the pruned weights at zero; `make_permanent` folds the masks into the weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import prune

PRUNED_KINDS = (nn.Linear, nn.Conv1d, nn.Conv2d)


def prunable_layers(model: nn.Module) -> list[nn.Module]:
    """Linear and convolution layers, in forward order. An attention block's output
    projection is left out: MultiheadAttention reads its weight without calling it, so a
    mask would not be re-applied after a fine-tuning step."""
    return [
        m
        for m in model.modules()
        if isinstance(m, PRUNED_KINDS)
        and not isinstance(m, nn.modules.linear.NonDynamicallyQuantizableLinear)
    ]


def _unstructured(model: nn.Module, amount: float) -> None:
    """The smallest |w| across every layer at once (global), so layers with many redundant
    weights give up more of them than small ones."""
    params = [(m, "weight") for m in prunable_layers(model)]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)


def _structured(model: nn.Module, amount: float) -> None:
    """The fraction `amount` of each layer's output units (Linear) or channels (conv) with
    the smallest L2 norm, weights and bias together, so a pruned unit outputs exactly zero
    and could be cut out of the layer. The output layer keeps all its units: each one is a
    class score or the regression value."""
    layers = prunable_layers(model)
    for module in layers[:-1]:
        prune.ln_structured(module, "weight", amount=amount, n=2, dim=0)
        if module.bias is not None:
            alive = module.weight_mask.flatten(1).any(dim=1).to(module.bias.dtype)
            prune.custom_from_mask(module, "bias", alive)


@dataclass(frozen=True)
class Pruner:
    name: str
    title: str
    description: str
    apply: Callable[[nn.Module, float], None]


PRUNERS: dict[str, Pruner] = {
    p.name: p
    for p in [
        Pruner(
            "unstructured",
            "Unstructured (global magnitude)",
            "Zeroes the individual weights of smallest magnitude across all Linear and conv "
            "layers. The most accurate for a given sparsity, but dense kernels do not run "
            "faster: the saving is in the (sparse) file.",
            _unstructured,
        ),
        Pruner(
            "structured",
            "Structured (units / channels, L2 norm)",
            "Zeroes whole units of Linear layers and channels of conv layers, smallest L2 "
            "norm first, in every layer but the output. Costs more accuracy, but the zeroed "
            "units could be cut out of the network.",
            _structured,
        ),
    ]
}


def make_permanent(model: nn.Module) -> None:
    """Fold every pruning mask into its tensor and drop the reparametrisation hooks."""
    for module in model.modules():
        for name in ("weight", "bias"):
            if hasattr(module, f"{name}_orig"):
                prune.remove(module, name)


@torch.no_grad()
def zero_units(module: nn.Module) -> int:
    """How many output units (rows of a Linear, channels of a conv) are entirely zero."""
    weight = module.weight.flatten(1)
    dead = weight.abs().sum(dim=1) == 0
    if getattr(module, "bias", None) is not None:
        dead &= module.bias == 0
    return int(dead.sum())
