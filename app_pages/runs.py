"""Runs page: every stored run; compare curves, open one in the other pages, delete."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from playground.charts.training import compare_runs
from playground.data.dataset import dataset_title
from playground.errors import PlaygroundError
from playground.runs.naming import lineage_words, model_summary
from playground.store import RunRecord
from ui.layer_editor import set_layers
from ui.next_step import next_step
from ui.state import registry, show_error, store

st.title("Runs")
runs = store().list_runs()
if not runs:
    st.info("No runs yet: train a model on the Train page and it appears here.")
    st.stop()


def _score(metrics: dict) -> float | None:
    return next((metrics[k] for k in ("test_acc", "test_r2") if k in metrics), None)


def _label(record: RunRecord) -> str:
    """A run's whole name in pickers, with what tells it apart when names repeat."""
    return f"{record.name or record.id} · {record.status} ({record.id})"


names = {r.id: r.name or r.id for r in runs}
table = pd.DataFrame(
    [
        {
            "name": r.name or r.id,
            "comes from": lineage_words(r.lineage, names),
            "dataset": dataset_title(r.dataset, r.dataset_params),
            "model": model_summary(r.spec),
            "optimiser": r.config.get("optimizer"),
            "learning rate": r.config.get("lr"),
            "batch size": r.config.get("batch_size"),
            "epochs": r.epochs_done,
            "test score": _score(r.final_metrics),
            "status": r.status,
            "parameters": r.param_count,
            "seconds": round(r.duration, 1),
            "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at)),
            "run": r.id,
        }
        for r in runs
    ]
)
search_col, dataset_col, status_col = st.columns([2, 1, 1])
search = search_col.text_input(
    "Filter", placeholder="part of a name, a model or an option, e.g. 'lr 0.001' or 'CNN'"
)
datasets = dataset_col.multiselect("Dataset", sorted(set(table["dataset"])))
statuses = status_col.multiselect("Status", sorted(set(table["status"])))
shown = table
if search:
    text = shown.astype(str).agg(" ".join, axis=1)
    shown = shown[text.str.contains(search, case=False, regex=False)]
if datasets:
    shown = shown[shown["dataset"].isin(datasets)]
if statuses:
    shown = shown[shown["status"].isin(statuses)]
st.caption(f"{len(shown)} of {len(table)} runs. The test score is accuracy, or R² for regression.")
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        "name": st.column_config.TextColumn(width="large"),
        "test score": st.column_config.NumberColumn(format="%.3f"),
        "learning rate": st.column_config.NumberColumn(format="%g"),
    },
)
ids = [r.id for r in runs if r.id in set(shown["run"])] or [r.id for r in runs]
by_id = {r.id: r for r in runs}

st.subheader("Compare")
chosen = st.multiselect(
    "Runs to compare",
    ids,
    default=ids[: min(2, len(ids))],
    format_func=lambda i: _label(by_id[i]),
)
if chosen:
    names = [by_id[rid].name or rid for rid in chosen]
    # A repeated name gets its run id, so two curves never merge into one legend entry.
    histories = {
        name if names.count(name) == 1 else f"{name} ({rid})": store().epochs(rid)
        for name, rid in zip(names, chosen, strict=True)
    }
    metrics = sorted(
        {
            k
            for h in histories.values()
            for row in h
            for k in row
            if k.startswith(("train_", "val_")) or k == "lr"
        }
    )
    if metrics:
        metric = st.selectbox(
            "Metric", metrics, index=metrics.index("val_loss") if "val_loss" in metrics else 0
        )
        st.plotly_chart(compare_runs(histories, metric), key="compare")

st.subheader("Open or delete")
target = st.selectbox("Run", ids, key="target_run", format_func=lambda i: _label(by_id[i]))
open_col, delete_col, _ = st.columns([1, 1, 4])
if open_col.button("Open in the other pages", type="primary"):
    record = by_id[target]
    st.session_state["dataset"] = {"name": record.dataset, "params": record.dataset_params}
    st.session_state.pop("dataset_choice", None)  # the Data page re-reads the dataset
    set_layers(record.spec["layers"])
    st.session_state["config"] = record.config
    st.session_state["job_id"] = record.id
    st.query_params["job"] = record.id
    st.switch_page("app_pages/train.py")

if delete_col.button("Delete…"):
    st.session_state["confirm_delete"] = target
pending = st.session_state.get("confirm_delete")
if pending:
    job = registry().get(pending)
    if job is not None and job.snapshot().active:
        st.warning(f"Run {pending} is still training: stop it on the Train page before deleting.")
        st.session_state["confirm_delete"] = None
    else:
        st.warning(f"Delete run {pending} with its history and weights? This cannot be undone.")
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button("Yes, delete"):
            try:
                store().delete_run(pending)
            except PlaygroundError as exc:
                show_error(exc)
            st.session_state["confirm_delete"] = None
            if st.session_state.get("job_id") == pending:
                st.session_state["job_id"] = None
                st.query_params.pop("job", None)
            st.rerun()
        if no.button("Cancel"):
            st.session_state["confirm_delete"] = None
            st.rerun()

next_step("runs")
