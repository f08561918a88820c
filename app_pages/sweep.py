"""Sweep page: search training options and layer parameters of the session's model with
Optuna. Each trial is a run request trained by the executor's workers (or a Ray cluster) and
stored like any run; the sweep's driver is a thread of the server that only submits requests
and reads results, so a reloaded page finds its sweep again.
"""

from __future__ import annotations

import streamlit as st

from playground.errors import PlaygroundError
from playground.runs import RunRequest
from playground.sweeps import SweepConfig, default_sweeps
from ui.next_step import next_step
from ui.state import current_dataset, registry, session_setup_caption, show_error
from ui.sweep_space import space_editor, sweep_settings
from ui.sweep_view import sweep_view

st.title("Sweep")
dataset = current_dataset()
if dataset is None:
    st.stop()
registry().warm()

chosen = st.session_state["dataset"]
layers = st.session_state["layers"]
config = st.session_state["config"]
session_setup_caption(" are every trial's starting point")

# A link with ?sweep=ID (every sweep sets it) finds the sweep after a reload.
if st.query_params.get("sweep") and not st.session_state.get("sweep_id"):
    st.session_state["sweep_id"] = st.query_params["sweep"]

sweeps = default_sweeps()
stored = sweeps.sweeps.list(limit=50)
current = st.session_state.get("sweep_id")

with st.expander("New sweep", expanded=current is None):
    st.markdown(
        "Pick what varies and how; each trial trains your model with one combination. "
        "**TPE** learns from earlier trials where to look next; **pruning** stops a trial "
        "whose validation score lags the others' at the same epoch, freeing its worker."
    )
    space = None
    try:
        space = space_editor(layers, config)
    except PlaygroundError as exc:
        show_error(exc)
    settings = sweep_settings(registry().max_workers)
    if st.button("Start the sweep", type="primary", key="sw_start", disabled=space is None):
        try:
            base = RunRequest.parse(
                {
                    "dataset": chosen["name"],
                    "dataset_params": chosen["params"],
                    "modules": {"model": {"layers": layers}},
                    "config": config,
                }
            )
            sweep = SweepConfig.parse({"base": base, "space": space, **settings})
            driver = sweeps.start(sweep)
        except PlaygroundError as exc:
            show_error(exc)
        else:
            st.session_state["sweep_id"] = driver.sweep_id
            st.query_params["sweep"] = driver.sweep_id
            st.rerun()

if stored:
    ids = [r.id for r in stored]
    by_id = {r.id: r for r in stored}
    if current not in by_id:
        current = None
    picked = st.selectbox(
        "Sweep",
        ids,
        index=ids.index(current) if current else 0,
        format_func=lambda i: (
            f"{by_id[i].name or i} · {by_id[i].status}" + (f" ({i})" if by_id[i].name else "")
        ),
        key="sw_pick",
    )
    if picked != current:
        st.session_state["sweep_id"] = picked
        st.query_params["sweep"] = picked
    sweep_view(picked)
else:
    st.info("No sweeps yet: define one above and press **Start the sweep**.")

next_step("runs")
