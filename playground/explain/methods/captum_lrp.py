"""Layer-wise Relevance Propagation (Bach et al. 2015), Captum's epsilon rule: the output is
passed back layer by layer, each unit sharing its relevance among its inputs in proportion
to their contributions.

Captum has rules for Linear, Conv2d, pooling and BatchNorm2d layers and passes relevance
through ReLU, Tanh and Dropout unchanged; any other layer (Sigmoid, GELU, LSTM, Embedding,
BatchNorm1d, LayerNorm...) has no rule, and the method is then unavailable with a note
naming the layers. Flatten has no rule either but only reshapes, so it runs inside a wrapper
that Captum does not hook (autograd reshapes the relevance exactly).
"""

from __future__ import annotations

import copy

import torch
from captum.attr import LRP
from captum.attr._core.lrp import SUPPORTED_LAYERS_WITH_RULES, SUPPORTED_NON_LINEAR_LAYERS
from torch import nn

from playground.errors import PlaygroundError
from playground.explain import _captum_helpers as h
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext, ExplainedModel

NAME = "lrp"
SUPPORTED = (*SUPPORTED_LAYERS_WITH_RULES, *SUPPORTED_NON_LINEAR_LAYERS, nn.Flatten)


class _ReshapeOnly(nn.Module):
    """Flatten without being a leaf Captum hooks: its only child is a no-op Dropout, which
    Captum passes relevance through unchanged."""

    def __init__(self, flatten: nn.Flatten) -> None:
        super().__init__()
        self.dims = (flatten.start_dim, flatten.end_dim)  # ints, not a hooked child module
        self.passthrough = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.passthrough(x).flatten(*self.dims)


def unsupported_layers(module: nn.Module) -> list[str]:
    """'name (Type)' of each leaf layer Captum's LRP has no rule for."""
    return [
        f"{name} ({type(leaf).__name__})"
        for name, leaf in module.named_modules()
        if not list(leaf.children()) and name and type(leaf) not in SUPPORTED
    ]


def lrp_layers(ctx: ExplainContext) -> None:
    """Availability check: every layer has an LRP rule."""
    bad = unsupported_layers(ctx.built.module)
    if bad:
        raise PlaygroundError(
            f"LRP has no propagation rule for layer {', '.join(bad[:4])}.",
            "LRP works on models of Linear, Conv2d, pooling, BatchNorm2d, ReLU, Tanh, Dropout "
            "and Flatten layers; use Integrated Gradients or DeepLIFT for this model.",
        )


def lrp_model(module: nn.Module) -> ExplainedModel:
    """A copy of the model Captum's LRP can hook (Flatten wrapped), in eval mode. A copy, so
    the rules and hooks LRP attaches never touch the run's model."""
    clone = copy.deepcopy(module)
    for child in list(clone.modules()):
        for key, sub in list(child.named_children()):
            if isinstance(sub, nn.Flatten):
                setattr(child, key, _ReshapeOnly(sub))
    return ExplainedModel(clone).eval()


@register_method(
    NAME,
    "LRP (epsilon rule)",
    "captum",
    "Passes the output back layer by layer, sharing each unit's relevance among its inputs "
    "by their contributions; only for Linear / Conv2d / pooling / ReLU models.",
    ("toy2d", "tabular", "image"),
    uses=("target",),
)
def lrp(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    p = h.prepare(ctx, request)
    model = lrp_model(ctx.built.module)
    method = LRP(model)
    parts = h.run_chunked(
        ctx,
        p,
        progress,
        "LRP",
        lambda sl: method.attribute(p.inputs[sl], target=p.targets[sl]),
    )
    notes = [
        "Relevance absorbed by the layers' biases is not passed on, so the values need not "
        "add up to the output."
    ]
    return h.finish(ctx, p, request, NAME, h.cat(parts), notes=notes)


h.requires(NAME, h.not_tokens, lrp_layers)
