"""Faithfulness curves (deletion and insertion, Petsiuk et al. 2018 "RISE"): does removing the
features a method ranks highest change the model's output fastest?

- Deletion: starting from the sample, replace features by the baseline in the method's order
  (most positive attribution first); a faithful ranking makes the explained output fall fast,
  so a lower area under the curve is better.
- Insertion: starting from the baseline, put the sample's features back in the same order;
  the output should rise fast, so a higher area is better.

A random order (the mean of a few seeded shuffles) is the yardstick on the same chart. Units
are features (a categorical column's one-hot group moves together), image pixels or square
patches (channels together), or time steps. Every curve of every sample is computed in
batched forward passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch

from playground.errors import PlaygroundError
from playground.explain.base import Attribution, ExplainRequest, Progress
from playground.explain.context import ExplainContext
from playground.explain.methods.captum_feature_ablation import group_mask

RANDOM = "random"
FORWARD_ROWS = 4096  # rows per forward pass
ImageOrder = Literal["pixel", "patch"]
Output = Literal["logit", "probability"]


def _quiet(fraction: float, message: str) -> None:
    return None


@dataclass
class FaithfulnessResult:
    """Mean curves over the samples. `fractions` (S+1,) is the share of units changed;
    `deletion[m]` / `insertion[m]` (S+1,) the mean explained output there; areas by the
    trapezoid rule over fractions 0..1 (output units)."""

    fractions: np.ndarray
    deletion: dict[str, np.ndarray]
    insertion: dict[str, np.ndarray]
    deletion_auc: dict[str, float]
    insertion_auc: dict[str, float]
    titles: dict[str, str]
    unit: str  # what one step removes: "feature", "pixel", "2x2 patch", "time step"
    n_units: int
    output: str  # what is on the y axis, in words
    baseline: str
    sample_indices: np.ndarray

    def table(self) -> list[dict[str, float | str]]:
        """One row per order: its areas, and the gap to random (deletion: lower is better;
        insertion: higher is better)."""
        rows = []
        for name, title in self.titles.items():
            rows.append(
                {
                    "method": title,
                    "deletion AUC": self.deletion_auc[name],
                    "insertion AUC": self.insertion_auc[name],
                    "deletion vs random": self.deletion_auc[name] - self.deletion_auc[RANDOM],
                    "insertion vs random": self.insertion_auc[name] - self.insertion_auc[RANDOM],
                }
            )
        return rows


def unit_masks(
    ctx: ExplainContext, image_order: ImageOrder = "pixel", patch: int = 2
) -> tuple[torch.Tensor, str]:
    """(U, D) boolean: which of the D input elements each of the U units covers, and the
    unit's name."""
    shape = ctx.dataset.input_shape
    kind = ctx.dataset.kind
    if kind == "image":
        channels, height, width = shape
        side = 1 if image_order == "pixel" else max(1, patch)
        rows = torch.arange(height) // side
        cols = torch.arange(width) // side
        per_row = (width + side - 1) // side
        ids = (rows[:, None] * per_row + cols[None, :]).expand(channels, height, width)
        unit = "pixel" if side == 1 else f"{side}x{side} patch"
    elif kind == "sequence":
        steps = shape[0]
        ids = torch.arange(steps).reshape(steps, *([1] * (len(shape) - 1))).expand(*shape)
        unit = "time step"
    else:
        ids = group_mask(ctx.dataset.feature_names, ctx.dataset.feature_groups)[0]
        unit = "feature"
    flat = ids.reshape(-1)
    n_units = int(flat.max()) + 1
    return torch.arange(n_units)[:, None] == flat[None, :], unit


def unit_scores(attr: Attribution, masks: torch.Tensor, input_shape: tuple[int, ...]) -> np.ndarray:
    """(N, U) a method's attribution summed over each unit. Grad-CAM-like image maps (N, H, W)
    are broadcast over the channels first."""
    values = attr.values
    if attr.layer_map:
        if attr.data_kind != "image" or values.shape[1:] != tuple(input_shape[1:]):
            raise PlaygroundError(
                f"{attr.title} gives a map over a hidden layer, not over the inputs.",
                "Compare methods that attribute to the inputs.",
            )
        values = np.broadcast_to(values[:, None], (len(values), *input_shape)) / input_shape[0]
    flat = torch.as_tensor(values.reshape(len(values), -1), dtype=torch.float64)
    return (flat @ masks.T.to(torch.float64)).numpy()


