"""Choose a stored run for the Inspect, Explain and Fairness pages, and load it once.

The choice follows `?run=` in the URL (shareable, survives reloads), then the session's
current job, then the newest run with weights. A run still training is loaded from its
latest checkpoint: the cache key includes the weights file's modification time.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from playground.errors import PlaygroundError
from playground.markup import escape_markdown
from playground.runner import LoadedRun, load_run
from playground.store import RunRecord
from ui.state import show_error, store


@st.cache_resource(max_entries=8, show_spinner="Loading the run...")
def load_cached(run_id: str, weights_version: int) -> LoadedRun:
    """The run's dataset and model, shared by sessions (read-only); a new checkpoint
    (a new `weights_version`) loads afresh."""
    return load_run(run_id, store())


def weights_version(run_id: str) -> int:
    path = store().weights_path(run_id)
    return path.stat().st_mtime_ns if path.exists() else 0


def run_label(record: RunRecord) -> str:
    score = next(
        (
            f", {k.removeprefix('test_')} {v:.3f}"
            for k, v in record.final_metrics.items()
            if k in ("test_acc", "test_r2")
        ),
        "",
    )
    return f"{record.name or record.id} · {record.status}{score} ({record.id})"


def pick_run(
    title: str = "Run", accept: Callable[[RunRecord], str | None] | None = None
) -> LoadedRun | None:
    """A run selector in the sidebar; returns the loaded run or None (with a message shown).

    `accept(record)` may return a reason a run does not fit this page (e.g. not binary);
    such runs are listed but explained instead of loaded.
    """
    runs = [r for r in store().list_runs() if store().has_weights(r.id)]
    if not runs:
        st.info("No trained runs yet: train a model on the Train page, then come back here.")
        return None
    ids = [r.id for r in runs]
    by_id = {r.id: r for r in runs}
    wanted = st.query_params.get("run") or st.session_state.get("job_id")
    index = ids.index(wanted) if wanted in ids else 0
    run_id = st.sidebar.selectbox(
        title, ids, index=index, format_func=lambda i: run_label(by_id[i]), key="picked_run"
    )
    # The sidebar cuts a long name short inside the box: the whole of it, wrapped, below.
    st.sidebar.caption(escape_markdown(run_label(by_id[run_id]), streamlit=True))
    st.query_params["run"] = run_id
    record = by_id[run_id]
    reason = accept(record) if accept else None
    if reason:
        st.info(reason)
        return None
    if record.status in ("running", "paused"):
        st.caption("This run is still training: showing its latest checkpoint.")
    try:
        return load_cached(run_id, weights_version(run_id))
    except PlaygroundError as exc:
        show_error(exc)
        return None
