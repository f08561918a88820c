"""Train page: options, start/pause/resume/stop, and live curves, gradients and boundary.

Training runs in worker processes behind the process-wide job registry; this page only
submits run requests and reads snapshots on a timer. The job id lives in the URL, so a reload
or a second tab finds it.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from playground.analysis.health import gradient_warnings
from playground.analysis.overfitting import overfitting_warning
from playground.charts.fairness_more import adversary_curves
from playground.charts.training import (
    decision_boundary,
    gradient_norms,
    learning_rate_curve,
    per_class_recall_figure,
    recall_classes,
    thin_rows,
    training_curves,
)
from playground.data.dataset import dataset_title
from playground.errors import PlaygroundError
from playground.markup import escape_markdown
from playground.model import check_model
from playground.runs import RunRequest, check_request
from playground.runs.naming import default_run_name
from playground.train.modes import get_mode
from ui.augment_preview import augment_preview_chart
from ui.module_editor import module_layers
from ui.next_step import next_step
from ui.state import current_dataset, get_dataset, registry, show_error, store
from ui.train_options import training_options
from ui.transfer_options import start_from_options, transfer_summary

# While a run trains: points per curve and points over the decision boundary.
LIVE_CURVE_POINTS = 300
LIVE_BOUNDARY_POINTS = 300
# The progress line updates every second; the charts every CHART_SECONDS. Redrawing four
# Plotly charts every second took a laptop's browser about 0.8 of a core, which a run on the
# same machine lost (bench/bench_app.py: 0.71-0.83 of the CLI's speed at 1 s, 0.93 at 2 s).
CHART_SECONDS = 2.0
# Chart heights (px) that put the progress line and all four charts on one laptop screen.
TOP_HEIGHT, BOTTOM_HEIGHT = 330, 260

st.title("Train")
dataset = current_dataset()
if dataset is None:
    st.stop()

# A job id in the URL wins (reload, shared link); else the session's last job.
job_id = st.query_params.get("job") or st.session_state.get("job_id")
if job_id:
    st.session_state["job_id"] = job_id
    st.query_params["job"] = job_id

snapshot = registry().snapshot(job_id) if job_id else None
active = snapshot is not None and snapshot.active
registry().warm()  # start the worker processes now: the first run then starts at once


def session_modules(mode: str) -> tuple[dict[str, dict], dict]:
    """The session's module specs and options for `mode` (one "model" when supervised)."""
    if mode == "supervised":
        return {"model": {"layers": st.session_state["layers"]}}, {}
    stacks = module_layers(mode)
    options = st.session_state.get("mode_options", {}).get(
        mode, dict(get_mode(mode).option_defaults)
    )
    return {name: {"layers": layers} for name, layers in stacks.items()}, options


def request_for(
    chosen: dict, modules: dict, config: dict, mode: str, options: dict, name: str = ""
) -> RunRequest:
    return RunRequest.parse(
        {
            "dataset": chosen["name"],
            "dataset_params": chosen["params"],
            "modules": modules,
            "config": config,
            "mode": mode,
            "mode_options": options,
            "name": name,
        }
    )


# The page reads top to bottom as a person uses it while a run goes: controls, then the live
# charts (one screen), then the options folded away. The options are drawn first, into the
# bottom container, because the Start button needs their values.
controls, live_area, options_area = st.container(), st.container(), st.container()
chosen = st.session_state["dataset"]
mode = st.session_state.get("mode", "supervised")
modules, mode_opts = session_modules(mode)
with options_area:
    st.divider()
    with st.expander("Training options", expanded=not job_id):
        config = training_options(dataset.sensitive_attributes, dataset)
        augment_preview_chart(dataset, config)  # what augmentation will show the model
    with st.expander("Start from a stored run (transfer learning)"):
        try:
            base = request_for(chosen, modules, config, mode, mode_opts)
        except PlaygroundError:
            start, compare = None, False
        else:
            start, compare = start_from_options(base, dataset)

