"""Reductions with the playground's own network (Fairlearn's ExponentiatedGradient and
GridSearch), on the hiring data with its injected bias: the gap they leave, the accuracy they
cost, and how their networks are kept as stored runs that train again from their requests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.fairness.cells import apply_cells, cell_recipe
from playground.fairness.estimator import NetworkClassifier
from playground.fairness.mitigation_runs import keep_grid_point, keep_mixture
from playground.fairness.reductions import (
    ReductionProblem,
    exponentiated_gradient,
    grid_search,
    pareto_front,
)
from playground.fairness.variants import VARIANTS, audit_any_run, compare_variants
from playground.runner import load_run, predict_logits
from playground.runs import RunRequest, run_request
from playground.store import RunStore

HIRING = {"n_samples": 1500, "seed": 0}
SPEC = {"layers": [{"kind": "linear", "out_features": 32}, {"kind": "relu"}, {"kind": "linear"}]}
CONFIG = {"epochs": 10, "lr": 0.01, "batch_size": 64, "seed": 0}


@pytest.fixture(scope="module")
def problem() -> ReductionProblem:
    return ReductionProblem.of(load_dataset("hiring", **HIRING), "gender", SPEC, CONFIG)


@pytest.fixture
def parent(store: RunStore) -> str:
    outcome = run_request(RunRequest.supervised("hiring", HIRING, SPEC, CONFIG), store)
    assert outcome.state.status == "completed"
    return outcome.run_id


def test_cell_recipe_round_trips_and_refuses_rows_that_differ() -> None:
    groups = pd.Series(["a", "a", "b", "b", "b"])
    y = np.array([1, 0, 1, 1, 0])
    targets, weights = np.array([1, 1, 0, 0, 0]), np.array([2.0, 0.5, 1.5, 1.5, 0.25])
    cells = cell_recipe(groups, y, targets, weights)
    assert len(cells) == 4 and {"group": "b", "label": 1, "target": 0, "weight": 1.5} in cells
    back_t, back_w = apply_cells(groups, y, cells)
    np.testing.assert_array_equal(back_t, targets)
    np.testing.assert_allclose(back_w, weights)
    with pytest.raises(ValueError, match="different weights"):
        cell_recipe(groups, y, targets, np.array([2.0, 0.5, 1.5, 1.0, 0.25]))


def test_the_estimator_trains_through_the_trainer_with_sample_weights(problem) -> None:
    plain = NetworkClassifier(SPEC, problem.config).fit(problem.x, problem.y)
    # Zero weight on every positive row: the network learns to say no to everyone.
    w = np.where(problem.y == 1, 0.0, 1.0)
    silenced = NetworkClassifier(SPEC, problem.config).fit(problem.x, problem.y, sample_weight=w)
    assert plain.predict(problem.x).mean() > 0.25
    assert silenced.predict(problem.x).mean() < 0.02
    assert plain.predict_proba(problem.x[:5]).shape == (5, 2)


def test_exponentiated_gradient_closes_the_demographic_parity_gap(problem, parent, store) -> None:
    original = audit_any_run(load_run(parent, store), "gender")
    plain_gap = original.disparities["demographic_parity_difference"]
    plain_acc = original.overall["accuracy"]
    result = exponentiated_gradient(problem, "demographic_parity", eps=0.02, max_iter=15)
    row = result.table.iloc[0]
    assert plain_gap > 0.15  # the injected bias, learnt
    assert row["test_disparity"] < 0.10  # stated figure: under 0.10 on the test split
    assert row["test_accuracy"] > plain_acc - 0.06  # stated margin: 6 points of accuracy
    assert sum(result.weights) == pytest.approx(1.0) and len(result.members) >= 1

    # Kept: the mixture is a variant of the run; its members are runs of their own.
    mixture_id = keep_mixture(store, parent, result)
    mixture = store.get_run(mixture_id)
    assert mixture.lineage["variant"] == "exponentiated_gradient"
    assert [m["weight"] for m in mixture.lineage["members"]] == pytest.approx(
        [w for m, w in zip(result.members, result.weights, strict=True) if m.constant is None]
    )
    audit = audit_any_run(load_run(mixture_id, store), "gender", store=store)
    # The stored mixture decides exactly as the searched one did (same members, same seed).
    assert audit.disparities["demographic_parity_difference"] == pytest.approx(
        row["test_disparity"]
    )
    assert audit.overall["accuracy"] == pytest.approx(row["test_accuracy"])
    table = compare_variants(store, parent, "gender").table
    assert list(table["variant"]) == ["original", VARIANTS["exponentiated_gradient"]]
    assert table["decision"].iloc[1].startswith("randomised over")


def test_grid_search_draws_a_front_and_a_kept_point_trains_again(problem, parent, store) -> None:
    result = grid_search(problem, "demographic_parity", grid_size=5)
    table = result.table
    assert len(table) == 5 and table["on_front"].sum() >= 2
    front = table[table["on_front"]]
    # Along the front, less disparity costs accuracy (it is a trade-off, not a free lunch).
    ordered = front.sort_values("val_disparity")
    assert np.all(np.diff(ordered["val_accuracy"].to_numpy()) >= 0)
    point = int(front.sort_values("val_disparity").iloc[0]["point"])
    if result.networks[point].constant is not None:
        point = int(ordered.iloc[1]["point"])
    run_id = keep_grid_point(store, parent, result, point)
    record = store.get_run(run_id)
    assert record.lineage["variant"] == "grid_search" and record.lineage["point"] == point
    assert record.mode == "cell_weights" and record.request["mode_options"]["cells"]

    # Its request trains the very same network again from the dataset alone.
    again = run_request(RunRequest.parse(record.request), store)
    x = load_dataset("hiring", **HIRING).test.x
    stored = predict_logits(load_run(run_id, store).model, x).argmax(-1)
    retrained = predict_logits(load_run(again.run_id, store).model, x).argmax(-1)
    assert float((stored == retrained).float().mean()) >= 0.99
    with pytest.raises(PlaygroundError, match="no point 9"):
        keep_grid_point(store, parent, result, 9)


@pytest.mark.parametrize("constraint", ["equalized_odds", "true_positive_rate_parity"])
def test_the_other_constraints_run_and_report_their_own_disparity(problem, constraint) -> None:
    result = grid_search(problem, constraint, grid_size=3)
    assert set(result.table["point"]) == {0, 1, 2}
    assert result.table["test_disparity"].between(0, 1).all()


def test_pareto_front_keeps_points_no_other_beats_on_both() -> None:
    acc = np.array([0.9, 0.85, 0.8, 0.7, 0.9])
    gap = np.array([0.3, 0.1, 0.2, 0.05, 0.35])
    assert list(pareto_front(acc, gap)) == [True, True, False, True, False]
