"""What LIME and Kernel SHAP share: the interpretable features (a categorical column's one-hot
group as one feature, an image's square patches) and the number of perturbed samples.

Both fit a small model on perturbed copies of one row where "absent" features take the
baseline's values, so both need a feature mask and enough samples per feature.
"""

from __future__ import annotations

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
