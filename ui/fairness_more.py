"""The Fairness page's views past post-processing: in-training mitigations (reductions,
adversarial debiasing), calibration by group, error analysis with cohorts that filter the
audit, metric guidance, and group metrics for regression and multiclass runs.

Numbers come from playground.fairness; this module chooses, caches and draws. Reductions
train many networks, so they run as a background task whose work happens in a worker process
(`in_worker_process`), never in the web server's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from playground.charts import fairness_more as charts
from playground.errors import PlaygroundError
from playground.fairness import actions
from playground.fairness.calibration import calibration_by_group
from playground.fairness.error_analysis import (
    Cohort,
    ErrorTree,
    cohort_rows,
    error_heatmap,
    error_tree,
    raw_rows,
)
from playground.fairness.group_errors import group_errors_for_run
from playground.fairness.guidance import COSTLIER, DECISIONS, QUESTIONS, recommend
from playground.fairness.metrics import ModelAudit, audit_model
from playground.fairness.mitigation_runs import adversarial_request, keep_grid_point, keep_mixture
from playground.fairness.postprocessing import CONSTRAINTS
from playground.fairness.reductions import (
    DEFAULT_EPS,
    DEFAULT_GRID,
    DEFAULT_ITERATIONS,
    DISPARITY_OF,
    REDUCTIONS,
    GridResult,
    MixtureResult,
    in_worker_process,
)
from playground.markup import escape_markdown
from ui.fairness_views import rates_table, scores_and_groups
from ui.run_picker import load_cached
from ui.state import registry, show_error, store
from ui.task_view import start_task, task_result

ALL_ROWS = "all test rows"
COHORT_KEY = "cohort"  # the page's row filter (a selectbox drawn above the tabs)
TABS = ("Calibration", "Error analysis", "Which metric?")


def _md(text: str) -> str:
    return escape_markdown(str(text), streamlit=True)


# -- error analysis and the cohort filter -----------------------------------------------
@st.cache_data(max_entries=16, show_spinner="Growing the error tree...")
def _tree(
    run_id: str, version: int, threshold: float, depth: int
) -> tuple[ErrorTree, pd.DataFrame, np.ndarray]:
    run = load_cached(run_id, version)
    y, scores, _ = scores_and_groups(run_id, version, run.dataset.sensitive_attributes[0])
    errors = (scores >= threshold).astype(np.int64) != y
    frame = raw_rows(run.dataset, "test")
    return error_tree(frame, errors, max_depth=depth), frame, errors


def _cohort_label(cohort: Cohort) -> str:
    return f"{cohort.rule} ({cohort.size} rows, {cohort.error_rate:.0%} errors)"


def cohort_choice(run_id: str, version: int, threshold: float) -> tuple[str, np.ndarray] | None:
    """The page's row filter: all test rows, or one cohort of the error tree. Returns the
    cohort's (label, row indices into the test split), or None for all rows."""
    try:
        tree, _, _ = _tree(run_id, version, threshold, 3)
    except PlaygroundError:
        return None
    labels = {_cohort_label(c): c for c in tree.cohorts}
    if st.session_state.get(COHORT_KEY) not in (ALL_ROWS, *labels):
        st.session_state[COHORT_KEY] = ALL_ROWS  # a cohort of another run or threshold
    chosen = st.selectbox(
        "Rows audited",
        [ALL_ROWS, *labels],
        key=COHORT_KEY,
        help="A cohort from the Error analysis tab: the Model, Threshold & ROC, Reliance and "
        "Calibration tabs then audit only its rows.",
    )
    if chosen == ALL_ROWS:
        return None
    return chosen, cohort_rows(tree, labels[chosen].node)


def cohort_audit(
    run_id: str,
    version: int,
    attribute: str,
    threshold: float,
    rows: np.ndarray,
    n_boot: int = 200,
) -> ModelAudit:
    """The Model tab's audit (and the other tabs' rates) on a cohort's rows only."""
    y, scores, groups = scores_and_groups(run_id, version, attribute)
    audit = audit_model(y[rows], scores[rows], groups.iloc[rows], threshold, n_boot=n_boot)
    audit.split = "test"
    return audit


def _open_cohort(label: str) -> None:
    st.session_state[COHORT_KEY] = label  # a callback: runs before the selectbox is drawn


