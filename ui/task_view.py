"""Show a background task (playground.tasks) on a page: progress, Cancel, errors, result.

The task runs in a worker thread; the page polls it from a fragment every half second and
reruns itself once when it finishes, so the rest of the page can draw the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from playground.explain.base import Progress
from playground.tasks import Task, default_tasks


def start_task(key: str, fn: Callable[[Progress], Any]) -> Task:
    """Submit fn under key (or find the running / finished task with that key)."""
    return default_tasks().submit(key, fn)


def task_result(key: str, label: str) -> Any | None:
    """The task's result when done; while it runs, a progress bar with a Cancel button.
    Shows the error of a failed task and returns None for missing, running or failed ones."""
    task = default_tasks().get(key)
    if task is None:
        return None
    if task.status == "done":
        return task.result
    if task.status == "failed":
        st.error(f"{label} failed: {task.error}" + (f"\n\n{task.hint}" if task.hint else ""))
        return None
    if task.status == "cancelled":
        st.info(f"{label} was cancelled.")
        return None
    _progress(key, label)
    return None


@st.fragment(run_every=0.5)
def _progress(key: str, label: str) -> None:
    task = default_tasks().get(key)
    if task is None or task.done:
        st.rerun()  # finished: draw the whole page with the result
        return
    bar, cancel = st.columns([5, 1])
    bar.progress(task.fraction, text=f"{label}: {task.message} ({task.seconds:.1f} s)")
    if cancel.button("Cancel", key=f"cancel_{key}"):
        task.cancel()
        st.rerun()
