"""Integrated Gradients (Sundararajan et al. 2017): the gradient averaged along the straight
path from the baseline to the input, times (input - baseline).

The attributions should add up to f(input) - f(baseline); with too few steps along the path
they do not (50 steps missed by 6% on a small tabular MLP). The method then doubles the
steps, up to MAX_STEPS, until they add up within the completeness tolerance, and says so.
"""

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
from playground.explain.summary import DEFAULT_TOLERANCE, completeness

NAME = "integrated_gradients"
MAX_STEPS = 400


def ig_chunks(
    ctx: ExplainContext,
    p: h.Prepared,
    base: torch.Tensor,
    request: ExplainRequest,
    progress: Progress,
    title: str,
    n_steps: int | None = None,
) -> list:
    """Integrated Gradients with convergence delta over the prepared inputs, chunk by chunk
    (also DeepLIFT's fallback). `n_steps` overrides the request's."""
    steps = h.positive(n_steps or request.n_steps, "n_steps")
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
    baseline_outputs = h.target_outputs(p.forward, base, p.targets)
    steps = request.n_steps
    first_error = None
    while True:
        parts = ig_chunks(ctx, p, base, request, progress, "Integrated Gradients", steps)
        attr = h.finish(
            ctx,
            p,
            request,
            NAME,
            h.cat([a for a, _ in parts]),
            delta=h.cat([d for _, d in parts]),
            baseline_outputs=baseline_outputs,
            params={"baseline": request.baseline, "n_steps": steps},
        )
        error = completeness(attr)["relative_error"]
        first_error = error if first_error is None else first_error
        if error <= DEFAULT_TOLERANCE or steps * 2 > MAX_STEPS:
            break
        steps *= 2
    if steps != request.n_steps:
        attr.notes.append(
            f"Raised the steps from {request.n_steps} to {steps}: with {request.n_steps} the "
            f"attributions missed f(input) - f(baseline) by {first_error:.1%}, more than the "
            f"{DEFAULT_TOLERANCE:.0%} the completeness check allows."
        )
    return attr
