"""Kernel SHAP (Lundberg & Lee 2017): LIME with the Shapley kernel, so the fitted coefficients
estimate Shapley values of the interpretable features (columns, one-hot groups, image
patches) against the chosen baseline. They add up to f(x) - f(baseline) up to sampling."""

from __future__ import annotations

from captum.attr import KernelShap

from playground.explain import _captum_helpers as h
from playground.explain import _surrogate_helpers as s
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext

NAME = "kernel_shap"


@register_method(
    NAME,
    "Kernel SHAP",
    "captum",
    "Shapley values estimated by a weighted linear fit on copies of the row with random "
    "columns (one-hot groups, image patches) set to the baseline; model-agnostic.",
    ("toy2d", "tabular", "image"),
    uses=("target", "baseline", "n_samples", "window", "seed"),
)
def kernel_shap(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    r = s.surrogate_attribution(ctx, request, progress, KernelShap, "Kernel SHAP")
    p, base, values, n_samples, note = r.prepared, r.baseline, r.values, r.n_samples, r.note
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        values,
        notes=[note] if note else [],
        baseline_outputs=h.target_outputs(p.forward, base, p.targets),
        params={"baseline": request.baseline, "n_samples": n_samples},
    )


h.requires(NAME, h.not_tokens)
