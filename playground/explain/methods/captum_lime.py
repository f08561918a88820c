"""LIME (Ribeiro et al. 2016): switch interpretable features (a column, a one-hot group, an
image patch) on and off at random, weight each perturbed copy by its closeness to the row,
and fit a sparse linear model to the outputs; its coefficients are the attributions."""

from __future__ import annotations

import torch
from captum.attr import Lime

from playground.explain import _captum_helpers as h
from playground.explain import _surrogate_helpers as s
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext

NAME = "lime"
PER_EVAL = 64  # perturbed copies per forward pass


@register_method(
    NAME,
    "LIME",
    "captum",
    "Fits a small weighted linear model to the outputs of randomly switched-off copies of the "
    "row (columns, one-hot groups or image patches set to the baseline).",
    ("toy2d", "tabular", "image"),
    uses=("target", "baseline", "n_samples", "window", "seed"),
)
def lime(ctx: ExplainContext, request: ExplainRequest, progress: Progress) -> Attribution:
    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    mask = s.feature_mask(ctx, h.positive(request.window, "window"))
    n_samples, note = s.sample_count(request.n_samples, int(mask.max()) + 1)
    method = Lime(p.forward)
    parts = []
    with h.gradients(ctx), h.seeded(request.seed):
        for sl in h.chunks(p.n, s.CHUNK_ROWS):
            progress(sl.start / p.n, f"LIME: rows {sl.start + 1}-{sl.stop} of {p.n}")
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
    progress(1.0, "LIME: done")
    values = s.spread(h.cat(parts) if parts else torch.zeros_like(p.inputs), mask)
    notes = [note] if note else []
    notes.append(
        "LIME's values are a local linear fit, not a decomposition: they need not add up to "
        "the output."
    )
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        values,
        notes=notes,
        params={"baseline": request.baseline, "n_samples": n_samples},
    )


h.requires(NAME, h.not_tokens)
