"""Fairness: audit the data and a trained model group by group, and mitigate.

groups          sensitive columns -> group labels (bands, intersections, "missing")
data_audit      group sizes, base rates, missing values, proxy features
metrics         per-group rates (Fairlearn MetricFrame), bootstrap intervals, disparities
roc, threshold  per-group ROC curves; rates at every threshold
reweighing      Kamiran & Calders sample weights (TrainConfig.reweigh trains with them)
postprocessing  Fairlearn ThresholdOptimizer on a network's scores
caution_text    what the numbers can and cannot say, in plain words
runs            labels, scores and groups from a stored run

Names are loaded on first use (`playground.fairness.audit_model` imports the metrics module
then), so training with `reweigh` does not pay for importing Fairlearn and scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playground.fairness.caution_text import cautions, data_cautions
    from playground.fairness.data_audit import DataAudit, audit_data
    from playground.fairness.groups import (
        MISSING,
        band_labels,
        dataset_bands,
        group_labels,
        groups_for_split,
        sort_groups,
    )
    from playground.fairness.metrics import (
        DISPARITIES,
        METRICS,
        MIN_GROUP,
        ModelAudit,
        audit_model,
        audit_predictions,
    )
    from playground.fairness.postprocessing import (
        CONSTRAINTS,
        ThresholdPostprocessor,
        apply,
        threshold_optimizer,
    )
    from playground.fairness.proxies import correlation_ratio, cramers_v, proxy_scores
    from playground.fairness.reweighing import reweighing_weights, training_weights
    from playground.fairness.roc import GroupRoc, group_roc
    from playground.fairness.runs import audit_run, groups_for_run, scores_for_run
    from playground.fairness.threshold import disparity_sweep, threshold_sweep

__all__ = [
    "CONSTRAINTS",
    "DISPARITIES",
    "METRICS",
    "MIN_GROUP",
    "MISSING",
    "DataAudit",
    "GroupRoc",
    "ModelAudit",
    "ThresholdPostprocessor",
    "apply",
    "audit_data",
    "audit_model",
    "audit_predictions",
    "audit_run",
    "band_labels",
    "cautions",
    "correlation_ratio",
    "cramers_v",
    "data_cautions",
    "dataset_bands",
    "disparity_sweep",
    "group_labels",
    "group_roc",
    "groups_for_run",
    "groups_for_split",
    "proxy_scores",
    "reweighing_weights",
    "scores_for_run",
    "sort_groups",
    "threshold_optimizer",
    "threshold_sweep",
    "training_weights",
]

_MODULES = {
    "caution_text": ("cautions", "data_cautions"),
    "data_audit": ("DataAudit", "audit_data"),
    "groups": (
        "MISSING",
        "band_labels",
        "dataset_bands",
        "group_labels",
        "groups_for_split",
        "sort_groups",
    ),
    "metrics": (
        "DISPARITIES",
        "METRICS",
        "MIN_GROUP",
        "ModelAudit",
        "audit_model",
        "audit_predictions",
    ),
    "postprocessing": ("CONSTRAINTS", "ThresholdPostprocessor", "apply", "threshold_optimizer"),
    "proxies": ("correlation_ratio", "cramers_v", "proxy_scores"),
    "reweighing": ("reweighing_weights", "training_weights"),
    "roc": ("GroupRoc", "group_roc"),
    "runs": ("audit_run", "groups_for_run", "scores_for_run"),
    "threshold": ("disparity_sweep", "threshold_sweep"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value
