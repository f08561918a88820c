"""The Learn page's pieces: the list of lessons, one lesson's setup, its runs' progress, and
its comparison, verdict and 'what to try next'.

Runs are submitted to the job registry (its workers train them); this module only reads their
snapshots and, once they are stored, the lesson's numbers. A lesson's verdict is computed from
the stored runs each time it is shown.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground.errors import PlaygroundError
from playground.lessons import LESSONS, Lesson, LessonResults, results_for, stored_run_ids
from playground.lessons.run import USABLE
from playground.markup import escape_markdown
from playground.model.shorthand import format_layers
from playground.runs import RunRequest
from playground.train import TrainConfig
from ui.layer_editor import set_layers
from ui.state import registry, show_error, store

LIVE_SECONDS = 1.0
PAGES = {"build": "app_pages/build.py", "train": "app_pages/train.py"}
PAGE_TITLES = {"build": "Build", "train": "Train"}


def esc(text: object) -> str:
    return escape_markdown(str(text), streamlit=True)


def lesson_list() -> None:
    """Every lesson by topic, each a link to itself (?lesson=id, a shareable address)."""
    topics: dict[str, list[Lesson]] = {}
    for lesson in LESSONS.values():
        topics.setdefault(lesson.topic, []).append(lesson)
    for topic, lessons in topics.items():
        st.subheader(esc(topic))
        for lesson in lessons:
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(f"**{esc(lesson.title)}**  \n{esc(lesson.question)}")
            if right.button("Open", key=f"open_{lesson.id}"):
                st.query_params["lesson"] = lesson.id
                st.rerun()


def _config_summary(config: TrainConfig) -> str:
    """The options that differ from the defaults, as 'name value' pairs."""
    default = TrainConfig().model_dump()
    parts = []
    for name, value in config.model_dump().items():
        if value != default[name] and name not in ("stop_when_not_learning",):
            parts.append(f"{TrainConfig.title(name)} {value}")
    return ", ".join(parts)


def setup_table(lesson: Lesson) -> None:
    """What each variant trains: data, model in shorthand, options."""
    placeholder = {v.name: "(stored run)" for v in lesson.variants}
    rows = []
    for variant in lesson.variants:
        request = lesson.request_for(variant, placeholder)
        model = "; ".join(f"{n}: {format_layers(s)}" for n, s in request.modules.items())
        params = ", ".join(f"{k}={v}" for k, v in request.dataset_params.items())
        rows.append(
            {
                "run": variant.name,
                "data": f"{request.dataset} ({params})" if params else request.dataset,
                "mode": request.mode,
                "model": model,
                "training": _config_summary(request.config),
            }
        )
    st.dataframe(rows, hide_index=True, width="stretch")


def _runs_key(lesson: Lesson) -> str:
    return f"lesson_runs_{lesson.id}"


def start_lesson(lesson: Lesson) -> None:
    """Submit every variant that needs no other run; the rest follow as those finish."""
    st.session_state[_runs_key(lesson)] = {}
    submit_ready(lesson)


def submit_ready(lesson: Lesson) -> None:
    run_ids: dict[str, str] = st.session_state[_runs_key(lesson)]
    done = {n for n, r in run_ids.items() if _finished(r)}
    for variant in lesson.ready(run_ids, done):
        job = registry().submit(lesson.request_for(variant, run_ids))
        run_ids[variant.name] = job.id


def _status(run_id: str) -> str:
    snap = registry().snapshot(run_id)
    if snap is not None:
        return (
            snap.status if not snap.active else ("running" if snap.status != "queued" else "queued")
        )
    try:
        return store().get_run(run_id).status
    except PlaygroundError:
        return "missing"


def _finished(run_id: str) -> bool:
    snap = registry().snapshot(run_id)
    if snap is not None:
        return not snap.active and snap.status in USABLE
    return _status(run_id) in USABLE


def progress(lesson: Lesson) -> bool:
    """Draw the lesson's runs as they train; True once every run has finished."""
    run_ids: dict[str, str] = st.session_state[_runs_key(lesson)]
    all_done = len(run_ids) == len(lesson.variants) and all(_finished(r) for r in run_ids.values())
    if all_done:
        return True

    @st.fragment(run_every=LIVE_SECONDS)
    def live() -> None:
        try:
            submit_ready(lesson)
        except PlaygroundError as exc:
            show_error(exc)
            return
        rows = []
        for variant in lesson.variants:
            run_id = run_ids.get(variant.name)
            snap = registry().snapshot(run_id) if run_id else None
            status = "waiting for an earlier run" if run_id is None else _status(run_id)
            epoch = f"{snap.epoch}/{snap.epochs}" if snap is not None else ""
            rows.append({"run": variant.name, "status": status, "epoch": epoch})
        finished = sum(1 for r in run_ids.values() if _finished(r))
        st.progress(
            finished / len(lesson.variants), text=f"{finished} of {len(lesson.variants)} runs done"
        )
        st.dataframe(rows, hide_index=True, width="stretch")
        failed = [r for r in rows if r["status"] in ("failed", "cancelled", "interrupted")]
        if failed:
            st.error(
                f"Run '{esc(failed[0]['run'])}' ended {failed[0]['status']}. Run the lesson again."
            )
            return
        if finished == len(lesson.variants):
            st.rerun()  # the whole page: the comparison replaces the progress

    live()
    return False


