"""Layer Conductance (Dhamdhere et al. 2018): how much of f(input) - f(baseline) flows
through each unit of a hidden layer, along the Integrated Gradients path."""

from __future__ import annotations

import torch
from captum.attr import LayerConductance

from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext

NAME = "layer_conductance"


@register_method(
    NAME,
    "Layer Conductance",
    "captum",
    "Shows how much each unit of a chosen hidden layer contributes to f(input) - "
    "f(baseline); the units' values add up to that difference.",
    ALL_KINDS,
    needs_layer=True,
    uses=("target", "baseline", "n_steps", "layer"),
)
def layer_conductance(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress
) -> Attribution:
    allowed = h.layer_rows(ctx)
    # Default: the last hidden layer, the representation the output is read from.
    row, module = h.resolve_layer(ctx, request, allowed, allowed[-1], "Layer Conductance")
    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    steps = h.positive(request.n_steps, "n_steps")
    method = LayerConductance(p.forward, module)

    def run(sl: slice) -> torch.Tensor:
        return method.attribute(
            p.inputs[sl],
            baselines=base[sl],
            target=p.targets[sl],
            n_steps=steps,
            internal_batch_size=h.INTERNAL_BATCH,
        )

    parts = h.run_chunked(ctx, p, progress, "Layer Conductance", run)
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        h.cat(parts),  # (N, *layer output shape)
        layer_map=True,
        feature_names=h.unit_names(row.output_shape),
        baseline_outputs=h.target_outputs(p.forward, base, p.targets),
        params={
            "layer": row.index,
            "layer_label": row.label,
            "layer_shape": list(row.output_shape),
            "baseline": request.baseline,
            "n_steps": steps,
        },
    )
