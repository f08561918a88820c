"""LIME (Ribeiro et al. 2016): switch interpretable features (a column, a one-hot group, an
image patch) on and off at random, weight each perturbed copy by its closeness to the row,
and fit a sparse linear model to the outputs; its coefficients are the attributions."""

from __future__ import annotations

from captum.attr import Lime

from playground.explain import _captum_helpers as h
from playground.explain import _surrogate_helpers as s
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext

NAME = "lime"


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
    r = s.surrogate_attribution(ctx, request, progress, Lime, "LIME")
    p, values, n_samples, note = r.prepared, r.values, r.n_samples, r.note
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
