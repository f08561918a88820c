"""What-if with attributions: explain edited rows (tabular rows in the user's values, or 2D
points) with any registered method, so a page can show the prediction *and* its explanation
move together. Builds on `what_if` (the dataset's own encoder turns edited rows into inputs).

Methods explain rows of a context's test split, so an edited row is explained through a
context whose test split holds just the edited rows; the model and everything else is the
run's own.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from playground.data import Split
from playground.errors import PlaygroundError
from playground.explain import api
from playground.explain.base import Attribution, ExplainRequest, Progress
from playground.explain.context import ExplainContext


def can_edit_points(ctx: ExplainContext) -> bool:
    """Rows a person can edit: tabular rows with their encoder, or 2D points."""
    from playground.explain.what_if import can_edit

    return can_edit(ctx.dataset) or ctx.dataset.kind == "toy2d"


def encode(ctx: ExplainContext, rows: pd.DataFrame | np.ndarray) -> np.ndarray:
    """(M, F) model inputs for rows in the user's values (a frame, tabular) or points (toy2d)."""
    dataset = ctx.dataset
    if isinstance(rows, pd.DataFrame):
        if dataset.encoder is None:
            return rows[dataset.feature_names].to_numpy(dtype=np.float32)
        return dataset.encoder.transform(rows)
    return np.asarray(rows, dtype=np.float32).reshape(-1, *dataset.input_shape)


def explain_inputs(
    ctx: ExplainContext,
    x: np.ndarray,
    request: ExplainRequest,
    progress: Progress | None = None,
) -> Attribution:
    """Attributions of model inputs `x` (M, F) with `request.method` and its settings
    (sample rows are ignored: the rows are x). Cached per rows and weights."""
    if not can_edit_points(ctx):
        raise PlaygroundError(
            f"What-if edits rows of tables and 2D points; {ctx.dataset.title} is "
            f"{ctx.dataset.kind} data.",
            "Use a tabular or 2D dataset.",
        )
    rows = torch.as_tensor(np.asarray(x, dtype=np.float32))
    digest = hashlib.blake2b(rows.numpy().tobytes(), digest_size=6).hexdigest()
    split = Split(rows, torch.zeros(len(rows), dtype=torch.long))
    edited = replace(ctx.dataset, test=split)
    what_if_ctx = ExplainContext(
        f"{ctx.run_id}-what-if-{digest}", edited, ctx.built, ctx.model, ctx.device
    )
    return api.explain_cached(
        what_if_ctx, replace(request, sample_indices=tuple(range(len(rows)))), progress
    )


def attribution_change(
    before: Attribution, after: Attribution, groups: dict[str, str] | None = None
) -> pd.DataFrame:
    """Per feature (one-hot groups summed into their column): attribution of the first row
    before and after the edit, and the change, largest change first."""
    one = {}
    for label, attr in (("before", before), ("after", after)):
        first = replace(attr, values=attr.values[:1], inputs=attr.inputs[:1])
        table = global_importance_signed(first, groups)
        one[label] = table
    frame = pd.DataFrame(one).fillna(0.0)
    frame["change"] = frame["after"] - frame["before"]
    frame = frame.reindex(frame["change"].abs().sort_values(ascending=False).index)
    frame.index.name = "feature"
    return frame.reset_index()


def global_importance_signed(attr: Attribution, groups: dict[str, str] | None) -> pd.Series:
    """Signed attribution per feature of a one-row Attribution, grouped like the summaries."""
    values = pd.Series(attr.values.reshape(-1), index=list(attr.feature_names))
    if groups:
        values = values.groupby([groups.get(n, n) for n in values.index], sort=False).sum()
    return values
