"""Occlusion (Zeiler & Fergus 2014): slide a patch of baseline values over the input and
record how much the output drops; each position gets the average over patches covering it."""

from __future__ import annotations

from captum.attr import Occlusion

from playground.explain import _captum_helpers as h
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext

NAME = "occlusion"
PER_EVAL = 16  # occluded copies per forward pass


@register_method(
    NAME,
    "Occlusion",
    "captum",
    "Covers a small patch (pixels, or a window of time steps) with the baseline at every "
    "position and measures the drop in output.",
    ("image", "sequence"),
    uses=("target", "baseline", "window"),
)
def occlusion(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    window = h.positive(request.window, "window")
    stride = max(1, window // 2)
    shape = tuple(p.inputs.shape[1:])
    if ctx.dataset.kind == "image":  # (C, H, W): a window x window patch over all channels
        channels, height, width = shape
        patch = (channels, min(window, height), min(window, width))
        strides = (channels, stride, stride)
    else:  # (T, F), or embedded tokens (T, E): a window of time steps, all features
        steps, features = shape
        patch = (min(window, steps), features)
        strides = (stride, features)
    method = Occlusion(p.forward)
    parts = h.run_chunked(
        ctx,
        p,
        progress,
        "Occlusion",
        lambda sl: method.attribute(
            p.inputs[sl],
            sliding_window_shapes=patch,
            strides=strides,
            baselines=base[sl],
            target=p.targets[sl],
            perturbations_per_eval=PER_EVAL,
        ),
    )
    # Every element of a patch receives the patch's whole effect. Spread it over the patch's
    # full-depth axis (channels, or features per time step) so that summing over that axis,
    # as the time-step and image summaries do, counts it once.
    depth = shape[0] if ctx.dataset.kind == "image" else shape[-1]
    notes = []
    if depth > 1 and not p.tokens:
        axis = "channels" if ctx.dataset.kind == "image" else "features of a time step"
        notes.append(f"Each patch's effect is shared evenly across the {axis}.")
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        h.cat(parts) / depth,
        notes=notes,
        params={"baseline": request.baseline, "window": window, "stride": stride},
    )
