"""Kernel SHAP (Lundberg & Lee 2017): LIME with the Shapley kernel, so the fitted coefficients
estimate Shapley values of the interpretable features (columns, one-hot groups, image
patches) against the chosen baseline. They add up to f(x) - f(baseline) up to sampling."""

from __future__ import annotations

import torch
from captum.attr import KernelShap

from playground.explain import _captum_helpers as h
from playground.explain import _surrogate_helpers as s
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext

NAME = "kernel_shap"
PER_EVAL = 64  # perturbed copies per forward pass


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
    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    mask = s.feature_mask(ctx, h.positive(request.window, "window"))
    n_samples, note = s.sample_count(request.n_samples, int(mask.max()) + 1)
    method = KernelShap(p.forward)
    parts = []
    with h.gradients(ctx), h.seeded(request.seed):
        for sl in h.chunks(p.n, s.CHUNK_ROWS):
            progress(sl.start / p.n, f"Kernel SHAP: rows {sl.start + 1}-{sl.stop} of {p.n}")
            parts.append(
                method.attribute(
                    p.inputs[sl].detach(),
                    baselines=base[sl],
                    target=p.targets[sl],
                    feature_mask=mask,
                    n_samples=n_samples,
                    perturbations_per_eval=PER_EVAL,
                )
            )
    progress(1.0, "Kernel SHAP: done")
    values = s.spread(h.cat(parts) if parts else torch.zeros_like(p.inputs), mask)
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
