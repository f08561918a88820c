"""The model audit: per-group rates and disparities from Fairlearn's MetricFrame, plus
bootstrap intervals.

All of it works on plain arrays (labels, scores, group labels), so a stored run, a
post-processed prediction or a hand-made table are audited the same way. Moving the
decision threshold is a new call; with `n_boot=0` it skips the bootstrap.

Speed: every metric here depends only on each group's four confusion counts, so Fairlearn
is given at most 4 rows per group with the counts as sample weights. That gives the same
numbers as the N original rows (tests check it) in a fraction of the time.

Undefined rates: Fairlearn reports a TPR of 0 for a group with no positive labels (and an
FPR of 0 for one with no negatives). Here they are NaN, and the disparities, computed
between groups as Fairlearn's `demographic_parity_difference`, `equalized_odds_ratio`, ...
do (max - min, min / max), leave them out rather than count a made-up 0. Where every rate
is defined the disparities equal Fairlearn's functions (tests check it); computing them
from the one MetricFrame avoids building five more per call.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

from playground.errors import PlaygroundError
from playground.fairness.bootstrap import percentile_interval, rate_intervals
from playground.fairness.confusion import RATES, confusion_counts, weighted_rows
from playground.fairness.groups import band_labels, category_labels, default_bands, is_banded

MIN_GROUP = 30  # below this many people a group's rates are too noisy to trust
METRICS = ("count", "base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision")
DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
)


@dataclass
class ModelAudit:
    """A model's behaviour per group at one decision threshold.

    `by_group`: one row per group (index named after the attribute), columns `METRICS`, then
    `<rate>_ci_low` / `<rate>_ci_high` for each rate when `n_boot > 0`, then `small` (fewer
    than `min_group` people). `overall`: the same rates over everyone. `disparities`: the
    five `DISPARITIES` over all groups (a rate undefined for a group, e.g. TPR with no
    positive labels, is NaN and left out); `disparities_large_groups` the same over groups of at
    least `min_group` people (empty when no group is small or fewer than two are large).
    `disparity_ci`: bootstrap (low, high) of each disparity (empty when `n_boot == 0`).
    `threshold` is NaN for an audit of hard predictions (`audit_predictions`). `split` names
    the rows audited ("test", "val"...) when they are a dataset's split, else "": a page that
    quotes a rate from two splits says which one each comes from.
    """

    attribute: str
    threshold: float
    by_group: pd.DataFrame
    overall: dict[str, float]
    disparities: dict[str, float]
    disparities_large_groups: dict[str, float]
    disparity_ci: dict[str, tuple[float, float]]
    small_groups: list[str]
    min_group: int
    n_boot: int
    ci_level: float
    cautions: list[str] = field(default_factory=list)
    split: str = ""


def as_groups(sensitive: pd.Series | np.ndarray | list) -> pd.Series:
    """Group labels as strings (N,): categories kept, many-valued numbers banded."""
    series = sensitive if isinstance(sensitive, pd.Series) else pd.Series(sensitive)
    name = str(series.name) if series.name is not None else "group"
    series = series.reset_index(drop=True).rename(name)
    if is_banded(series):
        return band_labels(series, default_bands(series, name))
    return category_labels(series)


def audit_model(
    y_true: np.ndarray,
    scores: np.ndarray,
    sensitive: pd.Series,
    threshold: float = 0.5,
    n_boot: int = 200,
    seed: int = 0,
    min_group: int = MIN_GROUP,
    ci_level: float = 0.95,
) -> ModelAudit:
    """Audit a binary classifier: labels y_true (N,) in {0, 1}, scores (N,) = probability of
    the positive class, group labels (N,). A row is predicted positive when score >= threshold."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if np.isnan(scores).any():
        raise PlaygroundError("Some model scores are NaN.", "Check the model's outputs.")
    audit = audit_predictions(
        y_true, scores >= threshold, sensitive, n_boot, seed, min_group, ci_level
    )
    audit.threshold = float(threshold)
    return audit


