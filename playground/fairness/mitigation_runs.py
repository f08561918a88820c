"""The in-training mitigations kept as stored runs, with their lineage.

    keep_grid_point      a GridSearch point -> a run (lineage variant "grid_search")
    keep_mixture         an ExponentiatedGradient mixture -> one run per member network
                         (lineage "mixture_member", no parent: they are parts, not variants)
                         and the mixture's own run (variant "exponentiated_gradient")
    mixture_predictions  a stored mixture's seeded decisions on a split
    adversarial_request  the run request of an adversarial-debiasing variant

A kept network's request is mode `cell_weights` with the reduction's recipe, so it trains
again from the dataset alone; the weights stored are the ones the search trained, so the run
exists at once, without training twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from playground.errors import PlaygroundError
from playground.fairness.reductions import (
    MIXTURE_SEED,
    GridResult,
    MixtureResult,
    ReducedNetwork,
    draw_mixture,
)
from playground.runner import LoadedRun, load_run, predict_logits
from playground.runs import RunRequest
from playground.runs.execute import record
from playground.store import RunRecord, RunStore
from playground.train.modes.adversarial import AdversarialMode

CONSTRAINT_WORDS = {
    "demographic_parity": "demographic parity",
    "equalized_odds": "equalized odds",
    "true_positive_rate_parity": "equal opportunity",
}


def network_request(
    parent: RunRecord, network: ReducedNetwork, attribute: str, name: str, reduction: str
) -> RunRequest:
    """The request that trains `network` again: the parent's dataset, spec and config, mode
    cell_weights with the reduction's recipe."""
    from playground.fairness.estimator import training_config

    return RunRequest.parse(
        {
            "dataset": parent.dataset,
            "dataset_params": parent.dataset_params,
            "modules": {"model": network.spec},
            "config": training_config(parent.config).model_dump(),
            "mode": "cell_weights",
            "mode_options": {
                "attribute": attribute,
                "cells": network.cells,
                "reduction": reduction,
            },
            "name": name,
        }
    )


def _store_network(
    store: RunStore, request: RunRequest, network: ReducedNetwork, lineage: dict[str, Any]
) -> str:
    run_id = record(request.model_copy(update={"lineage": lineage}), store, status="running")
    store.save_weights_bytes(run_id, network.weights or b"")
    run = load_run(run_id, store)
    store.set_final_metrics(run_id, _accuracies(run))
    store.set_status(run_id, "completed", "Trained by a fairness reduction.", final=True)
    return run_id


def _accuracies(run: LoadedRun) -> dict[str, float]:
    out = {}
    for split in ("train", "val", "test"):
        data = run.dataset.split(split)
        pred = predict_logits(run.model, data.x).argmax(-1).numpy()
        out[f"{split}_acc"] = float((pred == data.y.numpy()).mean())
    return out


def _base_name(parent: RunRecord) -> str:
    return parent.name or parent.id


def keep_grid_point(store: RunStore, parent_id: str, result: GridResult, point: int) -> str:
    """Store GridSearch point `point` as a variant run of `parent_id`; returns its id."""
    if not 0 <= point < len(result.networks):
        raise PlaygroundError(
            f"GridSearch has no point {point}.", f"Choose 0 to {len(result.networks) - 1}."
        )
    network = result.networks[point]
    if network.constant is not None:
        raise PlaygroundError(
            f"Point {point} is a constant decision ({network.constant} for everyone), not a "
            "network.",
            "Choose another point on the front.",
        )
    parent = store.get_run(parent_id)
    words = CONSTRAINT_WORDS[result.constraint]
    name = f"{_base_name(parent)} · GridSearch point {point} ({words} by {result.attribute})"
    row = result.table.iloc[point]
    lineage = {
        "parent": parent_id,
        "variant": "grid_search",
        "attribute": result.attribute,
        "constraint": result.constraint,
        "point": point,
        "multipliers": network.multipliers,
        "val_accuracy": float(row["val_accuracy"]),
        "val_disparity": float(row["val_disparity"]),
    }
    request = network_request(parent, network, result.attribute, name, "grid_search")
    return _store_network(store, request, network, lineage)


