"""What the Ensembles & CV page draws of its runs: an ensemble's scores against its members'
and (2-D data) where the members disagree; a cross-validation's per-fold curves and its mean
± std. The runs train in the executor's workers; these read the store and the job registry."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from playground.analysis.ensemble import disagreement_grid, ensemble_scores
from playground.charts.ensemble import (
    disagreement_map,
    ensemble_vs_members,
    fold_curves,
    fold_scores,
)
from playground.charts.training import SCORE_TITLES
from playground.errors import PlaygroundError
from playground.markup import escape_markdown
from playground.runs.cross_validation import summarise_runs
from ui.run_picker import load_cached, weights_version
from ui.state import registry, show_error, store

LIVE_SECONDS = 1.5
ACTIVE = ("queued", "running", "paused", "pending")
ENDED = ("completed", "stopped", "failed", "diverged", "interrupted", "cancelled")


def _sized(figure: go.Figure, height: int = 380) -> go.Figure:
    return figure.update_layout(height=height)


def _active(run_ids: list[str]) -> bool:
    snaps = [registry().snapshot(i) for i in run_ids]
    return any(s is not None and s.active for s in snaps)


def ensemble_results(run_id: str) -> None:
    """Progress while the ensemble trains, then its charts from the stored weights."""
    active = _active([run_id])

    @st.fragment(run_every=LIVE_SECONDS if active else None)
    def progress() -> None:
        snap = registry().snapshot(run_id)
        if snap is not None and snap.active:
            st.progress(
                snap.progress,
                text=f"Ensemble run {run_id} · {snap.status} · epoch {snap.epoch}/{snap.epochs}",
            )
        elif active:
            st.rerun()  # finished: draw the charts once

    progress()
    if active:
        return
    try:
        record = store().get_run(run_id)
    except PlaygroundError as exc:
        show_error(exc)
        return
    if record.status not in ("completed", "stopped") or not record.final_metrics:
        st.error(
            escape_markdown(
                f"Run {run_id} ended {record.status}: {record.message}", streamlit=True
            ),
            icon="🛑",
        )
        return
    metrics = record.final_metrics
    score = "r2" if "val_r2" in metrics else "acc"
    val = ensemble_scores(metrics, "val", score)
    test = ensemble_scores(metrics, "test", score)
    words = SCORE_TITLES.get(score, score)
    cols = st.columns(3)
    cols[0].metric(
        f"ensemble, validation {words}",
        f"{val.ensemble:.4f}",
        delta=f"{val.gain:+.4f} against its members' mean",
    )
    cols[1].metric(f"members' mean, validation {words}", f"{val.mean_member:.4f}")
    cols[2].metric(f"ensemble, test {words}", f"{test.ensemble:.4f}")
    left, right = st.columns(2)
    left.plotly_chart(_sized(ensemble_vs_members(val)), key="ens_scores")
    loaded = load_cached(run_id, weights_version(run_id))
    if loaded.dataset.kind == "toy2d" and tuple(loaded.dataset.input_shape) == (2,):
        grid = disagreement_grid(loaded.model, loaded.dataset)
        right.plotly_chart(_sized(disagreement_map(grid, loaded.dataset)), key="ens_map")
        right.caption(
            "Dark where the members disagree: far from the data, and along the boundary. "
            "There the ensemble's answer is least certain."
        )
    else:
        right.plotly_chart(_sized(ensemble_vs_members(test)), key="ens_test_scores")
        right.caption("The disagreement map needs 2-D data (circle, moons, spiral...).")
    st.caption(
        f"Run {run_id}: open it on Inspect, Explain or Fairness as one model (the mean of "
        "its members)."
    )


def cv_results(run_ids: list[str]) -> None:
    """The folds' progress and curves while they train (from the store), then the final
    validation score of each fold with the mean ± std."""
    active = _active(run_ids)

    @st.fragment(run_every=LIVE_SECONDS if active else None)
    def folds() -> None:
        still = _active(run_ids)
        if active and not still:
            st.rerun()
        try:
            cv = summarise_runs(store(), run_ids)
        except PlaygroundError as exc:
            show_error(exc)
            return
        done = sum(r.status in ENDED for r in cv.results)
        st.progress(done / max(cv.folds, 1), text=f"{done} of {cv.folds} folds finished")
        failed = [r for r in cv.results if r.status not in ("completed", "stopped", *ACTIVE)]
        for r in failed:
            st.warning(f"Fold {r.fold + 1} (run {r.run_id}) ended {r.status}.")
        left, right = st.columns(2)
        left.plotly_chart(_sized(fold_curves(cv)), key="cv_curves")
        if cv.scores():
            right.plotly_chart(_sized(fold_scores(cv)), key="cv_scores")
        if cv.complete:
            st.metric(
                f"validation {SCORE_TITLES.get(cv.score_name, cv.score_name)} over {cv.folds} "
                "folds (mean ± std)",
                f"{cv.mean():.4f} ± {cv.std():.4f}",
            )
            st.caption(
                "The spread says how much the score depends on which rows validate: compare "
                "two models by their means only when the gap is larger than it."
            )

    folds()
