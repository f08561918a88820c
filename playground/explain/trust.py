"""How far to trust an explanation: do methods agree, is the explanation faithful to the
model, is it stable, and do SHAP values add up?

- `rank_agreement`: Spearman correlation between methods' global feature rankings (pure).
- `infidelity_and_sensitivity`: Captum's infidelity (does attribution x perturbation predict
  the output change?) and max-sensitivity (does the explanation jump when the input barely
  moves?) for one gradient/perturbation method. Lower is better for both.
- `completeness_shap`: sum(values) + expected value == f(x), within a stated tolerance (pure).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from captum.attr import (
    DeepLift,
    FeatureAblation,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from captum.metrics import infidelity, sensitivity_max

from playground.errors import PlaygroundError
from playground.explain import _captum_helpers as h
from playground.explain._shap_helpers import exact_tolerance
from playground.explain.api import method_info  # importing api registers every method
from playground.explain.base import Attribution, ExplainRequest
from playground.explain.context import ExplainContext
from playground.explain.summary import global_importance

# ---------------------------------------------------------------- agreement between methods


def importance_table(
    attributions: Sequence[Attribution], groups: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Global importance (mean |attribution| per feature, `summary.global_importance`),
    feature x method. Columns are method names, suffixed " #2", " #3" when repeated."""
    if not attributions:
        raise PlaygroundError("No explanations to compare.", "Run at least one method.")
    columns: dict[str, pd.Series] = {}
    for attr in attributions:
        name, k = attr.method, 2
        while name in columns:
            name, k = f"{attr.method} #{k}", k + 1
        table = global_importance(attr, groups)
        columns[name] = table.set_index("feature")["importance"]
    features = [set(s.index) for s in columns.values()]
    if any(f != features[0] for f in features):
        raise PlaygroundError(
            "These explanations do not cover the same features, so their rankings cannot be "
            "compared (e.g. a layer map beside input attributions).",
            "Compare methods that attribute to the model's inputs on the same run.",
        )
    return pd.DataFrame(columns)