def keep_mixture(store: RunStore, parent_id: str, result: MixtureResult) -> str:
    """Store an ExponentiatedGradient mixture: a run per member network, then the mixture's
    run (a variant of `parent_id`) listing them; returns the mixture's id."""
    parent = store.get_run(parent_id)
    words = CONSTRAINT_WORDS[result.constraint]
    members, constants = [], []
    for i, (network, weight) in enumerate(zip(result.members, result.weights, strict=True)):
        if network.constant is not None:
            constants.append({"decision": network.constant, "weight": weight})
            continue
        name = f"{_base_name(parent)} · ExponentiatedGradient member {i} ({words})"
        request = network_request(parent, network, result.attribute, name, "exponentiated_gradient")
        lineage = {"mixture_of": parent_id, "variant": "mixture_member", "weight": weight}
        members.append({"run": _store_network(store, request, network, lineage), "weight": weight})
    if not members:
        raise PlaygroundError(
            "ExponentiatedGradient chose only constant decisions: there is no network to keep.",
            "Loosen the constraint (a larger eps) or train the original run longer.",
        )
    heaviest = max(members, key=lambda m: m["weight"])
    lineage = {
        "parent": parent_id,
        "variant": "exponentiated_gradient",
        "attribute": result.attribute,
        "constraint": result.constraint,
        "eps": result.eps,
        "members": members,
        "constants": constants,
        "seed": MIXTURE_SEED,
    }
    source = store.get_run(heaviest["run"])
    run_id = store.create_run(
        dataset=source.dataset,
        dataset_params=source.dataset_params,
        spec=source.spec,
        config=source.config,
        param_count=source.param_count,
        name=f"{_base_name(parent)} · ExponentiatedGradient ({words} by {result.attribute})",
        status="running",
        lineage=lineage,
    )
    store.save_weights_bytes(run_id, store.weights_path(heaviest["run"]).read_bytes())
    mixture = load_run(run_id, store)
    metrics = {}
    for split in ("train", "val", "test"):
        pred = mixture_predictions(store, mixture, split)
        metrics[f"{split}_acc"] = float((pred == mixture.dataset.split(split).y.numpy()).mean())
    store.set_final_metrics(run_id, metrics)
    store.set_status(
        run_id,
        "completed",
        f"A randomised mixture of {len(members)} networks"
        + (f" and {len(constants)} constant decisions" if constants else "")
        + f" (ExponentiatedGradient, {words} by {result.attribute}).",
        final=True,
    )
    return run_id


def mixture_decision_probability(store: RunStore, run: LoadedRun, split: str) -> np.ndarray:
    """P(positive decision) (N,) of a stored mixture on a split: its members' 0/1 decisions
    weighted by their probabilities (what Fairlearn's _pmf_predict gives)."""
    lineage = run.record.lineage
    x = run.dataset.split(split).x
    pmf = np.zeros(len(x))
    for member in lineage["members"]:
        loaded = load_run(member["run"], store)
        decisions = predict_logits(loaded.model, x).argmax(-1).numpy()
        pmf += member["weight"] * decisions
    for constant in lineage.get("constants", []):
        pmf += constant["weight"] * constant["decision"]
    return pmf


def mixture_predictions(store: RunStore, run: LoadedRun, split: str) -> np.ndarray:
    """A stored mixture's decisions (N,) on a split, drawn per row with its seed."""
    pmf = mixture_decision_probability(store, run, split)
    return draw_mixture([pmf], [1.0], int(run.record.lineage.get("seed", MIXTURE_SEED)))


def is_mixture(record: RunRecord) -> bool:
    return record.lineage.get("variant") == "exponentiated_gradient"


def adversarial_request(
    parent: RunRecord,
    attribute: str,
    weight: float = 1.0,
    goal: str = "equalized_odds",
) -> RunRequest:
    """A variant of `parent` trained with adversarial debiasing: the same network (its
    "model"), data and training, plus the mode's default adversary."""
    from playground.model.shorthand import parse_layers

    if parent.mode != "supervised":
        raise PlaygroundError(
            f"Adversarial debiasing retrains a supervised run; run {parent.id} is {parent.mode}.",
            "Pick the original supervised run on the Fairness page.",
        )
    config = dict(parent.config)
    config.update(reweigh=None, sampler="none", class_weighting=False)
    adversary = parse_layers(AdversarialMode.default_stacks["adversary"])
    base = parent.name or parent.id
    return RunRequest.parse(
        {
            "dataset": parent.dataset,
            "dataset_params": parent.dataset_params,
            "modules": {"model": parent.module_specs["model"], "adversary": adversary},
            "config": config,
            "mode": AdversarialMode.name,
            "mode_options": {"attribute": attribute, "weight": weight, "goal": goal},
            "name": f"{base} · adversarial debiasing by {attribute} ({goal.replace('_', ' ')})",
            "lineage": {
                "parent": parent.id,
                "variant": "adversarial_debiasing",
                "attribute": attribute,
                "goal": goal,
                "weight": weight,
            },
        }
    )
