"""Runs page: every stored run; compare curves, open one in the other pages, delete."""

from __future__ import annotations

import time

import streamlit as st

from playground.charts.training import compare_runs
from playground.errors import PlaygroundError
from playground.model import ModelSpec
from playground.model.shorthand import format_layers
from ui.layer_editor import set_layers
from ui.state import registry, show_error, store

st.title("Runs")
runs = store().list_runs()
if not runs:
    st.info("No runs yet: train a model on the Train page and it appears here.")
    st.stop()


def _model_text(spec: dict) -> str:
    try:
        return format_layers(ModelSpec.parse(spec))
    except PlaygroundError:
        return "?"


def _score(metrics: dict) -> str:
    for key in ("test_acc", "test_r2"):
        if key in metrics:
            return f"{key.removeprefix('test_')} {metrics[key]:.3f}"
    return ""


table = [
    {
        "run": r.id,
        "name": r.name,
        "status": r.status,
        "dataset": r.dataset,
        "model": _model_text(r.spec),
        "params": r.param_count,
        "epochs": r.epochs_done,
        "test": _score(r.final_metrics),
        "seconds": round(r.duration, 1),
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created_at)),
    }
    for r in runs
]
st.dataframe(table, hide_index=True)
ids = [r.id for r in runs]
by_id = {r.id: r for r in runs}

st.subheader("Compare")
chosen = st.multiselect("Runs to compare", ids, default=ids[: min(2, len(ids))])
if chosen:
    histories = {f"{rid} ({by_id[rid].dataset})": store().epochs(rid) for rid in chosen}
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
target = st.selectbox("Run", ids, key="target_run")
open_col, delete_col, _ = st.columns([1, 1, 4])
if open_col.button("Open in the other pages", type="primary"):
    record = by_id[target]
    st.session_state["dataset"] = {"name": record.dataset, "params": record.dataset_params}
    st.session_state.pop("dataset_choice", None)  # the Data page re-reads the dataset
    set_layers(record.spec["layers"])
    st.session_state["config"] = record.config
    st.session_state["job_id"] = record.id
    st.query_params["job"] = record.id
    st.switch_page("pages/train.py")

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