def audit_predictions(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    sensitive: pd.Series,
    n_boot: int = 200,
    seed: int = 0,
    min_group: int = MIN_GROUP,
    ci_level: float = 0.95,
) -> ModelAudit:
    """Audit hard predictions y_pred (N,) in {0, 1} (e.g. after post-processing)."""
    from playground.fairness.caution_text import cautions  # cautions reads ModelAudit

    y_true, y_pred = _binary(y_true, "labels"), _binary(y_pred, "predictions")
    groups = as_groups(sensitive)
    if not len(y_true) == len(y_pred) == len(groups):
        raise PlaygroundError(
            f"Labels ({len(y_true)}), predictions ({len(y_pred)}) and groups ({len(groups)}) "
            "differ in length.",
            "Pass the same rows to each.",
        )
    if len(y_true) == 0:
        raise PlaygroundError(
            "There are no rows to audit.", "Use a dataset with more rows in every split."
        )
    counts = confusion_counts(y_true, y_pred, groups)
    frame = _metric_frame(weighted_rows(counts), groups.name)
    by_group = frame.by_group[list(METRICS)].astype(np.float64)
    by_group.index = by_group.index.astype(str)
    # MetricFrame sorts groups alphabetically; follow the counts' reading order ("<25" first).
    by_group = by_group.reindex(counts.index).rename_axis(groups.name)
    by_group["count"] = by_group["count"].round().astype(np.int64)
    positives, negatives = counts["tp"] + counts["fn"], counts["fp"] + counts["tn"]
    by_group.loc[positives.to_numpy() == 0, ["tpr", "fnr"]] = np.nan
    by_group.loc[negatives.to_numpy() == 0, "fpr"] = np.nan

    disparity_ci: dict[str, tuple[float, float]] = {}
    if n_boot > 0:
        replicates, intervals = rate_intervals(counts.to_numpy(), n_boot, seed, ci_level)
        for rate in RATES:
            low, high = intervals[rate]
            by_group[f"{rate}_ci_low"], by_group[f"{rate}_ci_high"] = low, high
        disparity_ci = _disparity_intervals(replicates, ci_level)
    by_group["small"] = by_group["count"] < min_group
    small = [str(g) for g in by_group.index[by_group["small"]]]

    rated = by_group[["selection_rate", "tpr", "fpr"]]
    large = rated[~by_group["small"]]
    audit = ModelAudit(
        attribute=str(groups.name),
        threshold=float("nan"),
        by_group=by_group,
        overall={k: float(v) for k, v in frame.overall[list(METRICS)].items()},
        disparities=_disparities(rated),
        disparities_large_groups=_disparities(large) if small and len(large) >= 2 else {},
        disparity_ci=disparity_ci,
        small_groups=small,
        min_group=min_group,
        n_boot=n_boot,
        ci_level=ci_level,
    )
    audit.cautions = cautions(audit)
    return audit


def _binary(values: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(values).reshape(-1)
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if not np.isin(arr, (0, 1)).all():
        raise PlaygroundError(
            f"Fairness metrics here need binary {what} (0 or 1).",
            "Fairness metrics here need a binary task.",
        )
    return arr.astype(np.int64)


def _count(y_true, y_pred, sample_weight) -> float:
    return float(np.sum(sample_weight))


def _base_rate(y_true, y_pred, sample_weight) -> float:
    return float(np.average(y_true, weights=sample_weight))


def _precision(y_true, y_pred, sample_weight) -> float:
    # No predicted positives: precision is undefined (NaN), not 0.
    return precision_score(y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan)


_METRIC_FUNCTIONS = {
    "count": _count,
    "base_rate": _base_rate,
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": _precision,
}


def _metric_frame(rows: pd.DataFrame, name: str) -> MetricFrame:
    weights = rows["weight"].to_numpy()
    return MetricFrame(
        metrics=_METRIC_FUNCTIONS,
        y_true=rows["y_true"].to_numpy(),
        y_pred=rows["y_pred"].to_numpy(),
        sensitive_features=rows["group"].rename(name),
        sample_params={k: {"sample_weight": weights} for k in _METRIC_FUNCTIONS},
    )


def _disparities(rated: pd.DataFrame) -> dict[str, float]:
    """The five disparities between the groups (rows) of a table with columns
    selection_rate, tpr and fpr: differences max - min, ratios min / max (NaN skipped)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        difference, ratio = rated.max() - rated.min(), rated.min() / rated.max()
    return {
        "demographic_parity_difference": float(difference["selection_rate"]),
        "demographic_parity_ratio": float(ratio["selection_rate"]),
        "equalized_odds_difference": float(np.fmax(difference["tpr"], difference["fpr"])),
        "equalized_odds_ratio": float(np.fmin(ratio["tpr"], ratio["fpr"])),
        "equal_opportunity_difference": float(difference["tpr"]),
    }


def _disparity_intervals(
    replicates: dict[str, np.ndarray], level: float
) -> dict[str, tuple[float, float]]:
    """Bootstrap intervals of the disparities from replicate rates {rate: (B, G)}.

    The max-minus-min gap of a resample is never negative, so with no real gap the interval
    still sits above 0: read it as the gap's plausible size, not as a test against zero.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        sel, tpr, fpr = replicates["selection_rate"], replicates["tpr"], replicates["fpr"]

        def gap(v: np.ndarray) -> np.ndarray:
            return _nan_reduce(np.nanmax, v) - _nan_reduce(np.nanmin, v)

        def ratio(v: np.ndarray) -> np.ndarray:
            return _nan_reduce(np.nanmin, v) / _nan_reduce(np.nanmax, v)

        values = {
            "demographic_parity_difference": gap(sel),
            "demographic_parity_ratio": ratio(sel),
            "equalized_odds_difference": np.maximum(gap(tpr), gap(fpr)),
            "equalized_odds_ratio": np.minimum(ratio(tpr), ratio(fpr)),
            "equal_opportunity_difference": gap(tpr),
        }
    out = {}
    for name, v in values.items():
        low, high = percentile_interval(v, level)
        out[name] = (float(low), float(high))
    return out


def _nan_reduce(fn, values: np.ndarray) -> np.ndarray:
    """fn over groups (axis 1) of (B, G), NaN where a replicate has no defined value."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(values, axis=1)