def error_analysis(run_id: str, version: int, threshold: float) -> None:
    depth = st.slider("Tree depth", 1, 5, 3, key="error_depth")
    try:
        tree, frame, errors = _tree(run_id, version, threshold, depth)
    except PlaygroundError as exc:
        show_error(exc)
        return
    st.caption(
        f"A decision tree over the test rows as given predicts where the model errs at "
        f"threshold {threshold:.2f} ({tree.error_rate:.1%} of rows overall). Each leaf is a "
        "cohort; the worst comes first."
    )
    st.plotly_chart(charts.error_tree_chart(tree), key="error_tree")
    table = pd.DataFrame(
        [
            {
                "cohort": c.rule,
                "rows": c.size,
                "errors": c.errors,
                "error rate (test split)": c.error_rate,
                "share of all errors": c.error_share,
            }
            for c in tree.cohorts
        ]
    )
    st.dataframe(table, hide_index=True)
    labels = [_cohort_label(c) for c in tree.cohorts]
    pick = st.selectbox("Cohort", labels, key="error_cohort")
    st.button(
        "Audit this cohort",
        key="open_cohort",
        on_click=_open_cohort,
        args=(pick,),
        help="Filters the Model and Calibration tabs to this cohort's rows.",
    )
    columns = [str(c) for c in frame.columns]
    left, right = st.columns(2)
    first = left.selectbox("Heat map rows", columns, index=0, key="heat_a")
    second = right.selectbox(
        "Heat map columns", columns, index=min(1, len(columns) - 1), key="heat_b"
    )
    if first == second:
        st.caption("Choose two different columns for the heat map.")
        return
    rates, counts = error_heatmap(frame, errors, first, second)
    st.plotly_chart(charts.error_heatmap_chart(rates, counts), key="error_heat")


# -- calibration ------------------------------------------------------------------------
@st.cache_data(max_entries=16, show_spinner="Computing calibration...")
def _calibration(run_id: str, version: int, attribute: str, rows: tuple[int, ...] | None):
    y, scores, groups = scores_and_groups(run_id, version, attribute)
    if rows is not None:
        index = np.asarray(rows)
        y, scores, groups = y[index], scores[index], groups.iloc[index]
    result = calibration_by_group(y, scores, groups, n_bins=10, n_boot=200)
    result.split = "test"
    return result


def calibration(run_id: str, version: int, attribute: str, cohort: Any) -> None:
    rows = None if cohort is None else tuple(int(i) for i in cohort[1])
    result = _calibration(run_id, version, attribute, rows)
    where = "the test split" if cohort is None else f"the cohort {cohort[0]}"
    st.caption(
        f"Does a score of 0.7 mean a 70% chance in every group? Scores in 10 bins, on "
        f"{_md(where)}; expected calibration error (ECE) with 95% bootstrap intervals "
        f"(200 resamples). Everyone: ECE {result.overall_ece:.3f}."
    )
    left, right = st.columns(2)
    left.plotly_chart(charts.reliability_chart(result), key="reliability")
    right.plotly_chart(charts.ece_chart(result), key="ece")
    st.dataframe(
        result.ece.rename(
            columns={
                "count": "people",
                "ece": "ECE (test split)",
                "ece_ci_low": "ECE, interval low",
                "ece_ci_high": "ECE, interval high",
            }
        ).reset_index(),
        hide_index=True,
    )


# -- guidance ---------------------------------------------------------------------------
def guidance() -> None:
    st.caption("Three questions, after Aequitas's fairness tree: which rate to compare, and why.")
    trusted = st.radio(QUESTIONS["labels_trusted"], ["yes", "no"], index=1, key="guide_labels")
    decision = st.radio(
        QUESTIONS["decision"], list(DECISIONS), format_func=DECISIONS.get, key="guide_decision"
    )
    costlier = st.radio(
        QUESTIONS["costlier"], list(COSTLIER), format_func=COSTLIER.get, key="guide_costlier"
    )
    rec = recommend(trusted == "yes", decision, costlier)
    st.subheader(rec.title)
    for reason in [*rec.reasons, *rec.also]:
        st.write(reason)
    st.caption(
        f"Read {rec.disparity.replace('_', ' ')} on the Model tab; to mitigate, choose the "
        f"{actions.quote(actions.CONSTRAINT)} {rec.constraint.replace('_', ' ')} on the "
        f"{actions.quote(actions.MITIGATION_TAB)} tab."
    )