with controls:
    spec_valid = True
    try:
        check_request(request_for(chosen, modules, config, mode, mode_opts), dataset)
    except PlaygroundError as exc:
        spec_valid = False
        st.error(f"The model cannot be built: {escape_markdown(exc, streamlit=True)}", icon="🔴")
        st.page_link("app_pages/build.py", label="Fix it on the Build page", icon="🧱")
    try:
        primary = next(iter(modules.values()))
        default_name = default_run_name(chosen["name"], chosen["params"], primary, config, mode)
    except PlaygroundError:
        default_name = ""
    start_col, pause_col, stop_col, name_col = st.columns([1, 1, 1, 4], vertical_alignment="bottom")
    run_name = name_col.text_input(
        "Run name",
        placeholder=default_name,
        key="run_name",
        help="Leave empty for the name shown: the dataset, the model and the options you changed.",
    )
    if start_col.button("Start training", type="primary", disabled=not spec_valid or active):
        try:
            request = request_for(chosen, modules, config, mode, mode_opts, run_name.strip())
            twin = None
            if start is None:
                job = registry().submit(request, dataset)
            else:
                named = run_name.strip() or default_name
                job = registry().submit(
                    request.model_copy(
                        update={"start_from": start, "name": f"{named} · fine-tuned"}
                    ),
                    dataset,
                )
                if compare:  # the same run from scratch, named so the two tell apart
                    scratch = request.model_copy(update={"name": f"{named} · from scratch"})
                    twin = registry().submit(scratch, dataset)
        except PlaygroundError as exc:
            show_error(exc)
        else:
            st.session_state["compare_jobs"] = {
                **st.session_state.get("compare_jobs", {}),
                **({job.id: twin.id} if twin is not None else {}),
            }
            st.session_state["job_id"] = job.id
            st.query_params["job"] = job.id
            st.rerun()

    job = registry().get(job_id) if job_id else None
    if job is not None and active:
        # The requested state, not the snapshot's: a pause takes effect a step later.
        if job.control.paused:
            if pause_col.button("Resume"):
                job.resume()
                st.rerun()
        elif pause_col.button("Pause"):
            job.pause()
            st.rerun()
        if stop_col.button("Stop"):
            job.stop()
            st.rerun()


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return (
        f" · about {seconds:.0f}s left"
        if seconds < 120
        else f" · about {seconds / 60:.0f} min left"
    )


def model_text(labels: dict[str, str]) -> str:
    """The run's layers in one line: "Linear(32) → ReLU → …", or per module for a run of
    several ("generator: Linear(64) → … · discriminator: …"). Keys are layer keys: "2", or
    "generator.2"; a residual block's inner layers ("3.0") are left out."""
    modules: dict[str, list[str]] = {}
    for key, label in labels.items():
        head, _, rest = key.partition(".")
        if head.isdigit():
            if not rest:
                modules.setdefault("", []).append(label)
        elif rest.isdigit():
            modules.setdefault(head, []).append(label)
    return " · ".join(
        (f"{name}: " if name else "") + " → ".join(layers) for name, layers in modules.items()
    )


# More final numbers than fit a row of metrics (a GAN reports 15) go in a table by split.
MAX_METRIC_COLUMNS = 8


def final_metrics_view(metrics: dict[str, float]) -> None:
    # Each class's recall goes in its own table: beside the loss and the score it would
    # push them out of the row of numbers a person reads first.
    recall = {k: v for k, v in metrics.items() if "_recall_" in k}
    main = {k: v for k, v in metrics.items() if k not in recall}
    if len(main) <= MAX_METRIC_COLUMNS:
        for col, (name, value) in zip(st.columns(len(main)), main.items(), strict=True):
            col.metric(name.replace("_", " "), f"{value:.4f}")
    else:
        _metrics_table(main)
    if recall:
        with st.expander("Recall of each class"):
            _metrics_table(recall)


def _metrics_table(metrics: dict[str, float]) -> None:
    table: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        split, _, name = key.partition("_")
        table.setdefault(name.replace("_", " "), {})[split] = value
    st.dataframe(
        pd.DataFrame(table).rename(index={"val": "validation"}),
        column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table},
    )


@st.fragment(run_every=1.0 if active else None)
def live_view(job_id: str) -> None:
    snap = registry().snapshot(job_id)
    if snap is None:
        _stored_view(job_id)
        return
    if active and not snap.active:
        st.rerun()  # finished: redraw the whole page once (buttons, no more timer)
    text = f"Run {snap.job_id} · {snap.status}"
    if snap.status == "queued":
        text += f" · waiting for a free worker (position {snap.queue_position} in the queue)"
    else:
        text += f" · epoch {snap.epoch}/{snap.epochs} · {snap.samples_per_sec:,.0f} samples/s{_eta(snap.eta_seconds)}"
    st.progress(snap.progress, text=text)
    if snap.labels:
        title = dataset_title(snap.dataset, snap.dataset_params)
        st.caption(escape_markdown(f"{title} · {model_text(snap.labels)}", streamlit=True))
    if snap.status in ("diverged", "failed"):
        st.error(escape_markdown(snap.message, streamlit=True), icon="🛑")
    elif snap.message.startswith("Not learning"):
        # Trained to the end with the stop switched off: a finished run, not a good one.
        st.warning(escape_markdown(snap.message, streamlit=True), icon="⚠️")
    elif snap.status in ("completed", "stopped", "cancelled") and snap.message:
        st.caption(f"✅ {escape_markdown(snap.message, streamlit=True)}")
    if snap.final_metrics:
        final_metrics_view(snap.final_metrics)


