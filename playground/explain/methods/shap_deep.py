"""SHAP DeepExplainer (Deep SHAP): DeepLIFT's rescale rule averaged over background rows.

Exact additivity (values sum to f(x) - E[f(background)]) holds for the layers shap knows:
Linear, Conv, pooling, BatchNorm, Dropout, Flatten and the common activations. It does not
know recurrent layers (LSTM/GRU/RNN), attention, LayerNorm or SiLU: there it raises or its
sums drift. Each chunk's sums are checked as they come; on an error or a failed check, the
whole explanation falls back to GradientExplainer and `Attribution.notes` says why, naming
the layers. Shap hooks every layer it explains, so it works on a private copy of the model.
"""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np
import shap
import torch
from torch import nn

from playground.explain._shap_helpers import (
    TargetColumn,
    drop_trailing_output_axis,
    exact_tolerance,
    explained_space,
    finish,
    reporter,
    target_chunks,
)
from playground.explain.base import (
    Attribution,
    Cancelled,
    ExplainRequest,
    Progress,
    register_method,
)
from playground.explain.context import ExplainContext
from playground.explain.methods.shap_gradient import expected_gradients
from playground.model import BuiltModel
from playground.model.lookup import module_for_row

TITLE = "SHAP (DeepExplainer)"


class NotAdditive(Exception):
    """DeepExplainer's values did not add up to the output (an unsupported operation)."""


def _known_modules() -> set[str]:
    try:  # shap's table of layers DeepExplainer has a rule for (a private module)
        from shap.explainers._deep.deep_pytorch import op_handler

        return set(op_handler)
    except ImportError:  # pragma: no cover - a shap without the table: rely on the checks
        return set()


def unsupported_kinds(built: BuiltModel) -> list[str]:
    """Layer kinds of the model (shape-table `kind`s) containing modules DeepExplainer has no
    rule for, e.g. ["lstm", "layernorm"]. Residual blocks are judged by their inner rows."""
    known = _known_modules()
    if not known:
        return []
    kinds: list[str] = []
    for row in built.rows:
        if row.kind in ("residual", "embedding"):
            continue  # a residual sum is linear; the embedding is before the explained input
        module = module_for_row(built, row.index)
        for sub in module.modules():
            leaf = not any(True for _ in sub.children())
            if isinstance(sub, nn.MultiheadAttention) or (
                leaf and type(sub).__name__ not in known and not isinstance(sub, nn.Linear)
            ):
                if row.kind not in kinds:
                    kinds.append(row.kind)
                break
    return kinds


def _deep_values(
    ctx: ExplainContext,
    request: ExplainRequest,
    x: torch.Tensor,
    targets: torch.Tensor,
    progress: Progress,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """DeepExplainer values (N, *input_shape), expected (N,), info; raises NotAdditive."""
    space = explained_space(ctx)
    model = copy.deepcopy(space.model).eval()  # shap leaves hooks' tensors on the layers
    background = space.encode(ctx.background(request.background_size, request.seed))
    inputs = space.encode(x)
    order = targets.cpu().numpy()
    values = np.zeros(tuple(inputs.shape), dtype=np.float32)
    expected = np.zeros(len(order), dtype=np.float32)
    explainers: dict[int, shap.DeepExplainer] = {}
    worst, n, done = 0.0, len(order), 0
    with torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "unrecognized nn.Module": caught by the check below
        for target, rows in target_chunks(order):
            progress(done / n, f"DeepExplainer: {done}/{n} samples")
            if target not in explainers:
                explainers[target] = shap.DeepExplainer(TargetColumn(model, target), background)
            explainer = explainers[target]
            chunk = inputs[torch.as_tensor(rows)]
            phi = explainer.shap_values(chunk, check_additivity=False)
            phi = drop_trailing_output_axis(phi, inputs.dim())
            base = float(np.asarray(explainer.expected_value).reshape(-1)[0])
            with torch.no_grad():
                out = model(chunk)[:, target].float().cpu().numpy()
            # Checked per chunk so that an unsupported layer is found after a few samples.
            error = np.abs(phi.reshape(len(rows), -1).sum(1) + base - out)
            tolerance = exact_tolerance(out)
            worst = max(worst, float(error.max()))
            if not np.isfinite(phi).all() or (error > tolerance).any():
                raise NotAdditive(
                    f"its values missed the model's output by up to {worst:.3g}, "
                    f"more than the {float(tolerance.max()):.2g} rounding allows"
                )
            values[rows] = phi
            expected[rows] = base
            done += len(rows)
    progress(1.0, f"DeepExplainer: {n}/{n} samples")
    info = {"background_size": len(background), "note": space.note, "max_error": worst}
    return space.fold(values), expected, info


def _fallback_note(kinds: list[str], reason: str) -> str:
    layers = f"the {', '.join(kinds)} layer(s) of this model" if kinds else "this model"
    return (
        f"DeepExplainer does not support {layers} ({reason}), so these values come from "
        "GradientExplainer (expected gradients) instead: it works with any layer but is a "
        "sampled estimate, so values add up to the output only approximately."
    )


@register_method(
    "shap_deep",
    title=TITLE,
    family="shap",
    description=(
        "Deep SHAP: DeepLIFT averaged over background rows; values add up exactly to the "
        "output minus the average output. Falls back to GradientExplainer for layers it "
        "does not support (LSTM/GRU, attention, LayerNorm)."
    ),
    uses=("target", "background_size", "seed"),
)
def shap_deep(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress | None
) -> Attribution:
    """Values (N, *input_shape) on the target column; expected_value (N,) = E[f(background)]."""
    started = time.perf_counter()
    report = reporter(progress)
    x, y = ctx.samples(request)
    targets = ctx.targets(x, request)
    notes: list[str] = []
    reached = [0.0]  # progress so far: a fallback continues from here, never goes back

    def tracked(fraction: float, message: str) -> None:
        reached[0] = fraction
        report(fraction, message)

    try:
        values, expected, info = _deep_values(ctx, request, x, targets, tracked)
        params = {"explainer": "DeepExplainer", "exact": True, "max_error": info["max_error"]}
        kinds = unsupported_kinds(ctx.built)
        if kinds:
            notes.append(
                f"Shap has no DeepExplainer rule for the {', '.join(kinds)} layer(s); their "
                "gradients were used as they are, and the values still added up to the output."
            )
    except Cancelled:
        raise
    except Exception as exc:  # shap fails in many ways on layers it does not know
        reason = str(exc) if isinstance(exc, NotAdditive) else f"it failed: {exc}"
        notes.append(_fallback_note(unsupported_kinds(ctx.built), reason.strip()[:200]))
        report(reached[0], "DeepExplainer does not fit this model: using GradientExplainer")
        span = (reached[0], 1.0)
        values, expected, info = expected_gradients(ctx, request, x, targets, report, span)
        params = {
            "explainer": "GradientExplainer",
            "exact": False,
            "fallback_from": "DeepExplainer",
        }
    if info["note"]:
        notes.append(info["note"])
    params.update(background_size=info["background_size"], n_samples=request.n_samples)
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
        params=params,
    )