# -- in-training mitigations ------------------------------------------------------------
def in_training(parent_id: str, attribute: str, constraint: str) -> None:
    """Reductions and adversarial debiasing, under the Mitigation tab's other buttons."""
    st.subheader("Mitigations inside training")
    parent = store().get_run(parent_id)
    a, b = st.columns(2)
    reduction = a.selectbox(
        "Reduction", list(REDUCTIONS), format_func=REDUCTIONS.get, key="reduction"
    )
    if reduction == "grid_search":
        options = {
            "grid_size": int(b.number_input("Grid points", 3, 21, DEFAULT_GRID, key="grid_size"))
        }
    else:
        options = {
            "eps": float(
                b.number_input("Allowed gap (eps)", 0.001, 0.5, DEFAULT_EPS, key="eg_eps")
            ),
            "max_iter": DEFAULT_ITERATIONS,
        }
    kwargs = {
        "dataset_name": parent.dataset,
        "dataset_params": parent.dataset_params,
        "attribute": attribute,
        "spec": parent.module_specs.get("model", parent.spec),
        "config": parent.config,
        "reduction": reduction,
        "constraint": constraint,
        "options": options,
    }
    key = f"reduction-{parent_id}-{attribute}-{reduction}-{constraint}-{sorted(options.items())}"
    st.caption(
        f"Retrains this network many times on weighted, relabelled problems (Fairlearn's "
        f"reductions), for {constraint.replace('_', ' ')} by {_md(attribute)}, in a worker process."
    )
    if st.button(f"Run {reduction.replace('_', ' ')}", key="reduction_go"):
        start_task(key, lambda progress: in_worker_process(kwargs, progress))
    result = task_result(key, "Reduction")
    if isinstance(result, GridResult):
        _grid_view(parent_id, result)
    elif isinstance(result, MixtureResult):
        _mixture_view(parent_id, result)
    _adversarial(parent, attribute)


def _grid_view(parent_id: str, result: GridResult) -> None:
    disparity = DISPARITY_OF[result.constraint]
    st.plotly_chart(charts.front_chart(result.table, disparity), key="front")
    st.dataframe(result.table, hide_index=True)
    front = result.table[result.table["on_front"]]["point"].tolist()
    point = st.selectbox("Point on the front", front, key="grid_point")
    if st.button(f"Keep point {point} as a run", key="keep_point"):
        try:
            run_id = keep_grid_point(store(), parent_id, result, int(point))
        except PlaygroundError as exc:
            show_error(exc)
        else:
            st.success(f"Stored as run {run_id}: it joins the comparison above.")


def _mixture_view(parent_id: str, result: MixtureResult) -> None:
    st.dataframe(result.table, hide_index=True)
    st.caption(
        f"A randomised classifier: each row is decided by one of {len(result.members)} "
        f"networks, drawn with probabilities {', '.join(f'{w:.2f}' for w in result.weights)} "
        f"({result.oracle_calls} networks trained, {result.seconds:.0f} s)."
    )
    if st.button("Keep the mixture as a run", key="keep_mixture"):
        try:
            run_id = keep_mixture(store(), parent_id, result)
        except PlaygroundError as exc:
            show_error(exc)
        else:
            st.success(f"Stored as run {run_id}: it joins the comparison above.")


def _adversarial(parent: Any, attribute: str) -> None:
    a, b, c = st.columns(3)
    weight = float(a.number_input("Adversary weight", 0.0, 100.0, 1.0, key="adv_weight"))
    goal = b.selectbox("Adversary goal", ["equalized_odds", "demographic_parity"], key="adv_goal")
    if c.button(f"Train with adversarial debiasing by {attribute}", key="variant_adversarial"):
        try:
            registry().submit(adversarial_request(parent, attribute, weight, goal))
        except PlaygroundError as exc:
            show_error(exc)
        else:
            st.rerun()


# -- regression and multiclass ----------------------------------------------------------
def group_errors_view(run_id: str, version: int, attributes: list[str]) -> None:
    """The page for a regression or multiclass run: errors or per-class selection by group."""
    attribute = st.selectbox(actions.ATTRIBUTE, attributes, key="attribute")
    result = group_errors_for_run(load_cached(run_id, version), attribute)
    st.plotly_chart(charts.group_errors_chart(result), key="group_errors")
    shown = result.table.reset_index()
    st.dataframe(
        shown.rename(columns=lambda c: f"{c} (test split)" if c not in (attribute, "count") else c),
        hide_index=True,
    )
    gaps = ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in result.gaps.items())
    st.caption(f"Largest gap between groups: {_md(gaps)}.")
    for note in result.notes:
        st.warning(note)


def rates_for_cohort(audit: ModelAudit) -> pd.DataFrame:
    return rates_table(audit.by_group, audit.split)


__all__ = ["CONSTRAINTS", "TABS"]
