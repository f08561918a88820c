"""SmoothGrad (Smilkov et al. 2017): the saliency gradient averaged over copies of the input
with Gaussian noise added, which removes much of the gradient's local jitter."""

from __future__ import annotations

from captum.attr import NoiseTunnel, Saliency

from playground.explain import _captum_helpers as h
from playground.explain.base import (
    ALL_KINDS,
    Attribution,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext

NAME = "smoothgrad"


@register_method(
    NAME,
    "SmoothGrad",
    "captum",
    "The signed gradient averaged over noisy copies of the input: a steadier saliency map.",
    ALL_KINDS,
    uses=("target", "n_samples", "stdevs", "seed"),
)
def smoothgrad(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    p = h.prepare(ctx, request)
    samples = h.positive(request.n_samples, "n_samples")
    tunnel = NoiseTunnel(Saliency(p.forward))
    with h.seeded(request.seed):
        parts = h.run_chunked(
            ctx,
            p,
            progress,
            "SmoothGrad",
            lambda sl: tunnel.attribute(
                p.inputs[sl],
                nt_type="smoothgrad",
                nt_samples=samples,
                stdevs=request.stdevs,
                target=p.targets[sl],
                abs=False,  # signed, like our Saliency
            ),
        )
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        h.cat(parts),
        params={"n_samples": samples, "stdevs": request.stdevs, "seed": request.seed},
    )
