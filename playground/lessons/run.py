"""Training a lesson's runs headless, and finding a lesson's stored runs again.

The app submits the same requests (`Lesson.request_for`) to its job registry instead; both
ways end in ordinary stored runs whose lineage says {"lesson": id, "variant": name}.
"""

from __future__ import annotations

import time

from playground.lessons.base import Lesson, LessonResults, VariantResult
from playground.runs import run_request
from playground.store import RunStore

# A run that ended by itself has its numbers; 'diverged' is a result a lesson may show.
USABLE = ("completed", "diverged", "stopped")


def run_lesson(lesson: Lesson, store: RunStore) -> LessonResults:
    """Train every variant in this process (tests, notebooks, the CLI), in dependency order."""
    run_ids: dict[str, str] = {}
    while len(run_ids) < len(lesson.variants):
        ready = lesson.ready(run_ids, set(run_ids))
        if not ready:
            raise ValueError(f"lesson {lesson.id!r}: variants need runs that never come")
        for variant in ready:
            run_ids[variant.name] = run_request(lesson.request_for(variant, run_ids), store).run_id
    return results_for(lesson, store, run_ids)


def results_for(lesson: Lesson, store: RunStore, run_ids: dict[str, str]) -> LessonResults:
    """The lesson's results from the given stored runs (variant name -> run id)."""
    runs = {}
    for variant in lesson.variants:
        record = store.get_run(run_ids[variant.name])
        runs[variant.name] = VariantResult(variant, record, store.epochs(record.id))
    return LessonResults(store, runs)


def stored_run_ids(lesson: Lesson, store: RunStore) -> dict[str, str] | None:
    """The newest finished run of each variant of the lesson in the store, or None unless every
    variant has one (a lesson's verdict needs all of its runs)."""
    newest: dict[str, tuple[float, str]] = {}
    for record in store.list_runs():
        if record.lineage.get("lesson") != lesson.id or record.status not in USABLE:
            continue
        name = record.lineage.get("variant")
        if name in newest and newest[name][0] >= record.created_at:
            continue
        newest[name] = (record.created_at, record.id)
    if any(v.name not in newest for v in lesson.variants):
        return None
    return {name: run_id for name, (_, run_id) in newest.items()}


def timed_run(lesson: Lesson, store: RunStore) -> tuple[LessonResults, float]:
    """`run_lesson` and its wall-clock seconds (the run times the page and README quote)."""
    start = time.perf_counter()
    results = run_lesson(lesson, store)
    return results, time.perf_counter() - start
