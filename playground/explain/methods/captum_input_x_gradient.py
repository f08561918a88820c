"""Input x Gradient: each feature's value times the output's gradient with respect to it
(a first-order estimate of its contribution relative to a zero input)."""

from __future__ import annotations

from captum.attr import InputXGradient

from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext

NAME = "input_x_gradient"


@register_method(
    NAME,
    "Input x Gradient",
    "captum",
    "Each feature's value times the gradient: a quick estimate of its contribution compared "
    "with an all-zero input.",
    ALL_KINDS,
    uses=("target",),
)
def input_x_gradient(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress
) -> Attribution:
    p = h.prepare(ctx, request)
    method = InputXGradient(p.forward)
    parts = h.run_chunked(
        ctx,
        p,
        progress,
        "Input x Gradient",
        lambda sl: method.attribute(p.inputs[sl], target=p.targets[sl]),
    )
    return h.finish(ctx, p, request, NAME, h.cat(parts))