def results_view(lesson: Lesson, run_ids: dict[str, str]) -> None:
    """The comparison figures, the verdict, and what to try next."""
    try:
        results = results_for(lesson, store(), run_ids)
        verdict = lesson.verdict(results)
        figures = lesson.compare(results)
    except (PlaygroundError, KeyError) as exc:
        st.warning(f"This lesson's runs cannot be read ({esc(exc)}). Run the lesson again.")
        return
    st.subheader("The answer")
    st.success(esc(verdict), icon="💡")
    columns = st.columns(2)
    for k, figure in enumerate(figures):
        figure.update_layout(height=380)
        columns[k % 2].plotly_chart(figure, key=f"lesson_fig_{lesson.id}_{k}")
    try_next(lesson, results)


def try_next(lesson: Lesson, results: LessonResults) -> None:
    st.subheader("What to try next")
    run_ids = {n: r.run_id for n, r in results.runs.items()}
    for k, link in enumerate(lesson.try_next):
        left, right = st.columns([4, 2], vertical_alignment="center")
        left.markdown(f"{esc(link.text)} (setup: *{esc(link.variant)}*)")
        label = f"Open in {PAGE_TITLES[link.page]}"
        if right.button(label, key=f"try_{lesson.id}_{k}"):
            request = lesson.variant(link.variant).build(run_ids)
            load_into_session(request)
            st.switch_page(PAGES[link.page])


def load_into_session(request: RunRequest) -> None:
    """Make the request the session's dataset, model(s), mode and training options, as the
    Data, Build and Train pages read them (their widgets re-read these)."""
    ss = st.session_state
    ss["dataset"] = {"name": request.dataset, "params": dict(request.dataset_params)}
    for key in ("dataset_choice", "data_group"):
        ss.pop(key, None)  # the Data page re-reads the dataset
    ss["config"] = request.config.model_dump()
    for key in [k for k in ss if str(k).startswith("cfg_")]:
        del ss[key]  # the Train page's widgets start from the new options
    ss["mode"] = request.mode
    stacks = {n: s.model_dump()["layers"] for n, s in request.modules.items()}
    if request.mode == "supervised":
        set_layers(stacks["model"])
    else:
        ss.setdefault("module_layers", {})[request.mode] = stacks
        ss.setdefault("mode_options", {})[request.mode] = dict(request.mode_options)
        for key in [k for k in ss if str(k).startswith(f"mode_{request.mode}_")]:
            del ss[key]


def lesson_view(lesson: Lesson) -> None:
    st.page_link("app_pages/learn.py", label="All lessons", icon=":material/arrow_back:")
    st.header(esc(lesson.title))
    st.markdown(f"**{esc(lesson.question)}**")
    st.markdown(esc(lesson.explanation))
    with st.expander("The setup: the runs this lesson trains", expanded=False):
        setup_table(lesson)
        st.caption(
            f"{len(lesson.variants)} runs, about {lesson.seconds:g} s of training on one CPU "
            "core. They are stored like any run (Runs page), named after this lesson."
        )
    key = _runs_key(lesson)
    if st.button("Run this lesson", type="primary", key=f"run_{lesson.id}"):
        try:
            start_lesson(lesson)
        except PlaygroundError as exc:
            show_error(exc)
            return
    run_ids: dict[str, Any] | None = st.session_state.get(key)
    if run_ids:
        if not progress(lesson):
            return
    else:
        run_ids = stored_run_ids(lesson, store())
        if run_ids is None:
            st.info(
                "Press **Run this lesson**: its runs train in the background, then the answer shows here."
            )
            return
        st.caption(
            "From this lesson's latest stored runs; press Run this lesson to train them again."
        )
    results_view(lesson, dict(run_ids))