def rank_agreement(
    attributions: Sequence[Attribution], groups: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Do the methods rank the features alike?

    Returns (rankings, correlation):
    - rankings: feature x method, rank of each feature's global importance in that method
      (1 = most important; ties share the average rank), rows ordered by mean rank.
    - correlation: method x method Spearman rank correlation of the importances, in [-1, 1]:
      1 = same order, 0 = unrelated, -1 = reversed. NaN when a method gives every feature
      the same importance (no ranking to compare).
    With `groups` (dataset.feature_groups), one-hot columns are ranked as one feature.
    """
    importances = importance_table(attributions, groups)
    ranks = importances.rank(ascending=False, method="average")
    order = ranks.mean(axis=1).sort_values(kind="stable").index
    rankings = ranks.loc[order]
    rankings.index.name = "feature"
    correlation = importances.corr(method="spearman")
    return rankings, correlation


# ---------------------------------------------------------------- infidelity and sensitivity

# An attribution function in the space Captum sees: (inputs (M, ...), target (M,)) -> (M, ...).
ExplainFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class _Adapter:
    """How to recompute a registered Captum method on arbitrary (perturbed) inputs.

    `reference` is the point the method's attributions are measured from: "baseline" (the
    request's baseline), "zeros", "background" (mean of the background rows), or None for
    gradients (attributions per unit of input, not multiplied by an input difference).
    """

    build: Callable[[h.Prepared, ExplainContext, ExplainRequest], ExplainFn]
    reference: str | None


def _baseline_like(ctx: ExplainContext, p: h.Prepared, request: ExplainRequest) -> torch.Tensor:
    """The request's baseline as one row (1, ...): every baseline kind is the same row for
    all samples, so it can be broadcast to a perturbed batch of any size."""
    return h.baseline_for(ctx, p, request)[:1].detach()


def _ig(p: h.Prepared, ctx: ExplainContext, request: ExplainRequest) -> ExplainFn:
    ig, base = IntegratedGradients(p.forward), _baseline_like(ctx, p, request)
    steps = h.positive(request.n_steps, "n_steps")
    return lambda x, target: ig.attribute(
        x,
        baselines=base.expand_as(x),
        target=target,
        n_steps=steps,
        internal_batch_size=h.INTERNAL_BATCH,
    )


def _saliency(p: h.Prepared, ctx: ExplainContext, request: ExplainRequest) -> ExplainFn:
    method = Saliency(p.forward)  # signed, as the registered method
    return lambda x, target: method.attribute(x, target=target, abs=False)


def _input_x_gradient(p: h.Prepared, ctx: ExplainContext, request: ExplainRequest) -> ExplainFn:
    method = InputXGradient(p.forward)
    return lambda x, target: method.attribute(x, target=target)


def _deeplift(p: h.Prepared, ctx: ExplainContext, request: ExplainRequest) -> ExplainFn:
    method, base = DeepLift(p.forward), _baseline_like(ctx, p, request)
    return lambda x, target: method.attribute(x, baselines=base.expand_as(x), target=target)


def _gradient_shap(p: h.Prepared, ctx: ExplainContext, request: ExplainRequest) -> ExplainFn:
    method, background = GradientShap(p.forward), h.background_for(ctx, request)
    samples = h.positive(request.n_samples, "n_samples")

    def fn(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with h.seeded(request.seed):
            return method.attribute(
                x, baselines=background, n_samples=samples, stdevs=request.stdevs, target=target
            )

    return fn


def _smoothgrad(p: h.Prepared, ctx: ExplainContext, request: ExplainRequest) -> ExplainFn:
    tunnel = NoiseTunnel(Saliency(p.forward))
    samples = h.positive(request.n_samples, "n_samples")

    def fn(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with h.seeded(request.seed):
            return tunnel.attribute(
                x,
                nt_type="smoothgrad",
                nt_samples=samples,
                stdevs=request.stdevs,
                target=target,
                abs=False,
            )

    return fn


def _feature_ablation(p: h.Prepared, ctx: ExplainContext, request: ExplainRequest) -> ExplainFn:
    from playground.explain.methods.captum_feature_ablation import PER_EVAL, group_mask

    method, base = FeatureAblation(p.forward), _baseline_like(ctx, p, request)
    mask = group_mask(ctx.dataset.feature_names, ctx.dataset.feature_groups).to(ctx.device)
    sizes = torch.bincount(mask[0]).to(p.inputs.dtype)
    return lambda x, target: (
        method.attribute(
            x,
            baselines=base.expand_as(x),
            target=target,
            feature_mask=mask,
            perturbations_per_eval=PER_EVAL,
        )
        / sizes[mask[0]]  # a one-hot group's effect split over its columns, as registered
    )


def _occlusion(p: h.Prepared, ctx: ExplainContext, request: ExplainRequest) -> ExplainFn:
    from playground.explain.methods.captum_occlusion import PER_EVAL

    method, base = Occlusion(p.forward), _baseline_like(ctx, p, request)
    window = h.positive(request.window, "window")
    stride = max(1, window // 2)
    shape = tuple(p.inputs.shape[1:])
    if ctx.dataset.kind == "image":  # the same patches as the registered method
        channels, height, width = shape
        patch = (channels, min(window, height), min(window, width))
        strides: tuple[int, ...] = (channels, stride, stride)
        depth = channels
    else:
        steps, features = shape
        patch, strides, depth = (min(window, steps), features), (stride, features), features
    return lambda x, target: (
        method.attribute(
            x,
            sliding_window_shapes=patch,
            strides=strides,
            baselines=base.expand_as(x),
            target=target,
            perturbations_per_eval=PER_EVAL,
        )
        / depth
    )


ADAPTERS: dict[str, _Adapter] = {
    "integrated_gradients": _Adapter(_ig, "baseline"),
    "saliency": _Adapter(_saliency, None),
    "input_x_gradient": _Adapter(_input_x_gradient, "zeros"),
    "deeplift": _Adapter(_deeplift, "baseline"),
    "gradient_shap": _Adapter(_gradient_shap, "background"),
    "smoothgrad": _Adapter(_smoothgrad, None),
    "feature_ablation": _Adapter(_feature_ablation, "baseline"),
    "occlusion": _Adapter(_occlusion, "baseline"),
}

INTERPRETATION = (
    "Infidelity: the mean squared gap between 'attributions x a small random change of the "
    "input' and the change it really makes to the output (attributions rescaled to their "
    "best fit first, so methods on different scales compare). Lower is better: 0 means the "
    "explanation predicts the model's local behaviour exactly. "
    "Sensitivity: the largest change of the explanation, relative to its size, when the "
    "input moves by at most `radius` in each feature. Lower is better: a stable explanation "
    "does not jump for changes the eye cannot see."
)


def _unavailable(method: str, reason: str) -> dict[str, Any]:
    return {"method": method, "available": False, "reason": reason}


def _reference(
    adapter: _Adapter, ctx: ExplainContext, p: h.Prepared, request: ExplainRequest
) -> torch.Tensor | None:
    if adapter.reference == "baseline":
        return _baseline_like(ctx, p, request)
    if adapter.reference == "zeros":
        return torch.zeros_like(p.inputs[:1])
    if adapter.reference == "background":
        return h.background_for(ctx, request).mean(dim=0, keepdim=True)
    return None


def infidelity_and_sensitivity(
    ctx: ExplainContext,
    request: ExplainRequest,
    n_perturb: int = 10,
    noise: float = 0.1,
    radius: float = 0.02,
    seed: int = 0,
) -> dict[str, Any]:
    """Captum infidelity and max-sensitivity of `request.method` on the requested samples.

    Infidelity perturbs each input with Gaussian noise (std `noise`, in feature units)
    `n_perturb` times; sensitivity draws `n_perturb` uniform perturbations within +-`radius`.
    Returns {"method", "available": True, "sample_indices" (N,), "infidelity" (N,),
    "sensitivity" (N,), "infidelity_mean", "sensitivity_mean", "n_perturb", "noise",
    "radius", "interpretation"}; for methods without a Captum recomputation (SHAP explainers,
    layer maps, conductance) {"method", "available": False, "reason"}.
    """
    name = request.method
    info = method_info(name)  # PlaygroundError listing the methods for an unknown name
    if info.family == "shap":
        return _unavailable(
            name,
            "Infidelity and sensitivity re-run the explanation on many perturbed inputs; SHAP "
            "explainers are too slow for that here. Check them with the additivity check "
            "(completeness_shap) and compare them with Captum methods by rank agreement.",
        )
    adapter = ADAPTERS.get(name)
    if adapter is None:
        return _unavailable(
            name,
            f"{info.title} attributes to a hidden layer, not to the inputs; infidelity and "
            "sensitivity are defined for input attributions.",
        )
    if n_perturb < 1 or noise <= 0 or radius <= 0:
        raise PlaygroundError(
            f"Bad settings: n_perturb={n_perturb}, noise={noise}, radius={radius}.",
            "Use n_perturb >= 1 and a positive noise and radius.",
        )
    h.check_method(ctx, info)  # data kind and token limits, as for the method itself
    p = h.prepare(ctx, request)
    x = p.inputs.detach()
    explain_fn = adapter.build(p, ctx, request)
    reference = _reference(adapter, ctx, p, request)
    gen = torch.Generator(device=x.device).manual_seed(seed)

    def perturb_for_infidelity(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Captum compares sum(perturbation * attribution) with f(x) - f(x - delta).
        delta = torch.randn(inputs.shape, generator=gen, device=inputs.device) * noise
        if reference is None:  # gradients: attribution per unit of input
            return delta, inputs - delta
        # Attributions already multiplied by (x - reference): scale the perturbation by it.
        # Features sitting at their reference get no attribution by construction, so they
        # are not perturbed either (else every such method is blamed for them alike).
        span = inputs - reference
        moving = span.abs() > 1e-6
        delta = torch.where(moving, delta, torch.zeros_like(delta))
        scaled = delta / torch.where(moving, span, torch.ones_like(span))
        return scaled, inputs - delta

    def perturb_for_sensitivity(inputs: torch.Tensor, perturb_radius: float) -> torch.Tensor:
        step = torch.rand(inputs.shape, generator=gen, device=inputs.device) * 2 - 1
        return inputs + step * perturb_radius

    def explanation(
        inputs: torch.Tensor | tuple[torch.Tensor, ...], target: torch.Tensor
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        # sensitivity_max passes its first call a 1-tuple and expects a tuple back.
        single = inputs[0] if isinstance(inputs, tuple) else inputs
        with h.gradients(ctx):  # sensitivity_max runs under no_grad
            # contiguous: captum views the result, and RNN gradients can come back strided
            out = explain_fn(single.detach(), target).detach().contiguous()
        return (out,) if isinstance(inputs, tuple) else out

    attributions = explanation(x, p.targets)
    with h.gradients(ctx):
        infid = infidelity(
            p.forward,
            perturb_for_infidelity,
            x,
            attributions,
            target=p.targets,
            n_perturb_samples=n_perturb,
            normalize=True,
        )
    sens = sensitivity_max(
        explanation,
        x,
        perturb_func=perturb_for_sensitivity,
        perturb_radius=radius,
        n_perturb_samples=n_perturb,
        target=p.targets,
    )
    # A mean of squares: below 0 only by float rounding (seen at -1e-9 on linear models).
    infid_np = np.maximum(h.numpy(infid).reshape(-1).astype(np.float64), 0.0)
    sens_np = h.numpy(sens).reshape(-1).astype(np.float64)
    return {
        "method": name,
        "available": True,
        "sample_indices": np.asarray(request.sample_indices, dtype=np.int64),
        "infidelity": infid_np,
        "sensitivity": sens_np,
        "infidelity_mean": float(infid_np.mean()),
        "sensitivity_mean": float(sens_np.mean()),
        "n_perturb": n_perturb,
        "noise": noise,
        "radius": radius,
        "interpretation": INTERPRETATION,
    }


# ---------------------------------------------------------------- SHAP additivity

SAMPLED_RTOL = 0.5  # sampled explainers: gap allowed, as a share of max |f(x) - E[f]|


def completeness_shap(attr: Attribution, tolerance: float | None = None) -> dict[str, Any]:
    """Check SHAP's local accuracy: sum(values) + expected_value == f(x), per sample.

    Returns {"check", "max_abs_error", "mean_abs_error", "tolerance", "passed", "exact",
    "detail"}; errors and tolerance in output units (logits, or the regression output).
    Default tolerance: exact explainers (DeepExplainer, PermutationExplainer)
    1e-4 + 1e-3 * max |f(x)| (float rounding); sampled ones (GradientExplainer, and shap_deep
    when it fell back to it) half the largest |f(x) - E[f]|, a loose check that catches gross
    errors only. Pass `tolerance` to override.
    """
    if attr.expected_value is None:
        raise PlaygroundError(
            f"{attr.title} has no expected value, so SHAP additivity cannot be checked.",
            "Use a SHAP method; for Integrated Gradients use summary.completeness.",
        )
    total = attr.values.reshape(attr.n, -1).astype(np.float64).sum(axis=1)
    expected = attr.expected_value.astype(np.float64)
    outputs = attr.outputs.astype(np.float64)
    errors = np.abs(total + expected - outputs)
    exact = bool(attr.params.get("exact", attr.params.get("explainer") != "GradientExplainer"))
    if tolerance is None:
        if exact:
            tolerance = float(exact_tolerance(outputs).max()) if len(outputs) else 0.0
        else:
            tolerance = SAMPLED_RTOL * float(np.abs(outputs - expected).max(initial=0.0))
    max_error = float(errors.max(initial=0.0))
    passed = bool(max_error <= tolerance)
    kind = "exact" if exact else "a sampled estimate"
    detail = (
        f"{attr.title} is {kind}. Sum of values + expected value differs from the model's "
        f"output by at most {max_error:.3g} (tolerance {tolerance:.3g}, output units)."
    )
    if not exact:
        detail += " Sampled values add up only on average; more samples narrow the gap."
    elif not passed:
        detail += " An exact explainer should not miss: some layer is not handled exactly."
    return {
        "check": "SHAP additivity: sum(values) + expected value = output",
        "max_abs_error": max_error,
        "mean_abs_error": float(errors.mean()) if len(errors) else 0.0,
        "tolerance": float(tolerance),
        "passed": passed,
        "exact": exact,
        "detail": detail,
    }
