"""Mitigation variants of a run, each a stored run like any other, compared side by side.

    drop_attribute       the same network and training, without the sensitive column(s)
    reweighing           the same, with Kamiran & Calders sample weights (TrainConfig.reweigh)
    threshold_optimizer  the same weights, with Fairlearn's ThresholdOptimizer fitted on the
                         validation split's scores for a chosen constraint

The two trained variants are run requests, submitted to the job registry (or trained in
this process by `train_now` for the CLI and tests).
The post-processed one is derived at once: its record copies the parent's weights, and its
thresholds are refitted deterministically (seeded) whenever it is audited, because a fitted
sklearn object could only be stored by pickling it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from playground.errors import PlaygroundError
from playground.fairness.actions import DATA_TAB, PROXIES, quote
from playground.fairness.groups import groups_for_split
from playground.fairness.metrics import ModelAudit, audit_model, audit_predictions
from playground.fairness.postprocessing import CONSTRAINTS, threshold_optimizer
from playground.fairness.runs import scores_for_run
from playground.runner import LoadedRun, load_run
from playground.runs import RunRequest, run_request
from playground.store import RunRecord, RunStore

VARIANTS = {
    "drop_attribute": "trained without the attribute",
    "reweighing": "trained with reweighing",
    "threshold_optimizer": "post-processed (ThresholdOptimizer)",
    # In-training mitigations (mitigation_runs.py): a reduction's network or mixture, and a
    # network trained against an adversary.
    "grid_search": "GridSearch point (reduction)",
    "exponentiated_gradient": "ExponentiatedGradient mixture (reduction)",
    "adversarial_debiasing": "trained with adversarial debiasing",
}


def attribute_columns(attribute: str) -> list[str]:
    """'sex & race' -> ['sex', 'race']."""
    return [part.strip() for part in attribute.split("&") if part.strip()]


def variant_request(parent: RunRecord, variant: str, attribute: str) -> RunRequest:
    """The run request of a trained variant of `parent` (same network and training, with
    the attribute dropped or reweighed), named and with its lineage."""
    if variant not in ("drop_attribute", "reweighing"):
        raise PlaygroundError(
            f"{variant!r} is not a trained variant.", "Use drop_attribute or reweighing."
        )
    params = dict(parent.dataset_params)
    config = dict(parent.config)
    if variant == "drop_attribute":
        dropped = list(params.get("drop_columns", ()))
        dropped += [c for c in attribute_columns(attribute) if c not in dropped]
        params["drop_columns"] = dropped
    else:
        config["reweigh"] = attribute
    lineage = {"parent": parent.id, "variant": variant, "attribute": attribute}
    base = RunRequest.parse(parent.request) if parent.request else None
    return RunRequest.parse(
        {
            **(base.model_dump() if base else {}),
            "dataset": parent.dataset,
            "dataset_params": params,
            "modules": parent.module_specs,
            "config": config,
            "name": variant_name(parent, variant, attribute),
            "lineage": lineage,
            "start_from": None,
        }
    )


def variant_name(parent: RunRecord, variant: str, attribute: str, extra: str = "") -> str:
    base = parent.name or parent.id
    what = {
        "drop_attribute": f"without {attribute}",
        "reweighing": f"reweighed by {attribute}",
        "threshold_optimizer": f"thresholds for {extra} by {attribute}",
    }[variant]
    return f"{base} · {what}"


def train_now(store: RunStore, parent_id: str, variant: str, attribute: str) -> str:
    """Train a variant in this process (CLI, tests); returns its run id. The app submits
    `variant_request` to its job registry instead."""
    request = variant_request(store.get_run(parent_id), variant, attribute)
    return run_request(request, store).run_id


def derive_threshold_variant(
    store: RunStore, parent_id: str, attribute: str, constraint: str = "demographic_parity"
) -> str:
    """Store a post-processed variant of a finished run; returns its run id."""
    if constraint not in CONSTRAINTS:
        raise PlaygroundError(
            f"Unknown constraint {constraint!r}.", f"Choose one of: {', '.join(CONSTRAINTS)}."
        )
    parent = load_run(parent_id, store)
    post = _fit_postprocessor(parent, attribute, constraint)  # fails early, stores nothing
    y_true, scores = scores_for_run(parent, "test")
    predictions = post.apply(scores, groups_for_split(parent.dataset, "test", attribute))
    record = parent.record
    lineage = {
        "parent": parent_id,
        "variant": "threshold_optimizer",
        "attribute": attribute,
        "constraint": constraint,
        "rules": post.rules(),
    }
    run_id = store.create_run(
        dataset=record.dataset,
        dataset_params=record.dataset_params,
        spec=record.spec,
        config=record.config,
        param_count=record.param_count,
        name=variant_name(record, "threshold_optimizer", attribute, constraint),
        status="completed",
        lineage=lineage,
    )
    store.save_weights(run_id, parent.model)
    metrics = {k: v for k, v in record.final_metrics.items() if not k.startswith("test_")}
    metrics["test_acc"] = float((predictions == y_true).mean())
    store.set_final_metrics(run_id, metrics)
    store.set_status(
        run_id,
        "completed",
        f"Post-processed run {parent_id} with ThresholdOptimizer ({constraint} by {attribute}).",
        final=True,
    )
    return run_id


def _fit_postprocessor(run: LoadedRun, attribute: str, constraint: str):
    # Fitted on validation scores so the test split stays unseen; seeded, so refitting later
    # gives the same thresholds.
    y_val, s_val = scores_for_run(run, "val")
    g_val = groups_for_split(run.dataset, "val", attribute)
    return threshold_optimizer(y_val, s_val, g_val, constraint=constraint, seed=0)


def audit_any_run(
    run: LoadedRun,
    attribute: str,
    threshold: float = 0.5,
    n_boot: int = 0,
    seed: int = 0,
    split: str = "test",
    store: RunStore | None = None,
) -> ModelAudit:
    """Audit a run or a post-processed variant (whose predictions come from its thresholds),
    or an ExponentiatedGradient mixture (from its members, in `store`).

    The audit is by the parent's attribute even for a variant trained without it: the
    sensitive columns ride along in `Split.sensitive` whether or not they are features.
    """
    y_true, scores = scores_for_run(run, split)
    groups = groups_for_split(run.dataset, split, attribute)
    lineage = run.record.lineage
    if lineage.get("variant") == "exponentiated_gradient":
        # A randomised mixture decides by its members, not by a threshold on one network.
        from playground.fairness.mitigation_runs import mixture_predictions
        from playground.store import RunStore

        predictions = mixture_predictions(store or RunStore(), run, split)
        audit = audit_predictions(y_true, predictions, groups, n_boot=n_boot, seed=seed)
    elif lineage.get("variant") == "threshold_optimizer":
        post = _fit_postprocessor(run, lineage["attribute"], lineage["constraint"])
        own_groups = groups_for_split(run.dataset, split, lineage["attribute"])
        predictions = post.apply(scores, own_groups)
        audit = audit_predictions(y_true, predictions, groups, n_boot=n_boot, seed=seed)
    else:
        audit = audit_model(y_true, scores, groups, threshold, n_boot, seed)
    audit.split = split
    return audit


# How a post-processed variant decides: its thresholds come from another split than its rates.
FITTED_ON_VALIDATION = "per-group thresholds fitted on the validation split"


@dataclass
class Comparison:
    """`table`: one row per run: run, variant, status, decision (the threshold, or the
    post-processed variant's validation-fitted thresholds), then for finished runs the test
    split's accuracy, selection_rate and disparities."""

    table: pd.DataFrame
    notes: list[str]


def compare_variants(
    store: RunStore, parent_id: str, attribute: str, threshold: float = 0.5
) -> Comparison:
    """The run and each finished variant: test accuracy and disparities by `attribute`."""
    runs = [store.get_run(parent_id), *store.variants(parent_id)]
    rows, notes = [], []
    for record in runs:
        post_processed = record.lineage.get("variant") == "threshold_optimizer"
        mixture = record.lineage.get("variant") == "exponentiated_gradient"
        decision = FITTED_ON_VALIDATION if post_processed else f"threshold {threshold:.2f}"
        if mixture:
            decision = f"randomised over {len(record.lineage.get('members', []))} networks"
        row: dict[str, Any] = {
            "run": record.id,
            "variant": VARIANTS.get(record.lineage.get("variant", ""), "original"),
            "status": record.status,
            "decision": decision,
        }
        if record.status != "completed" or not store.has_weights(record.id):
            rows.append(row)
            continue
        audit = audit_any_run(load_run(record.id, store), attribute, threshold, store=store)
        row["accuracy"] = float(audit.overall["accuracy"])
        row["selection_rate"] = float(audit.overall["selection_rate"])
        for name, value in audit.disparities.items():
            row[name] = float(value)
        rows.append(row)
    table = pd.DataFrame(rows)
    if "demographic_parity_difference" in table:
        notes += _proxy_note(table)
    return Comparison(table, notes)


def _proxy_note(table: pd.DataFrame) -> list[str]:
    original = table.iloc[0].get("demographic_parity_difference", np.nan)
    dropped = table[table["variant"] == VARIANTS["drop_attribute"]]
    notes = []
    for _, row in dropped.iterrows():
        gap = row.get("demographic_parity_difference", np.nan)
        if np.isfinite(original) and np.isfinite(gap) and original > 0 and gap >= 0.5 * original:
            notes.append(
                f"Without the attribute the demographic parity gap is still {gap:.2f} "
                f"(was {original:.2f}): other features act as proxies for it, so removing "
                f"the column alone does not remove the bias. See {quote(PROXIES)} on the "
                f"{quote(DATA_TAB)} tab."
            )
    return notes
