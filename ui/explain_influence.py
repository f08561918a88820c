"""Influential training examples on the Explain page (TracInCP): the training rows or images
that most support and most oppose a test prediction, and the rows with the highest
self-influence (where mislabelled data shows up)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from playground.charts import explain_checks as charts
from playground.explain.context import ExplainContext
from playground.explain.influence import run_checkpoints, tracin
from playground.markup import escape_markdown
from playground.store import RunStore
from ui.task_view import start_task, task_result

TOP_SELF = 20


def _run_id(ctx: ExplainContext) -> str:
    return ctx.run_id


def _rows_table(ctx: ExplainContext, rows: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Training rows in the user's values with their label and TracIn score."""
    dataset = ctx.dataset
    raw = dataset.train.raw
    if raw is not None:
        table = raw.iloc[rows].reset_index(drop=True)
    else:
        table = pd.DataFrame(
            dataset.train.x[rows].reshape(len(rows), -1)[:, :8].numpy(),
            columns=dataset.feature_names[:8] if dataset.kind != "image" else None,
        )
    labels = dataset.train.y[rows].numpy()
    names = dataset.class_names
    table.insert(0, "label", [names[int(v)] if names else v for v in labels])
    table.insert(0, "training row", rows)
    table["influence"] = scores
    return table


def influence_view(ctx: ExplainContext) -> None:
    st.caption(
        "Which training examples are responsible for a prediction? TracIn (Captum's TracInCP) "
        "adds up, over checkpoints of training, how much a training example's gradient step "
        "lowered (proponent) or raised (opponent) the loss of this prediction. The run store "
        "keeps only the final weights, so the checkpoints come from retraining this run's "
        "recipe (same seed) once; the result says whether it repeated exactly."
    )
    dataset = ctx.dataset
    cols = st.columns(3)
    row = int(cols[0].number_input("Test row", 0, len(dataset.test) - 1, 0, key="inf_row"))
    k = int(cols[1].number_input("Examples each way", 1, 20, 5, key="inf_k"))
    n_ckpt = int(cols[2].number_input("Checkpoints", 1, 10, 5, key="inf_ckpt"))
    key = f"influence-{ctx.run_id}-{row}-{k}-{n_ckpt}"

    def run(progress):
        checkpoints = run_checkpoints(
            _run_id(ctx), RunStore(), n_ckpt, lambda f, m: progress(0.6 * f, m)
        )
        return tracin(
            ctx, checkpoints, [row], k=k, progress=lambda f, m: progress(0.6 + 0.4 * f, m)
        )

    if st.button("Find influential examples", key="inf_go"):
        start_task(key, run)
    result = task_result(key, "Influential examples")
    if result is None:
        return
    for note in result.notes:
        st.caption(escape_markdown(note, streamlit=True))
    names = dataset.class_names
    predicted = int(result.predicted[0]) if dataset.is_classification else None
    if predicted is not None and names:
        st.caption(
            escape_markdown(f"Test row {row} is predicted {names[predicted]!r}.", streamlit=True)
        )
    left, right = st.columns(2)
    if dataset.kind == "image":
        for column, title, rows, scores, chart_key in (
            (
                left,
                "Proponents (support the prediction)",
                result.proponents[0],
                result.proponent_scores[0],
                "inf_pro",
            ),
            (
                right,
                "Opponents (oppose it)",
                result.opponents[0],
                result.opponent_scores[0],
                "inf_opp",
            ),
        ):
            column.subheader(title)
            labels = dataset.train.y[rows].numpy()
            titles = [
                f"row {r}: {names[int(y)] if names else y} ({s:.2g})"
                for r, y, s in zip(rows, labels, scores, strict=True)
            ]
            column.plotly_chart(
                charts.influence_images(dataset.train.x[rows].numpy(), titles), key=chart_key
            )
    else:
        left.subheader("Proponents (support the prediction)")
        left.dataframe(
            _rows_table(ctx, result.proponents[0], result.proponent_scores[0]),
            hide_index=True,
            key="inf_pro",
        )
        right.subheader("Opponents (oppose it)")
        right.dataframe(
            _rows_table(ctx, result.opponents[0], result.opponent_scores[0]),
            hide_index=True,
            key="inf_opp",
        )
    st.subheader("Highest self-influence: check these labels first")
    st.plotly_chart(
        charts.self_influence_chart(result.self_influence, top=TOP_SELF), key="inf_self"
    )
    top = result.top_self_influence(TOP_SELF)
    st.dataframe(
        _rows_table(ctx, top, result.self_influence[top]), hide_index=True, key="inf_self_table"
    )