def faithfulness_curves(
    ctx: ExplainContext,
    attributions: Sequence[Attribution],
    request: ExplainRequest,
    *,
    steps: int = 20,
    image_order: ImageOrder = "pixel",
    patch: int = 2,
    n_random: int = 3,
    output: Output = "logit",
    seed: int = 0,
    progress: Progress | None = None,
) -> FaithfulnessResult:
    """Deletion and insertion curves of each attribution's order, plus a random order, on the
    samples the attributions explain (all must explain the same rows and targets).

    `request` gives the baseline ("absent" value) and sample rows; `steps` the number of
    points after 0 (at most one per unit)."""
    say = progress or _quiet
    if not attributions:
        raise PlaygroundError("No explanations to compare.", "Run at least one method.")
    if ctx.tokens:
        raise PlaygroundError(
            "Faithfulness curves replace inputs by a baseline; token ids have none.",
            "Use a dataset with numeric inputs.",
        )
    first = attributions[0]
    for attr in attributions[1:]:
        if not np.array_equal(attr.sample_indices, first.sample_indices) or not np.array_equal(
            attr.targets, first.targets
        ):
            raise PlaygroundError(
                "The explanations cover different rows or classes.",
                "Explain the same rows with the same target class.",
            )
    explained = replace_rows(request, first.sample_indices)
    x, _ = ctx.samples(explained)
    x = x.float()
    base = ctx.baseline(x, explained).float()
    targets = torch.as_tensor(first.targets, dtype=torch.long, device=ctx.device)
    masks, unit = unit_masks(ctx, image_order, patch)
    n_units = masks.shape[0]
    s = max(1, min(steps, n_units))
    counts = np.round(np.linspace(0, n_units, s + 1)).astype(np.int64)
    gen = np.random.default_rng(seed)
    orders: dict[str, np.ndarray] = {}
    titles: dict[str, str] = {}
    for attr in attributions:
        scores = unit_scores(attr, masks, tuple(ctx.dataset.input_shape))
        # Most positive first (stable, so ties keep the units' own order).
        orders[attr.method] = np.argsort(-scores, axis=1, kind="stable")
        titles[attr.method] = attr.title
    randoms = [np.stack([gen.permutation(n_units) for _ in range(len(x))]) for _ in range(n_random)]
    titles[RANDOM] = f"random order (mean of {n_random})"
    deletion: dict[str, np.ndarray] = {}
    insertion: dict[str, np.ndarray] = {}
    jobs = [*orders.items(), *((f"{RANDOM}{i}", o) for i, o in enumerate(randoms))]
    for j, (name, order) in enumerate(jobs):
        say(j / len(jobs), f"Deletion and insertion: {titles.get(name, 'random order')}")
        d, i = _curves(ctx, x, base, targets, masks, order, counts, output)
        deletion[name], insertion[name] = d, i
    for kind in (deletion, insertion):
        kind[RANDOM] = np.mean([kind.pop(f"{RANDOM}{i}") for i in range(n_random)], axis=0)
    fractions = counts / n_units
    say(1.0, "Faithfulness curves done")
    return FaithfulnessResult(
        fractions=fractions,
        deletion=deletion,
        insertion=insertion,
        deletion_auc={k: float(np.trapezoid(v, fractions)) for k, v in deletion.items()},
        insertion_auc={k: float(np.trapezoid(v, fractions)) for k, v in insertion.items()},
        titles=titles,
        unit=unit,
        n_units=n_units,
        output=_output_words(ctx, output),
        baseline=request.baseline,
        sample_indices=np.asarray(first.sample_indices, dtype=np.int64),
    )


def replace_rows(request: ExplainRequest, rows: np.ndarray) -> ExplainRequest:
    return replace(request, sample_indices=tuple(int(r) for r in rows))


def _output_words(ctx: ExplainContext, output: Output) -> str:
    if output == "probability" and ctx.dataset.is_classification:
        return "probability of the explained class"
    if ctx.dataset.task == "regression":
        return "model output (standardised target)"
    return "logit of the explained class"


@torch.no_grad()
def _curves(
    ctx: ExplainContext,
    x: torch.Tensor,
    base: torch.Tensor,
    targets: torch.Tensor,
    masks: torch.Tensor,
    order: np.ndarray,
    counts: np.ndarray,
    output: Output,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean deletion and insertion curves (S+1,) for one order (N, U) of units per sample."""
    n, points = len(x), len(counts)
    # rank[i, u]: position of unit u in sample i's order; unit u is changed at step j when
    # rank < counts[j]. Element masks come from one (N*(S+1), U) x (U, D) product.
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :], axis=1)
    changed = torch.as_tensor(rank[:, None, :] < counts[None, :, None])  # (N, S+1, U)
    elements = (changed.reshape(n * points, -1).float() @ masks.float()) > 0  # (N*(S+1), D)
    elements = elements.reshape(n, points, *x.shape[1:]).to(ctx.device)
    xs = x.unsqueeze(1).expand(n, points, *x.shape[1:])
    bs = base.unsqueeze(1).expand_as(xs)
    deleted = torch.where(elements, bs, xs).reshape(n * points, *x.shape[1:])
    inserted = torch.where(elements, xs, bs).reshape(n * points, *x.shape[1:])
    rows_targets = targets.repeat_interleave(points)
    d = _explained_output(ctx, deleted, rows_targets, output).reshape(n, points)
    i = _explained_output(ctx, inserted, rows_targets, output).reshape(n, points)
    return d.mean(dim=0).numpy(), i.mean(dim=0).numpy()


def _explained_output(
    ctx: ExplainContext, rows: torch.Tensor, targets: torch.Tensor, output: Output
) -> torch.Tensor:
    outs = []
    for start in range(0, len(rows), FORWARD_ROWS):
        out = ctx.model(rows[start : start + FORWARD_ROWS]).float()
        t = targets[start : start + FORWARD_ROWS]
        if output == "probability" and ctx.dataset.is_classification:
            out = torch.sigmoid(out) if out.shape[1] == 1 else torch.softmax(out, dim=1)
        outs.append(out.gather(1, t.reshape(-1, 1)).reshape(-1).cpu())
    return torch.cat(outs).double()
