"""The what-if panel: edit one test row's values as the user knows them and compare the
model's predictions before and after."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from playground.data import Dataset
from playground.explain.what_if import can_edit, editable_columns, edited_row, predict_rows
from playground.model import BuiltModel


def what_if_view(built: BuiltModel, dataset: Dataset, row: int) -> None:
    """An expander with one widget per feature column, prefilled with test row `row`."""
    if not can_edit(dataset):
        return
    original = dataset.test.raw.iloc[row]
    with st.expander("What if? Change this row's values and watch the prediction"):
        columns = st.columns(3)
        changes = {}
        for i, (column, categories) in enumerate(editable_columns(dataset).items()):
            value = original[column]
            key = f"what_if_{row}_{column}"
            with columns[i % len(columns)]:
                if categories is None:
                    start = dataset.encoder.medians[column] if pd.isna(value) else float(value)
                    new = st.number_input(column, value=float(start), format="%g", key=key)
                    changed = pd.isna(value) or new != float(value)
                else:
                    index = categories.index(value) if value in categories else 0
                    new = st.selectbox(column, categories, index=index, key=key)
                    changed = new != value
            if changed:
                changes[column] = new
        before = predict_rows(built, dataset, original.to_frame().T.infer_objects())
        after = predict_rows(built, dataset, edited_row(original, changes))
        table = pd.concat([before, after], ignore_index=True)
        table.insert(0, "row", [f"test row {row} as in the data", "with your changes"])
        st.dataframe(table, hide_index=True)
        if changes:
            st.caption(
                "Changed: "
                + ", ".join(
                    f"{c} → {v:g}" if isinstance(v, float) else f"{c} → {v}"
                    for c, v in changes.items()
                )
                + ". A missing number counts as changed: the model saw the median for it."
            )
