"""DeepLIFT (Shrikumar et al. 2017), Rescale rule: backpropagates differences from the
baseline instead of gradients, so a saturated unit still passes on its contribution.

Captum's DeepLift overrides the gradients of activation modules, so each activation must be
its own module (our nn.Sequential builds a separate one per row; residual blocks compute
x + body(x), which DeepLift handles). Recurrent and attention layers have no DeepLIFT rule:
their inner non-linearities pass plain gradients, so the result is an approximation there.
"""

from __future__ import annotations

import warnings

from captum.attr import DeepLift

from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext
from playground.explain.methods.captum_integrated_gradients import ig_chunks

NAME = "deeplift"

# Captum announces on every call that it hooks activations (and removes the hooks after).
warnings.filterwarnings("ignore", message="Setting forward, backward hooks", category=UserWarning)
APPROXIMATE_KINDS = {"rnn", "lstm", "gru", "transformer"}


@register_method(
    NAME,
    "DeepLIFT",
    "captum",
    "Compares each unit's activation with its value at the baseline and passes those "
    "differences back to the input; the attributions sum to f(input) - f(baseline).",
    ALL_KINDS,
    uses=("target", "baseline"),
)
def deeplift(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    notes = []
    if {r.kind for r in ctx.built.rows} & APPROXIMATE_KINDS:
        notes.append(
            "DeepLIFT has no rule for recurrent or attention layers; their inner "
            "non-linearities use plain gradients, so these values are approximate."
        )
    try:
        method = DeepLift(p.forward)
        parts = h.run_chunked(
            ctx,
            p,
            progress,
            "DeepLIFT",
            lambda sl: method.attribute(
                p.inputs[sl],
                baselines=base[sl],
                target=p.targets[sl],
                return_convergence_delta=True,
            ),
        )
        method_used = NAME
    except (RuntimeError, AssertionError, TypeError, ValueError) as exc:
        # Captum refuses some module graphs (e.g. a reused activation); IG answers the same
        # question (contributions relative to the baseline) for any differentiable model.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        notes.append(
            f"DeepLIFT could not run on this model ({reason}); showing Integrated Gradients "
            "with the same baseline instead."
        )
        parts = ig_chunks(ctx, p, base, request, progress, "Integrated Gradients (fallback)")
        method_used = "integrated_gradients"
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        h.cat([a for a, _ in parts]),
        delta=h.cat([d for _, d in parts]),
        baseline_outputs=h.target_outputs(p.forward, base, p.targets),
        notes=notes,
        params={"baseline": request.baseline, "computed_with": method_used},
    )
