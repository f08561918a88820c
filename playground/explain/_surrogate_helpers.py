"""What LIME and Kernel SHAP share: the interpretable features (a categorical column's one-hot
group as one feature, an image's square patches) and the number of perturbed samples.

Both fit a small model on perturbed copies of one row where "absent" features take the
baseline's values, so both need a feature mask and enough samples per feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from playground.explain.context import ExplainContext
from playground.explain.methods.captum_feature_ablation import group_mask

MIN_SAMPLES_PER_FEATURE = 8  # fewer perturbed samples than this per feature: a noisy fit
CHUNK_ROWS = 16  # rows per call: both methods fit one surrogate per row, so progress per chunk


def feature_mask(ctx: ExplainContext, window: int) -> torch.Tensor:
    """(1, *input_shape) interpretable-feature id per input element: tabular columns (one-hot
    groups together) or `window` x `window` image patches over all channels."""
    if ctx.dataset.kind == "image":
        channels, height, width = ctx.dataset.input_shape
        rows = torch.arange(height) // window
        cols = torch.arange(width) // window
        per_row = (width + window - 1) // window
        ids = rows[:, None] * per_row + cols[None, :]
        return ids.expand(channels, height, width).unsqueeze(0).contiguous().to(ctx.device)
    names = ctx.dataset.feature_names
    return group_mask(names, ctx.dataset.feature_groups).to(ctx.device)


def sample_count(requested: int, n_features: int) -> tuple[int, str | None]:
    """The perturbed samples per row: the request's, raised to a floor that a surrogate with
    `n_features` coefficients can be fitted from; with a note saying so when raised."""
    floor = MIN_SAMPLES_PER_FEATURE * n_features + 2
    if requested >= floor:
        return requested, None
    return floor, (
        f"Used {floor} perturbed samples per row rather than {requested}: a surrogate with "
        f"{n_features} features needs at least {MIN_SAMPLES_PER_FEATURE} per feature."
    )


def spread(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Captum gives every element of an interpretable feature the feature's whole value;
    divide by the feature's size so summing a group (or a patch) counts it once."""
    sizes = torch.bincount(mask.reshape(-1)).to(values.dtype)
    return values / sizes[mask[0]]


PER_EVAL = 64  # perturbed copies per forward pass


@dataclass
class SurrogateResult:
    prepared: Any  # _captum_helpers.Prepared: the rows, targets and forward explained
    baseline: torch.Tensor
    values: torch.Tensor  # attributions spread back over the input's elements
    n_samples: int
    note: str | None  # why the number of samples was raised, if it was


def surrogate_attribution(
    ctx: ExplainContext,
    request: Any,
    progress: Any,
    algorithm: Any,
    title: str,
) -> SurrogateResult:
    """Run a Captum surrogate method (Lime, KernelShap) over the rows in chunks, with the
    interpretable features of `feature_mask`, seeded, reporting progress per chunk."""
    from playground.explain import _captum_helpers as h  # the helpers import the registry

    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    mask = feature_mask(ctx, h.positive(request.window, "window"))
    n_samples, note = sample_count(request.n_samples, int(mask.max()) + 1)
    method = algorithm(p.forward)
    parts = []
    with h.gradients(ctx), h.seeded(request.seed):
        for sl in h.chunks(p.n, CHUNK_ROWS):
            progress(sl.start / p.n, f"{title}: rows {sl.start + 1}-{sl.stop} of {p.n}")
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
    progress(1.0, f"{title}: done")
    values = spread(h.cat(parts) if parts else torch.zeros_like(p.inputs), mask)
    return SurrogateResult(p, base, values, n_samples, note)
