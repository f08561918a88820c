"""Feature Ablation: replace one feature (or one original column's whole one-hot group) by
its baseline value and record how much the output drops."""

from __future__ import annotations

import torch
from captum.attr import FeatureAblation

from playground.explain import _captum_helpers as h
from playground.explain.base import Attribution, ExplainRequest, Progress, register_method
from playground.explain.context import ExplainContext

NAME = "feature_ablation"
PER_EVAL = 16  # ablated copies per forward pass


def group_mask(names: list[str], groups: dict[str, str]) -> torch.Tensor:
    """(1, F) group id per encoded column: one-hot columns of one original column share an
    id, so they are ablated together (a half-switched-off one-hot row means nothing)."""
    ids: dict[str, int] = {}
    mask = [ids.setdefault(groups.get(name, name), len(ids)) for name in names]
    return torch.tensor([mask], dtype=torch.long)


@register_method(
    NAME,
    "Feature Ablation",
    "captum",
    "Sets each feature (a categorical column's one-hot group together) to the baseline and "
    "measures the change in output.",
    ("toy2d", "tabular"),
    uses=("target", "baseline"),
)
def feature_ablation(
    ctx: ExplainContext, request: ExplainRequest, progress: Progress
) -> Attribution:
    p = h.prepare(ctx, request)
    base = h.baseline_for(ctx, p, request)
    mask = group_mask(ctx.dataset.feature_names, ctx.dataset.feature_groups).to(ctx.device)
    sizes = torch.bincount(mask[0]).to(p.inputs.dtype)
    method = FeatureAblation(p.forward)
    parts = h.run_chunked(
        ctx,
        p,
        progress,
        "Feature Ablation",
        lambda sl: method.attribute(
            p.inputs[sl],
            baselines=base[sl],
            target=p.targets[sl],
            feature_mask=mask,
            perturbations_per_eval=PER_EVAL,
        ),
    )
    # Captum gives every column of a group the group's whole effect; split it evenly so
    # that summing a group (or all features) counts the effect once.
    values = h.cat(parts) / sizes[mask[0]]
    notes = []
    if bool((sizes > 1).any()):
        notes.append(
            "Each categorical column's one-hot group is ablated together; its effect is "
            "split evenly across the group's columns."
        )
    return h.finish(
        ctx,
        p,
        request,
        NAME,
        values,
        notes=notes,
        params={"baseline": request.baseline},
    )


h.requires(NAME, h.not_tokens)
