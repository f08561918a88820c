"""Saliency (Simonyan et al. 2013): the gradient of the output with respect to the input."""

from __future__ import annotations

from captum.attr import Saliency

from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext

NAME = "saliency"


@register_method(
    NAME,
    "Saliency (gradient)",
    "captum",
    "The signed gradient: how fast the output changes per unit of each feature around this "
    "input (sign = direction; take its size for a heat map).",
    ALL_KINDS,
    uses=("target",),
)
def saliency(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    p = h.prepare(ctx, request)
    method = Saliency(p.forward)
    # Signed (abs=False): the sign is what tells "raises" from "lowers" the output, and
    # importance summaries take the absolute value anyway.
    parts = h.run_chunked(
        ctx,
        p,
        progress,
        "Saliency",
        lambda sl: method.attribute(p.inputs[sl], target=p.targets[sl], abs=False),
    )
    return h.finish(ctx, p, request, NAME, h.cat(parts), params={"abs": False})
