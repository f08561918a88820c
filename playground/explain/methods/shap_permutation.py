"""SHAP PermutationExplainer: model-agnostic Shapley values for tabular and 2D data.

The model is only called, never differentiated: a batched, gradient-free NumPy function of
the target column. Features are switched from background values to the sample's values in
random orders, each order walked forwards and backwards (antithetic), so the values add up
exactly to f(x) - E[f(background)] for every sample, whatever the layers.

Cost: `n_samples` orderings (n_samples / 2 permutations, each walked both ways), each
2 * features + 1 model calls on `background_size` rows, per sample.

One-hot encoded columns are players of their own: switching "workclass=Private" alone can
make a row with no or two categories set. For the effect of an original column, sum its
columns' values (`Dataset.feature_groups`); the sums still add up to the output.
Kernel SHAP is also additive, but a regression estimate and, measured on Adult, 2-3x slower
per sample than this explainer.

First use: shap compiles numba kernels for this explainer the first time it runs in a
process (no disk cache is possible: one kernel takes a function argument). That took 10-30 s
on a 2-core machine. Progress says so; `warm_up()` does it ahead of time (e.g. in a
background thread when the app starts).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable

import numpy as np
import shap
import torch
from torch import nn

from playground.errors import PlaygroundError
from playground.explain._shap_helpers import finish, kept_numpy_rng, reporter, target_chunks
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext

TITLE = "SHAP (PermutationExplainer)"
KINDS = ("toy2d", "tabular")
FORWARD_ROWS = 65_536  # rows per forward pass inside the NumPy function (bounds memory)
_compiled = False  # set once shap's numba kernels have been compiled in this process


def column_function(
    model: nn.Module, column: int, device: torch.device
) -> Callable[[np.ndarray], np.ndarray]:
    """(M, features) NumPy rows -> (M,) output `column`, batched and without gradients."""

    @torch.no_grad()
    def f(rows: np.ndarray) -> np.ndarray:
        out = [
            model(torch.as_tensor(rows[s : s + FORWARD_ROWS], dtype=torch.float32, device=device))[
                :, column
            ]
            .float()
            .cpu()
            .numpy()
            for s in range(0, len(rows), FORWARD_ROWS)
        ]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    return f


def max_evals_for(n_samples: int, n_features: int) -> int:
    """Shap's evaluation budget for `n_samples` orderings (each permutation gives two)."""
    permutations = max(1, math.ceil(n_samples / 2))
    return permutations * (2 * n_features + 1)


def warm_up() -> None:
    """Compile shap's numba kernels on a tiny problem (seconds, once per process) so the first
    real explanation does not wait. Same dtypes as real calls: float32 rows and outputs."""
    global _compiled
    if _compiled:
        return
    rows = np.linspace(-1, 1, 30, dtype=np.float32).reshape(10, 3)
    masker = shap.maskers.Independent(rows, max_samples=len(rows))
    with kept_numpy_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = column_function(nn.Linear(3, 1), 0, torch.device("cpu"))  # the real code path
        explainer = shap.PermutationExplainer(fn, masker, seed=0)
        explainer(rows[:1], max_evals=7, silent=True)
    _compiled = True


@register_method(
    "shap_permutation",
    title=TITLE,
    family="shap",
    data_kinds=KINDS,
    description=(
        "Model-agnostic Shapley values: features are switched from background values to the "
        "sample's in random orders. Any layers; values add up exactly to the output minus "
        "the average output. Tabular and 2D data only."
    ),
    uses=("target", "background_size", "n_samples", "seed"),
)
def shap_permutation(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress | None
) -> Attribution:
    """Values (N, features) on the target column; expected_value (N,) = E[f(background)]."""
    started = time.perf_counter()
    report = reporter(progress)
    if ctx.dataset.kind not in KINDS or ctx.tokens:
        raise PlaygroundError(
            f"Permutation SHAP works on tabular and 2D data, not {ctx.dataset.kind} data: "
            "with many inputs (pixels, time steps) it needs too many model calls.",
            "Use shap_deep or shap_gradient for images and sequences.",
        )
    x, y = ctx.samples(request)
    targets = ctx.targets(x, request)
    background = ctx.background(request.background_size, request.seed).float().cpu().numpy()
    # max_samples = the whole background: Independent would otherwise subsample it to 100.
    masker = shap.maskers.Independent(background, max_samples=len(background))
    x_np = x.float().cpu().numpy()
    order = targets.cpu().numpy()
    max_evals = max_evals_for(request.n_samples, x_np.shape[1])
    values = np.zeros_like(x_np)
    expected = np.zeros(len(order), dtype=np.float32)
    explainers: dict[int, shap.PermutationExplainer] = {}
    done, n = 0, len(order)
    if not _compiled:
        report(0.0, "PermutationExplainer: compiling shap's kernels (first use only, 10-30 s)")
        warm_up()
    with kept_numpy_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for target, rows in target_chunks(order):
            report(done / n, f"PermutationExplainer: {done}/{n} samples")
            if target not in explainers:
                fn = column_function(ctx.model, target, ctx.device)
                # The seed is set once per target, so the result depends only on the request.
                explainers[target] = shap.PermutationExplainer(fn, masker, seed=request.seed)
            explanation = explainers[target](x_np[rows], max_evals=max_evals, silent=True)
            values[rows] = np.asarray(explanation.values, dtype=np.float32)
            expected[rows] = np.asarray(explanation.base_values, dtype=np.float32).reshape(-1)
            done += len(rows)
    report(1.0, f"PermutationExplainer: {n}/{n} samples")
    notes = []
    if len(set(ctx.dataset.feature_groups.values())) < len(ctx.dataset.feature_groups):
        notes.append(
            "One-hot columns were explained one by one; a category's value is its own column. "
            "Sum the columns of an original feature for that feature's effect."
        )
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
            "explainer": "PermutationExplainer",
            "exact": True,
            "background_size": len(background),
            "n_samples": request.n_samples,
            "max_evals": max_evals,
        },
    )
