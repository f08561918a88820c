"""The Fairness page's views: cached computations (keyed by run, weights and choices), tables
labelled with the split their numbers come from, and the live view of training variants."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from playground.charts import SPLIT_TITLES
from playground.charts.fairness import DISPARITY_TITLES as DISPARITY_WORDS
from playground.charts.fairness import METRIC_TITLES
from playground.data import Dataset
from playground.fairness import audit_data, disparity_sweep, group_roc, threshold_sweep
from playground.fairness.groups import groups_for_split
from playground.fairness.runs import scores_for_run
from playground.fairness.variants import Comparison, audit_any_run, compare_variants
from playground.jobs import JobSnapshot
from playground.status import ACTIVE_STATUSES, ENDED_STATUSES
from playground.store import RunRecord
from ui.run_picker import load_cached, weights_version
from ui.state import registry, store

DISPARITY_TITLES = {
    "demographic_parity_difference": "Demographic parity difference",
    "demographic_parity_ratio": "Demographic parity ratio",
    "equalized_odds_difference": "Equalized odds difference",
    "equalized_odds_ratio": "Equalized odds ratio",
    "equal_opportunity_difference": "Equal opportunity difference",
}
# Two rows of metrics: five in one row cut their labels off ("Demographic parity diff...").
DISPARITY_ROWS = (
    ("demographic_parity_difference", "equalized_odds_difference", "equal_opportunity_difference"),
    ("demographic_parity_ratio", "equalized_odds_ratio"),
)
# How often the Mitigation tab looks at a training variant. A progress bar is cheap to redraw
# (no charts), and a variant of a small tabular run trains in seconds.
POLL_SECONDS = 1.5


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
def roc_and_sweep(run_id: str, version: int, attribute: str, rows: tuple[int, ...] | None = None):
    """Per-group ROC curves and the threshold sweep on the test split, or on `rows` of it
    (a cohort of the error analysis)."""
    y_true, scores, groups = scores_and_groups(run_id, version, attribute)
    if rows is not None:
        index = list(rows)
        y_true, scores, groups = y_true[index], scores[index], groups.iloc[index]
    sweep = threshold_sweep(y_true, scores, groups)
    return group_roc(y_true, scores, groups), sweep, disparity_sweep(sweep)


def operating_points(sweep: pd.DataFrame, threshold: float) -> dict[str, tuple[float, float]]:
    """Each group's (FPR, TPR) at the sweep threshold nearest to `threshold`."""
    levels = np.unique(sweep["threshold"].to_numpy())
    nearest = levels[np.abs(levels - threshold).argmin()]
    at = sweep[sweep["threshold"] == nearest]
    return {str(r.group): (float(r.fpr), float(r.tpr)) for r in at.itertuples()}


def disparity_metrics(
    disparities: dict[str, float], ci: dict[str, tuple[float, float]], where: str
) -> None:
    """The five disparities as metrics, differences then ratios; `where` says which rows and
    threshold they describe ("on the test split at threshold 0.50")."""
    st.caption(
        f"Disparities between the groups {where}: differences (0 is equal), ratios (1 is equal)."
    )
    for row in DISPARITY_ROWS:
        for col, name in zip(st.columns(len(DISPARITY_ROWS[0])), row, strict=False):
            value = disparities.get(name, float("nan"))
            low_high = ci.get(name)
            help_text = (
                f"{low_high[0]:.3f} to {low_high[1]:.3f} (bootstrap interval)" if low_high else None
            )
            col.metric(
                DISPARITY_TITLES[name],
                "n/a" if not np.isfinite(value) else f"{value:.3f}",
                help=help_text,
            )


def split_name(splits: str | Sequence[str]) -> str:
    """ "test split", "all splits", "train and validation splits": where numbers come from."""
    names = [splits] if isinstance(splits, str) else list(splits)
    if set(names) == set(SPLIT_TITLES):
        return "all splits"
    words = [SPLIT_TITLES.get(n, n) for n in names]
    return f"{' and '.join(words)} split{'s' if len(words) > 1 else ''}"


def rates_table(by_group: pd.DataFrame, split: str | Sequence[str]) -> pd.DataFrame:
    """An audit's per-group table for display (show it with hide_index=True): the groups as
    the first column, columns in words, every rate followed by the split it comes from
    ("base rate (test split)"), because the page quotes base rates from all rows on the Data
    tab and from the test split on the Model tab."""
    where = f" ({split_name(split)})"
    names: dict[str, str] = {
        "count": "people",
        "share": "share of rows",
        "positives": "positives" + where,
    }
    for column in by_group.columns:
        for metric, title in METRIC_TITLES.items():
            if column == metric:
                names[column] = title + where
            elif column == f"{metric}_ci_low":
                names[column] = f"{title}, interval low{where}"
            elif column == f"{metric}_ci_high":
                names[column] = f"{title}, interval high{where}"
    # The groups as a column, shown with hide_index: an index column stays narrow and cut
    # "Female & Amer-Indian-Eskimo" to "Female &...".
    return by_group.rename(columns=names).reset_index()


