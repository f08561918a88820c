"""GradientSHAP (Lundberg & Lee 2017, as in Captum): expected gradients. Each sample is
compared with baselines drawn from the training data, at a random point on the path, with a
little noise; the attributions approximate SHAP values and sum, on average, to
f(input) - E[f(training row)]."""

from __future__ import annotations

from captum.attr import GradientShap

from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext

NAME = "gradient_shap"


@register_method(
    NAME,
    "GradientSHAP",
    "captum",
    "Approximates SHAP values by averaging gradients between the input and random training "
    "rows (with a little noise); on average they sum to f(input) minus the mean training "
    "output.",
    ALL_KINDS,
    uses=("target", "n_samples", "stdevs", "background_size", "seed"),
)
def gradient_shap(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    p = h.prepare(ctx, request)
    background = h.background_for(ctx, request)
    samples = h.positive(request.n_samples, "n_samples")
    method = GradientShap(p.forward)
    with h.seeded(request.seed):
        parts = h.run_chunked(
            ctx,
            p,
            progress,
            "GradientSHAP",
            lambda sl: method.attribute(
                p.inputs[sl],
                baselines=background,
                n_samples=samples,
                stdevs=request.stdevs,
                target=p.targets[sl],
            ),
        )
    # The reference point is the average output over the baseline distribution: what the
    # attributions add up from (in expectation), as SHAP's expected value.
    means = h.mean_outputs(p.forward, background)
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        h.cat(parts),
        expected_value=means[p.targets],
        params={
            "n_samples": samples,
            "stdevs": request.stdevs,
            "background_size": len(background),
            "seed": request.seed,
        },
    )
