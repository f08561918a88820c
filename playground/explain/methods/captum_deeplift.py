"""DeepLIFT (Shrikumar et al. 2017), Rescale rule: backpropagates differences from the
baseline instead of gradients, so a saturated unit still passes on its contribution.

Captum's DeepLift overrides the gradients of activation modules, so each activation must be
its own module (our nn.Sequential builds a separate one per row; residual blocks compute
x + body(x), which DeepLift handles). Recurrent and attention layers have no DeepLIFT rule:
their inner non-linearities pass plain gradients, so the result is an approximation there.
"""

from __future__ import annotations

import warnings

import torch
from captum.attr import DeepLift, IntegratedGradients

from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext

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
        ig = IntegratedGradients(p.forward)
        steps = h.positive(request.n_steps, "n_steps")

        def run_ig(sl: slice) -> tuple[torch.Tensor, torch.Tensor]:
            return ig.attribute(
                p.inputs[sl],
                baselines=base[sl],
                target=p.targets[sl],
                n_steps=steps,
                internal_batch_size=h.INTERNAL_BATCH,
                return_convergence_delta=True,
            )

        parts = h.run_chunked(ctx, p, progress, "Integrated Gradients (fallback)", run_ig)
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