@st.fragment(run_every=CHART_SECONDS if active else None)
def live_charts(job_id: str) -> None:
    snap = registry().snapshot(job_id)
    if snap is None:
        return  # the stored view draws them
    # The dataset for the boundary's points, and for class names in the recall legend.
    wanted = bool(snap.boundary) or bool(recall_classes(snap.history[-1:]))
    run_data = get_dataset(snap.dataset, snap.dataset_params) if wanted else None
    _charts(
        snap.history,
        snap.records,
        snap.score_name,
        snap.boundary,
        run_data,
        snap.labels,
        live=snap.active,
    )


def _stored_view(run_id: str) -> None:
    """A run from before a server restart: show what the store kept."""
    try:
        record = store().get_run(run_id)
    except PlaygroundError as exc:
        show_error(exc)
        return
    st.progress(
        1.0 if record.status == "completed" else 0.0, text=f"Run {record.id} · {record.status}"
    )
    if record.message:
        (st.error if record.status in ("diverged", "failed", "interrupted") else st.info)(
            record.message
        )
    history = store().epochs(run_id)
    score = "r2" if any("val_r2" in row for row in history) else "acc"
    try:
        run_data = get_dataset(record.dataset, record.dataset_params)
        labels = {r.index: r.label for r in check_model(record.spec, run_data).rows}
    except PlaygroundError:
        run_data, labels = None, {}
    _charts(history, store().records(run_id), score, None, run_data, labels)


def _charts(
    history: list[dict],
    records: list[dict],
    score_name: str,
    boundary: object,
    data: object,
    labels: dict,
    live: bool = False,
) -> None:
    """The curves, gradient norms, learning rate and (2D data) decision boundary. While a run
    trains, the browser redraws them every second on the same machine as the training, so
    they draw bounded numbers of points then (bench/bench_app.py measures what it costs)."""
    if not history:
        st.caption("Curves appear after the first epoch.")
        return
    last = history[-1]
    if live:
        history, records = (
            thin_rows(history, LIVE_CURVE_POINTS),
            thin_rows(records, LIVE_CURVE_POINTS),
        )
    left, right = st.columns(2)
    left.plotly_chart(_sized(training_curves(history, score_name), TOP_HEIGHT), key="curves")
    if boundary is not None:
        points = LIVE_BOUNDARY_POINTS if live else None
        figure = decision_boundary(boundary, data, data.class_names, max_points=points)
        # At this height the legend below the plot would cover the x axis title.
        figure.update_layout(legend={"orientation": "h", "y": -0.3, "yanchor": "top"})
        right.plotly_chart(_sized(figure, TOP_HEIGHT, bottom=90), key="boundary")
    else:
        right.plotly_chart(_sized(learning_rate_curve(history), TOP_HEIGHT), key="lr")
    left2, right2 = st.columns(2)
    left2.plotly_chart(
        _sized(gradient_norms(records or history, labels), BOTTOM_HEIGHT), key="grads"
    )
    warnings = gradient_warnings(last, labels)
    overfitting = overfitting_warning(history)
    for warning in [*warnings, *([overfitting] if overfitting else [])]:
        (right2.error if warning.level == "error" else right2.warning)(warning.text)
    if boundary is not None:
        right2.plotly_chart(_sized(learning_rate_curve(history), BOTTOM_HEIGHT), key="lr2")
    if recall_classes(history[-1:]):
        # Accuracy hides a rare class the model never predicts; its recall line does not.
        names = getattr(data, "class_names", None)
        figure = _sized(per_class_recall_figure(history, names), BOTTOM_HEIGHT)
        (st if boundary is not None else right2).plotly_chart(figure, key="recall")
    if "train_adversary_loss" in last:
        # Adversarial debiasing: the adversary's loss rising towards chance is the point.
        st.plotly_chart(_sized(adversary_curves(history), BOTTOM_HEIGHT), key="adversary")


def _sized(figure: go.Figure, height: int, bottom: int = 40) -> go.Figure:
    return figure.update_layout(height=height, margin={"t": 40, "b": bottom})


with live_area:
    if job_id:
        live_view(job_id)
        live_charts(job_id)
        transfer_summary(job_id, st.session_state.get("compare_jobs", {}).get(job_id))
    else:
        st.info(
            "Press **Start training** (the options are below). Progress updates every second, "
            "the curves every two seconds."
        )
next_step(
    "train" if st.session_state.get("mode", "supervised") == "supervised" else "train_generative"
)
