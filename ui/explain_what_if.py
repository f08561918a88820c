"""What-if with attributions: pick a test row (a table row in the user's values, or a 2D
point), edit any feature with a widget of its type (a categorical column's one-hot group is
one choice), and see the prediction and its explanation change together."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from playground.charts import explain_checks as charts
from playground.explain.base import ExplainRequest, MethodInfo
from playground.explain.context import ExplainContext
from playground.explain.what_if import editable_columns, edited_row, predict_rows
from playground.explain.what_if_attribution import (
    attribution_change,
    encode,
    explain_inputs,
)
from playground.markup import escape_markdown
from ui.task_view import start_task, task_result


def _edit_table_row(ctx: ExplainContext, row: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Widgets for each column of test row `row`: (original frame, edited frame, changes)."""
    dataset = ctx.dataset
    original = dataset.test.raw.iloc[row]
    raw_train = dataset.train.raw
    columns = st.columns(3)
    changes = {}
    for i, (column, categories) in enumerate(editable_columns(dataset).items()):
        value = original[column]
        key = f"wia_{row}_{column}"
        with columns[i % len(columns)]:
            if categories is None:
                numbers = pd.to_numeric(raw_train[column], errors="coerce")
                lo, hi = float(numbers.min()), float(numbers.max())
                start = dataset.encoder.medians[column] if pd.isna(value) else float(value)
                new = st.number_input(
                    column,
                    value=float(start),
                    format="%g",
                    key=key,
                    help=f"Training data: {lo:g} to {hi:g}.",
                )
                changed = pd.isna(value) or new != float(value)
            else:
                index = categories.index(value) if value in categories else 0
                new = st.selectbox(column, categories, index=index, key=key)
                changed = new != value
        if changed:
            changes[column] = new
    return original.to_frame().T.infer_objects(), edited_row(original, changes), changes


def _edit_point(ctx: ExplainContext, row: int) -> tuple[np.ndarray, np.ndarray, dict]:
    dataset = ctx.dataset
    point = dataset.test.x[row].float().numpy()
    columns = st.columns(len(point))
    new = point.copy()
    changes = {}
    for j, name in enumerate(dataset.feature_names):
        new[j] = columns[j].number_input(
            name, value=float(point[j]), step=0.1, format="%g", key=f"wia_{row}_{name}"
        )
        if new[j] != point[j]:
            changes[name] = float(new[j])
    return point[None], new[None], changes


def what_if_attribution_view(
    ctx: ExplainContext, request: ExplainRequest, methods: dict[str, MethodInfo]
) -> None:
    dataset = ctx.dataset
    usable = [m for m, i in methods.items() if not i.needs_layer]
    left, right = st.columns(2)
    row = int(left.number_input("Test row", 0, len(dataset.test) - 1, 0, key="wia_row"))
    method = right.selectbox(
        "Explained with",
        usable,
        index=usable.index(request.method) if request.method in usable else 0,
        format_func=lambda n: methods[n].title,
        key="wia_method",
    )
    tabular = dataset.kind == "tabular" and dataset.encoder is not None
    if tabular:
        before_rows, after_rows, changes = _edit_table_row(ctx, row)
        x = np.concatenate([encode(ctx, before_rows), encode(ctx, after_rows)])
    else:
        before_x, after_x, changes = _edit_point(ctx, row)
        x = np.concatenate([before_x, after_x]).astype(np.float32)
    if tabular:
        table = pd.concat(
            [
                predict_rows(ctx.built, dataset, before_rows),
                predict_rows(ctx.built, dataset, after_rows),
            ],
            ignore_index=True,
        )
    else:
        import torch

        probs = (
            torch.softmax(ctx.outputs(torch.as_tensor(x)), dim=1) if ctx.output_width > 1 else None
        )
        out = ctx.outputs(torch.as_tensor(x)).cpu().numpy()
        if probs is not None:
            table = pd.DataFrame(probs.cpu().numpy(), columns=dataset.class_names)
        else:
            table = pd.DataFrame({"output": out[:, 0]})
    table.insert(0, "row", [f"test row {row} as in the data", "with your changes"])
    st.dataframe(table, hide_index=True, key="wia_prediction")
    # The same class is explained before and after, so the bars compare like with like.
    target = int(ctx.targets(ctx.dataset.test.x[row : row + 1].to(ctx.device), request)[0])
    explained = replace(request, method=method, target=target if ctx.output_width > 1 else None)
    key = f"wia-{ctx.run_id}-{method}-{hash(x.tobytes())}-{explained.key(ctx.run_id)}"
    start_task(key, lambda progress: explain_inputs(ctx, x, explained, progress))
    pair = task_result(key, f"{methods[method].title} of the edited row")
    if pair is None:
        return
    before = replace(pair, values=pair.values[:1], inputs=pair.inputs[:1])
    after = replace(pair, values=pair.values[1:], inputs=pair.inputs[1:])
    change = attribution_change(before, after, dataset.feature_groups or None)
    st.plotly_chart(charts.attribution_change_bars(change), key="wia_bars")
    st.dataframe(change, hide_index=True, key="wia_change")
    if changes:
        st.caption(
            escape_markdown(
                "Changed: "
                + ", ".join(
                    f"{c} → {v:g}" if isinstance(v, float) else f"{c} → {v}"
                    for c, v in changes.items()
                ),
                streamlit=True,
            )
        )
    else:
        st.caption("Change a value above: the prediction and the bars follow at once.")
