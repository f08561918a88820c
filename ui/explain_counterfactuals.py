"""Counterfactuals on the Explain page: the nearest changes that flip a row's decision, with
locked columns (sensitive ones locked by default), shown in the user's own values."""

from __future__ import annotations

import streamlit as st

from playground.explain import api
from playground.explain.context import ExplainContext
from playground.explain.counterfactual import columns_of, counterfactuals, default_locked
from playground.markup import escape_markdown
from ui.task_view import start_task, task_result


def counterfactual_view(ctx: ExplainContext) -> None:
    dataset = ctx.dataset
    if not dataset.is_classification:
        st.info("Counterfactuals flip a decision; a regression model has none. Use What-if.")
        return
    st.caption(
        "The smallest changes to this row that flip the model's decision, found by gradient "
        "search within the training data's value ranges. Locked columns keep their values; "
        "sensitive columns are locked by default."
    )
    names = [c.name for c in columns_of(dataset)]
    classes = dataset.class_names or [str(i) for i in range(max(2, ctx.output_width))]
    cols = st.columns(4)
    row = int(cols[0].number_input("Test row", 0, len(dataset.test) - 1, 0, key="cf_row"))
    wanted_label = cols[1].selectbox("Wanted class", ["any other", *classes], key="cf_wanted")
    n = int(cols[2].number_input("How many", 1, 8, 3, key="cf_n"))
    steps = int(cols[3].number_input("Search steps", 50, 2000, 300, step=50, key="cf_steps"))
    locked = st.multiselect(
        "Locked columns", names, default=default_locked(dataset), key="cf_locked"
    )
    wanted = None if wanted_label == "any other" else classes.index(wanted_label)
    key = f"cf-{ctx.run_id}-{api.weights_fingerprint(ctx)}-{row}-{wanted}-{n}-{steps}-" + "|".join(
        sorted(locked)
    )
    if st.button("Find counterfactuals", key="cf_go"):
        start_task(
            key,
            lambda progress: counterfactuals(
                ctx, row, wanted=wanted, locked=locked, n=n, steps=steps, progress=progress
            ),
        )
    result = task_result(key, "Counterfactuals")
    if result is None:
        return
    st.caption(
        escape_markdown(
            f"Test row {row} is predicted {result.original_class!r}; wanted: "
            f"{result.wanted_class!r}. {result.found} counterfactual(s) found.",
            streamlit=True,
        )
    )
    for note in result.notes:
        st.info(escape_markdown(note, streamlit=True))
    if len(result.changes):
        st.dataframe(result.changes, hide_index=True, key="cf_changes")
    st.dataframe(result.rows, hide_index=True, key="cf_rows")
