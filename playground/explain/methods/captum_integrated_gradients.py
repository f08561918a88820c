"""Integrated Gradients (Sundararajan et al. 2017): the gradient averaged along the straight
path from the baseline to the input, times (input - baseline)."""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients

from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext

NAME = "integrated_gradients"


def ig_chunks(
    ctx: ExplainContext,
    p: h.Prepared,
    base: torch.Tensor,
    request: ExplainRequest,
    progress: Progress,
    title: str,
) -> list:
    """Integrated Gradients with convergence delta over the prepared inputs, chunk by chunk
    (also DeepLIFT's fallback)."""
    steps = h.positive(request.n_steps, "n_steps")
    ig = IntegratedGradients(p.forward)

    def run(sl: slice) -> tuple[torch.Tensor, torch.Tensor]:
        return ig.attribute(
            p.inputs[sl],
            baselines=base[sl],
            target=p.targets[sl],
            n_steps=steps,
            internal_batch_size=h.INTERNAL_BATCH,
            return_convergence_delta=True,
        )

    return h.run_chunked(ctx, p, progress, title, run)


@register_method(
    NAME,
    "Integrated Gradients",
    "captum",
    "Adds up the gradient along a straight path from the baseline to the input; the "
    "attributions sum to f(input) - f(baseline).",
    ALL_KINDS,
    uses=("target", "baseline", "n_steps"),
)
def integrated_gradients(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress
) -> Attribution:
    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    parts = ig_chunks(ctx, p, base, request, progress, "Integrated Gradients")
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        h.cat([a for a, _ in parts]),
        delta=h.cat([d for _, d in parts]),
        baseline_outputs=h.target_outputs(p.forward, base, p.targets),
        params={"baseline": request.baseline, "n_steps": request.n_steps},
    )
