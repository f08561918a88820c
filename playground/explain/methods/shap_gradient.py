"""SHAP GradientExplainer (expected gradients): gradients averaged along random straight
lines from background rows to the sample, times the distance travelled.

It works with any differentiable layer, but it is a sampled estimate: the values add up to
f(x) - E[f(background)] only on average over `n_samples` draws, not exactly per sample.
`shap_deep` falls back to it for layers DeepExplainer does not handle.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import shap
import torch

from playground.explain._shap_helpers import (
    TargetColumn,
    drop_trailing_output_axis,
    explained_space,
    finish,
    kept_numpy_rng,
    reporter,
    target_chunks,
)
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext

TITLE = "SHAP (GradientExplainer)"


def expected_gradients(
    ctx: ExplainContext,
    request: ExplainRequest,
    x: torch.Tensor,
    targets: torch.Tensor,
    progress: Progress,
    span: tuple[float, float] = (0.0, 1.0),
) -> tuple[np.ndarray, np.ndarray, dict]:
    """SHAP GradientExplainer values of column targets[i] for each row of x.

    Returns (values (N, *input_shape), expected (N,) mean background output of each row's
    target column, info dict with the background size actually used and any note).
    Progress runs from span[0] to span[1].
    """
    space = explained_space(ctx)
    background = space.encode(ctx.background(request.background_size, request.seed))
    inputs = space.encode(x)
    with torch.no_grad():
        mean_output = space.model(background).mean(dim=0).float().cpu().numpy()
    order = targets.cpu().numpy()
    values = np.zeros(tuple(inputs.shape), dtype=np.float32)
    explainers: dict[int, shap.GradientExplainer] = {}
    done, n = 0, len(order)
    lo, hi = span
    with kept_numpy_rng(), torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's own deprecation chatter; errors still raise
        for chunk, (target, rows) in enumerate(target_chunks(order)):
            progress(lo + (hi - lo) * done / n, f"GradientExplainer: {done}/{n} samples")
            if target not in explainers:
                explainers[target] = shap.GradientExplainer(
                    TargetColumn(space.model, target), background
                )
            phi = explainers[target].shap_values(
                inputs[torch.as_tensor(rows)],
                nsamples=request.n_samples,
                rseed=(request.seed + chunk) % 2**32,  # reproducible, and a fresh draw per chunk
            )
            values[rows] = drop_trailing_output_axis(phi, inputs.dim())
            done += len(rows)
    progress(hi, f"GradientExplainer: {n}/{n} samples")
    info = {"background_size": len(background), "note": space.note}
    return space.fold(values), mean_output[order], info


@register_method(
    "shap_gradient",
    title=TITLE,
    family="shap",
    description=(
        "Expected gradients: averages gradients on random lines from background rows to the "
        "sample. Works with any layer; sums to the output minus the average output only "
        "approximately (a sampled estimate)."
    ),
    uses=("target", "background_size", "n_samples", "seed"),
)
def shap_gradient(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress | None
) -> Attribution:
    """Values (N, *input_shape) on the target column; expected_value (N,) = mean background output."""
    started = time.perf_counter()
    report = reporter(progress)
    x, y = ctx.samples(request)
    targets = ctx.targets(x, request)
    values, expected, info = expected_gradients(ctx, request, x, targets, report)
    notes = [
        "GradientExplainer is a sampled estimate: values add up to the output minus the "
        "average output only approximately; more samples narrow the gap."
    ]
    if info["note"]:
        notes.append(info["note"])
    return finish(
        ctx,
        request,
        title=TITLE,
        x=x,
        y=y,
        targets=targets,
        values=values,
        expected=expected,
        started=started,
        notes=notes,
        params={
            "explainer": "GradientExplainer",
            "exact": False,
            "background_size": info["background_size"],
            "n_samples": request.n_samples,
        },
    )
