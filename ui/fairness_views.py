"""Cached fairness computations for the Fairness page (keyed by run, weights and choices)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import streamlit as st

from playground.data import Dataset
from playground.fairness import audit_data, disparity_sweep, group_roc, threshold_sweep
from playground.fairness.groups import groups_for_split
from playground.fairness.runs import scores_for_run
from playground.fairness.variants import audit_any_run
from ui.run_picker import load_cached

DISPARITY_TITLES = {
    "demographic_parity_difference": "Demographic parity difference",
    "demographic_parity_ratio": "Demographic parity ratio",
    "equalized_odds_difference": "Equalized odds difference",
    "equalized_odds_ratio": "Equalized odds ratio",
    "equal_opportunity_difference": "Equal opportunity difference",
}


def attributes(dataset: Dataset) -> list[str]:
    """Each sensitive attribute, then every intersection of two."""
    single = list(dataset.sensitive_attributes)
    return single + [f"{a} & {b}" for a, b in itertools.combinations(single, 2)]


@st.cache_data(max_entries=32, show_spinner="Auditing the model...")
def model_audit(run_id: str, version: int, attribute: str, threshold: float, n_boot: int):
    return audit_any_run(load_cached(run_id, version), attribute, threshold, n_boot=n_boot)


@st.cache_data(max_entries=16, show_spinner="Auditing the data...")
def data_audit(run_id: str, version: int, attribute: str):
    return audit_data(load_cached(run_id, version).dataset, attribute)


@st.cache_data(max_entries=16, show_spinner="Scoring the test split...")
def scores_and_groups(run_id: str, version: int, attribute: str):
    run = load_cached(run_id, version)
    y_true, scores = scores_for_run(run, "test")
    return y_true, scores, groups_for_split(run.dataset, "test", attribute)


@st.cache_data(max_entries=16, show_spinner=False)
def roc_and_sweep(run_id: str, version: int, attribute: str):
    y_true, scores, groups = scores_and_groups(run_id, version, attribute)
    sweep = threshold_sweep(y_true, scores, groups)
    return group_roc(y_true, scores, groups), sweep, disparity_sweep(sweep)


def operating_points(sweep: pd.DataFrame, threshold: float) -> dict[str, tuple[float, float]]:
    """Each group's (FPR, TPR) at the sweep threshold nearest to `threshold`."""
    levels = np.unique(sweep["threshold"].to_numpy())
    nearest = levels[np.abs(levels - threshold).argmin()]
    at = sweep[sweep["threshold"] == nearest]
    return {str(r.group): (float(r.fpr), float(r.tpr)) for r in at.itertuples()}


def disparity_metrics(disparities: dict[str, float], ci: dict[str, tuple[float, float]]) -> None:
    cols = st.columns(len(DISPARITY_TITLES))
    for col, (name, title) in zip(cols, DISPARITY_TITLES.items(), strict=True):
        value = disparities.get(name, float("nan"))
        low_high = ci.get(name)
        help_text = (
            f"{low_high[0]:.3f} to {low_high[1]:.3f} (bootstrap interval)" if low_high else None
        )
        col.metric(title, "n/a" if not np.isfinite(value) else f"{value:.3f}", help=help_text)
