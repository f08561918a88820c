"""What the Sweep page draws of a sweep: its controls (pause, resume, stop), a live table of
trials, the optimisation history, every trial's curve, parameters against the score, the
parameters' importances, and the best trial, each trial opening in the other pages.

The sweep's driver thread lives in the server process (playground.sweeps.default_sweeps);
this reads the sweep store and Optuna's storage on a timer, like the Train page reads a job.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from playground.charts.sweep import (
    importance_bars,
    metric_title,
    optimisation_history,
    parallel_coordinates,
    trial_curves,
)
from playground.errors import PlaygroundError
from playground.markup import escape_markdown
from playground.sweeps import (
    SweepRecord,
    TrialRow,
    best_trial,
    default_sweeps,
    importances,
    load_trials,
)
from playground.sweeps.study import MIN_TRIALS_FOR_IMPORTANCE
from ui.layer_editor import set_layers
from ui.state import show_error, store

LIVE_SECONDS = 1.5


def _sized(figure: Any, height: int = 360) -> Any:
    return figure.update_layout(height=height, margin={"t": 50, "b": 40})


def trials_table(rows: list[TrialRow], metric: str) -> pd.DataFrame:
    """One row per trial: state, score, epochs, pruned, each parameter, the run."""
    return pd.DataFrame(
        [
            {
                "trial": r.number,
                "state": r.state,
                metric: r.value,
                "epochs": r.epochs,
                "pruned": r.pruned,
                **{k: v for k, v in r.params.items()},
                "run": r.run_id or "",
                "note": r.message,
            }
            for r in rows
        ]
    )


def controls(record: SweepRecord) -> None:
    """Pause / Resume / Stop for a sweep driven here; Resume for a stored one that ended
    before its budget (stopped, interrupted, paused by a server that restarted)."""
    sweeps = default_sweeps()
    driver = sweeps.get(record.id)
    alive = driver is not None and driver.alive
    cols = st.columns([1, 1, 1, 4])
    try:
        if alive and not driver.paused and cols[0].button("Pause", key="sw_pause"):
            driver.pause()
            st.rerun()
        can_resume = (alive and driver.paused) or (
            not alive and record.status in ("stopped", "interrupted", "paused", "failed")
        )
        if can_resume and cols[1].button("Resume", key="sw_resume", type="primary"):
            sweeps.resume(record.id)
            st.rerun()
        if alive and cols[2].button("Stop", key="sw_stop"):
            driver.stop()
            st.rerun()
    except PlaygroundError as exc:
        show_error(exc)


def sweep_view(sweep_id: str) -> None:
    sweeps = default_sweeps()
    try:
        record = sweeps.sweeps.get(sweep_id)
    except PlaygroundError as exc:
        show_error(exc)
        return
    driver = sweeps.get(sweep_id)
    live = driver is not None and driver.alive
    controls(record)

    @st.fragment(run_every=LIVE_SECONDS if live else None)
    def progress() -> None:
        current = sweeps.sweeps.get(sweep_id)
        still = sweeps.get(sweep_id) is not None and sweeps.get(sweep_id).alive
        if live and not still:
            st.rerun()  # ended: redraw the whole page (controls, importances)
        rows = load_trials(current, sweeps.sweeps)
        _progress(current, rows)
        _charts(current, rows)

    progress()
    if not live:
        rows = load_trials(record, sweeps.sweeps)
        _analysis(record, rows)


def _progress(record: SweepRecord, rows: list[TrialRow]) -> None:
    budget = record.config.trial_budget
    finished = sum(r.state in ("complete", "pruned", "failed") for r in rows)
    running = sum(r.state == "running" for r in rows)
    pruned = sum(r.pruned for r in rows)
    st.progress(
        min(finished / max(budget, 1), 1.0),
        text=f"Sweep {record.id} · {record.status} · {finished} of {budget} trials finished"
        f" · {running} running · {pruned} pruned",
    )
    if record.message:
        box = st.error if record.status == "failed" else st.caption
        box(escape_markdown(record.message, streamlit=True))
    if not rows:
        st.info("The first trials are starting: their rows appear here as they train.")
        return
    table = trials_table(rows, record.metric)
    st.caption(
        f"Trials: {len(rows)} ({finished} finished, {running} running). "
        f"The score is the {metric_title(record.metric)} ({record.direction}d); a pruned "
        "trial was stopped early because its score lagged the others' at the same epoch."
    )
    st.dataframe(
        table,
        hide_index=True,
        key="sw_table",
        column_config={record.metric: st.column_config.NumberColumn(format="%.4f")},
    )


def _charts(record: SweepRecord, rows: list[TrialRow]) -> None:
    if not rows:
        return
    left, right = st.columns(2)
    left.plotly_chart(
        _sized(optimisation_history(rows, record.metric, record.direction)), key="sw_history"
    )
    right.plotly_chart(_sized(trial_curves(rows, record.metric)), key="sw_curves")


@st.cache_data(max_entries=32, show_spinner="Computing parameter importances...")
def _importances(root: str, sweep_id: str, complete: int) -> dict[str, float]:
    from playground.sweeps import SweepStore

    sweeps = SweepStore(root)
    return importances(sweeps.get(sweep_id), sweeps)


def _analysis(record: SweepRecord, rows: list[TrialRow]) -> None:
    """Once the sweep is not running: parameters against the score, importances, the best
    trial, and opening any trial in the other pages."""
    complete = [r for r in rows if r.state == "complete"]
    if len(complete) >= 2 and record.config.space.varying:
        left, right = st.columns(2)
        left.plotly_chart(
            _sized(
                parallel_coordinates(rows, record.config.space, record.metric, record.direction)
            ),
            key="sw_parallel",
        )
        shares = _importances(str(store().root), record.id, len(complete))
        if shares:
            right.plotly_chart(_sized(importance_bars(shares)), key="sw_importance")
        else:
            right.info(
                f"Parameter importances need at least {MIN_TRIALS_FOR_IMPORTANCE} complete "
                "trials whose parameters differ."
            )
    best = best_trial(rows, record.direction)
    if best is not None:
        st.metric(
            f"best trial: {best.number}, {metric_title(record.metric)}",
            f"{best.value:.4f}",
        )
        st.caption(
            escape_markdown(
                "Parameters: " + ", ".join(f"{k} = {_short(v)}" for k, v in best.params.items()),
                streamlit=True,
            )
        )
    with_runs = [r for r in rows if r.run_id]
    if not with_runs:
        return
    st.subheader("Open a trial")
    default = with_runs.index(best) if best in with_runs else 0
    pick = st.selectbox(
        "Trial",
        range(len(with_runs)),
        index=default,
        format_func=lambda i: (
            f"trial {with_runs[i].number} · {with_runs[i].state} · "
            f"{_short(with_runs[i].value)} · run {with_runs[i].run_id}"
        ),
        key="sw_open_trial",
    )
    if st.button("Open in the other pages", key="sw_open", type="primary"):
        open_run(with_runs[pick].run_id or "")


def open_run(run_id: str) -> None:
    """Make a trial's run the session's run (dataset, model, options), as the Runs page
    does, and go to the Train page; Inspect, Explain and Fairness then show it."""
    try:
        record = store().get_run(run_id)
    except PlaygroundError as exc:
        show_error(exc)
        return
    st.session_state["dataset"] = {"name": record.dataset, "params": record.dataset_params}
    st.session_state.pop("dataset_choice", None)  # the Data page re-reads the dataset
    set_layers(record.spec["layers"])
    st.session_state["config"] = record.config
    st.session_state["job_id"] = record.id
    st.query_params["job"] = record.id
    st.switch_page("app_pages/train.py")


def _short(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