def missing_table(missing: pd.DataFrame) -> pd.DataFrame:
    """A data audit's missing-value shares for display (hide_index=True): the groups first,
    then one "<column> missing" column each (the attribute's own column is among them, so it
    cannot share its bare name with the groups' column)."""
    return missing.rename(columns=lambda c: f"{c} missing").reset_index()


@dataclass
class VariantState:
    """A mitigation variant as the Mitigation tab shows it while it trains."""

    run_id: str
    name: str
    variant: str  # its lineage: "drop_attribute", "reweighing", "threshold_optimizer"
    attribute: str
    status: str
    message: str
    fraction: float  # epochs done / epochs, 0..1
    text: str  # the progress line
    active: bool  # queued or training (or its last update not stored yet)


def variant_state(record: RunRecord, snap: JobSnapshot | None) -> VariantState:
    """A variant's state from its job's live snapshot, or from the store when no job of this
    server has it (trained elsewhere, or before a restart)."""
    name = record.name or record.id
    if snap is not None:
        status, fraction, active = snap.status, snap.progress, snap.active
        if status == "queued" and snap.queue_position is not None:
            detail = f"waiting for a free worker (position {snap.queue_position} in the queue)"
        elif status == "queued":
            detail = "starting on a worker"  # handed to a worker, no epoch reported yet
        else:
            detail = f"epoch {snap.epoch}/{snap.epochs}"
        message = snap.message
    else:
        epochs = int(record.config.get("epochs") or 0)
        status, active = record.status, record.status in ACTIVE_STATUSES
        fraction = min(record.epochs_done / epochs, 1.0) if epochs else 0.0
        detail = f"epoch {record.epochs_done}/{epochs}"
        message = record.message
    return VariantState(
        run_id=record.id,
        name=name,
        variant=str(record.lineage.get("variant", "")),
        attribute=str(record.lineage.get("attribute", "")),
        status=status,
        message=message,
        fraction=fraction,
        text=f"{name} · {status} · {detail}",
        active=active,
    )


def variant_states(
    parent_id: str, snapshot: Callable[[str], JobSnapshot | None] | None = None
) -> list[VariantState]:
    """Every variant of `parent_id`, oldest first; `snapshot` (default: the job registry's)
    finds a variant's live job."""
    snapshot = snapshot or registry().snapshot
    return [variant_state(r, snapshot(r.id)) for r in store().variants(parent_id)]


def needs_rerun(watching: Sequence[str], states: Sequence[VariantState]) -> bool:
    """True when the variants training now are not the ones the page was drawn with: one
    finished (its comparison row can be drawn) or another started (from another tab)."""
    return {s.run_id for s in states if s.active} != set(watching)


@st.fragment(run_every=POLL_SECONDS)
def _live_variants(parent_id: str, watching: tuple[str, ...]) -> None:
    """Progress bars of the training variants, redrawn every POLL_SECONDS. When one ends the
    whole page reruns once: the comparison gains its row, and with nothing left training the
    page no longer draws this fragment, so the polling stops."""
    states = variant_states(parent_id)
    if needs_rerun(watching, states):
        st.rerun()
    for state in states:
        if state.active:
            st.progress(state.fraction, text=state.text)


@st.cache_data(max_entries=16, show_spinner="Comparing the variants...")
def _comparison(
    parent_id: str, attribute: str, threshold: float, versions: tuple[tuple[str, str, int], ...]
) -> Comparison:
    # `versions` (run, status, weights version) keys the cache: a finished variant or a new
    # checkpoint computes it afresh, while polling reruns find it cached.
    return compare_variants(store(), parent_id, attribute, threshold)


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """A `compare_variants` table for display: columns in words, each number with its split,
    the numbers before the (long) decision and the status."""
    where = " (test split)"
    names = {"accuracy": "accuracy" + where, "selection_rate": "selection rate" + where}
    names |= {k: v + where for k, v in DISPARITY_WORDS.items()}
    # The numbers first, how each run decides and its status last: the decision of a
    # post-processed variant is a long phrase that pushed the numbers out of view.
    last = [c for c in ("decision", "status") if c in table.columns]
    ordered = table[[c for c in table.columns if c not in last] + last]
    return ordered.rename(columns=names)


def mitigation(parent_id: str, attribute: str, threshold: float) -> Comparison | None:
    """The Mitigation tab's results: live progress of the variants still training (polled,
    see `_live_variants`), failures with their message, and the comparison of the original
    with every variant as soon as one has finished. Returns the comparison drawn, if any."""
    states = variant_states(parent_id)
    watching = tuple(s.run_id for s in states if s.active)
    if watching:
        _live_variants(parent_id, watching)
    for state in states:
        if state.status in ENDED_STATUSES and state.status != "completed":
            st.warning(f"{state.name} ended {state.status}: {state.message}")
    if len(watching) == len(states):
        st.caption(
            "No variants yet: make one with the buttons above."
            if not states
            else "The comparison appears here as soon as a variant finishes."
        )
        return None
    versions = tuple((s.run_id, s.status, weights_version(s.run_id)) for s in states)
    return _comparison(parent_id, attribute, threshold, versions)
