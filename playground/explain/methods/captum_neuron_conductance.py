"""Neuron Conductance (Dhamdhere et al. 2018): how much each input feature contributes to
the explained output through one chosen unit of a hidden layer."""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import NeuronConductance

from playground.errors import PlaygroundError
from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext

NAME = "neuron_conductance"


@register_method(
    NAME,
    "Neuron Conductance",
    "captum",
    "Shows which input features reach the explained output through one chosen unit of a "
    "hidden layer.",
    ALL_KINDS,
    needs_layer=True,
    needs_neuron=True,
    uses=("target", "baseline", "n_steps", "layer", "neuron"),
)
def neuron_conductance(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress
) -> Attribution:
    allowed = h.layer_rows(ctx)
    row, module = h.resolve_layer(ctx, request, allowed, allowed[-1], "Neuron Conductance")
    units = int(np.prod(row.output_shape))
    if request.neuron is None or not 0 <= request.neuron < units:
        got = (
            "No unit was chosen"
            if request.neuron is None
            else f"Unit {request.neuron} does not exist"
        )
        raise PlaygroundError(
            f"{got} in layer {row.index} ({row.label}).",
            f"Choose a unit between 0 and {units - 1}.",
        )
    # Units are numbered over the flattened layer output; Captum wants the full index.
    selector = tuple(int(i) for i in np.unravel_index(request.neuron, row.output_shape))
    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    steps = h.positive(request.n_steps, "n_steps")
    method = NeuronConductance(p.forward, module)

    def run(sl: slice) -> torch.Tensor:
        return method.attribute(
            p.inputs[sl],
            neuron_selector=selector,
            baselines=base[sl],
            target=p.targets[sl],
            n_steps=steps,
            internal_batch_size=h.INTERNAL_BATCH,
        )

    parts = h.run_chunked(ctx, p, progress, "Neuron Conductance", run)
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        h.cat(parts),
        params={
            "layer": row.index,
            "layer_label": row.label,
            "neuron": request.neuron,
            "baseline": request.baseline,
            "n_steps": steps,
        },
    )
