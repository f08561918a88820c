"""Sweeps on this machine's worker processes (the job registry's executor): a small spiral
sweep finds a clearly better configuration than its worst and stores every trial as a run
with its lineage; median pruning stops a poor trial early; a sweep stopped midway (and one
left RUNNING by a dead process) resumes and finishes its budget without repeating trials."""

from __future__ import annotations

import math
import threading
import time

import optuna
import pytest

from playground.jobs import JobRegistry
from playground.runs import RunRequest
from playground.store import RunStore
from playground.sweeps import (
    SearchSpace,
    SweepConfig,
    SweepRegistry,
    SweepStore,
    best_trial,
    create_sweep,
    importances,
    load_trials,
)

SPEC = [{"kind": "linear", "out_features": 16}, {"kind": "relu"}, {"kind": "linear"}]
# A margin a real search clears easily on the spiral: a good learning rate and width reach
# 0.9+ validation accuracy in 20 epochs, a poor one stays near 0.5-0.6.
MARGIN = 0.15


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory):
    """One registry (2 worker processes) for the module: workers take seconds to start."""
    root = tmp_path_factory.mktemp("sweeps")
    registry = JobRegistry(max_workers=2, store=RunStore(root))
    registry.warm()
    yield registry, SweepRegistry(registry), SweepStore(root)
    registry.shutdown()


def _base(epochs: int = 20, batch_size: int = 32) -> RunRequest:
    config = {"epochs": epochs, "device": "cpu", "batch_size": batch_size}
    return RunRequest.supervised("spiral", {}, SPEC, config)


def test_a_spiral_sweep_beats_its_worst_trial_and_stores_every_trial(local) -> None:
    registry, sweeps, store = local
    space = SearchSpace.from_texts(["lr=log:1e-4:1e-1", "layers.0.out_features=int:4:48"])
    config = SweepConfig(base=_base(), space=space, trials=6, workers=2, pruner="none", seed=3)
    driver = sweeps.start(config)
    assert driver.wait(120), "the sweep did not finish"
    record = store.get(driver.sweep_id)
    assert record.status == "completed", record.message
    assert (record.metric, record.direction) == ("val_acc", "maximize")
    rows = load_trials(record, store)
    assert [r.state for r in rows] == ["complete"] * 6
    values = [r.value for r in rows]
    best = best_trial(rows, "maximize")
    assert best is not None and best.value == max(values)
    assert best.value >= min(values) + MARGIN, values
    # Every trial is a stored run with its lineage, history and weights.
    runs = {r.id: r for r in registry.store.list_runs()}
    for row in rows:
        run = runs[row.run_id]
        assert run.status == "completed"
        assert run.lineage == {"sweep": record.id, "trial": row.number, "params": row.params}
        assert run.epochs_done == 20 and row.epochs == 20
        assert registry.store.has_weights(run.id)
        assert math.isclose(run.final_metrics["val_acc"], row.value)
        assert run.config["lr"] == row.params["lr"]
        assert run.spec["layers"][0]["out_features"] == row.params["layers.0.out_features"]
    shares = importances(record, store)
    assert set(shares) == {"lr", "layers.0.out_features"}
    assert math.isclose(sum(shares.values()), 1.0, rel_tol=1e-6)


def test_median_pruning_stops_a_poor_trial_early(local) -> None:
    registry, sweeps, store = local
    # Long enough per trial (about 2 s) that the pruner's verdict arrives mid-run.
    base = _base(epochs=60, batch_size=16).model_copy(
        update={"dataset_params": {"n_samples": 2000}}
    )
    space = SearchSpace.from_texts(["lr=log:1e-5:1e-1"])
    config = SweepConfig(base=base, space=space, trials=4, workers=1, pruner="median")
    sweep_id = create_sweep(config, store)
    record = store.get(sweep_id)
    study = optuna.load_study(study_name=sweep_id, storage=store.optuna_storage())
    # Two good trials set the median; then two that barely learn (lr 1e-5).
    for lr in (0.03, 0.02, 1e-5, 1.2e-5):
        study.enqueue_trial({"lr": lr})
    driver = sweeps.resume(sweep_id)
    assert driver.wait(120)
    rows = load_trials(store.get(sweep_id), store)
    assert [r.state for r in rows[:2]] == ["complete", "complete"]
    pruned = [r for r in rows if r.pruned]
    assert pruned, [(r.state, r.epochs) for r in rows]
    for row in pruned:
        assert row.params["lr"] < 1e-4
        run = registry.store.get_run(row.run_id)
        assert run.status == "stopped" and run.lineage["pruned"] is True
        assert run.epochs_done < 60  # stopped before its last epoch
        assert run.message.startswith(f"Pruned by sweep {record.id}")
    assert store.get(sweep_id).status == "completed"


def test_a_stopped_and_a_crashed_sweep_resume_without_repeating_trials(local) -> None:
    registry, sweeps, store = local
    space = SearchSpace.from_texts(["lr=log:1e-3:1e-1", "layers.0.out_features=int:4:32"])
    config = SweepConfig(
        base=_base(epochs=30), space=space, trials=5, workers=2, sampler="random", pruner="none"
    )
    finished = threading.Event()

    def progress(line: str) -> None:
        if "(2/5 done)" in line:
            finished.set()

    driver = sweeps.start(config, on_progress=progress)
    assert finished.wait(120)
    driver.stop()
    assert driver.wait(60)
    sweep_id = driver.sweep_id
    assert store.get(sweep_id).status == "stopped"
    before = load_trials(store.get(sweep_id), store)
    done_before = {r.number: (r.run_id, r.value) for r in before if r.state == "complete"}
    assert len(done_before) >= 2
    # A process that died mid-trial leaves a RUNNING trial behind.
    study = optuna.load_study(study_name=sweep_id, storage=store.optuna_storage())
    # (Asking takes a queued trial first: the ghost may hold a stopped trial's parameters.)
    ghost = study.ask(
        {
            "lr": optuna.distributions.FloatDistribution(1e-3, 1e-1, log=True),
            "layers.0.out_features": optuna.distributions.IntDistribution(4, 32),
        }
    )

    resumed = sweeps.resume(sweep_id)
    assert resumed.wait(120)
    record = store.get(sweep_id)
    assert record.status == "completed", record.message
    rows = load_trials(record, store)
    complete = [r for r in rows if r.state == "complete"]
    assert len(complete) == 5  # the budget, finished
    # The trials finished before the stop were not run again: same runs, same scores.
    for number, (run_id, value) in done_before.items():
        row = next(r for r in rows if r.number == number)
        assert (row.state, row.run_id, row.value) == ("complete", run_id, value)
    run_ids = [r.run_id for r in complete]
    assert len(set(run_ids)) == 5
    # Stopped and dead trials are marked, and their parameters ran again in a later trial.
    assert next(r for r in rows if r.number == ghost.number).state == "stopped"
    assert any(r.params == ghost.params and r.number > ghost.number for r in complete)
    stopped = [r for r in rows if r.state == "stopped" and r.run_id]
    for row in stopped:
        assert any(r.params == row.params and r.number > row.number for r in complete)
    lineage_trials = sorted(
        r.lineage["trial"]
        for r in registry.store.list_runs()
        if r.lineage.get("sweep") == sweep_id and r.status == "completed"
    )
    assert lineage_trials == sorted(r.number for r in complete)


def test_a_paused_sweep_submits_nothing_until_resumed(local) -> None:
    _, sweeps, store = local
    space = SearchSpace.from_texts(["lr=log:1e-3:1e-1"])
    config = SweepConfig(base=_base(epochs=10), space=space, trials=3, workers=1, pruner="none")
    first = threading.Event()

    def progress(line: str) -> None:
        if "started" in line:
            first.set()

    driver = sweeps.start(config, on_progress=progress)
    assert first.wait(60)
    driver.pause()  # the running trial finishes; no other starts
    deadline = time.monotonic() + 60
    while driver.status != "paused" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert driver.status == "paused" and store.get(driver.sweep_id).status == "paused"
    time.sleep(1.0)  # time enough to start another trial, were it not paused
    rows = load_trials(store.get(driver.sweep_id), store)
    assert [r.state for r in rows] == ["complete"]
    driver.resume()
    assert driver.wait(60)
    rows = load_trials(store.get(driver.sweep_id), store)
    assert [r.state for r in rows] == ["complete"] * 3
    assert store.get(driver.sweep_id).status == "completed"


def test_a_time_budget_ends_the_sweep_before_its_trial_budget(local) -> None:
    registry, sweeps, store = local
    space = SearchSpace.from_texts(["lr=log:1e-3:1e-1"])
    config = SweepConfig(
        base=_base(epochs=40), space=space, trials=200, timeout=4, workers=2, pruner="none"
    )
    started = time.monotonic()
    driver = sweeps.start(config)
    assert driver.wait(120), "the sweep did not end"
    record = store.get(driver.sweep_id)
    rows = load_trials(record, store)
    # No trial starts after the budget: the sweep ends once the running ones finish.
    assert 1 <= len(rows) < 200
    assert "time budget (4 s) ran out" in record.message, record.message
    assert all(r.state in ("complete", "pruned", "failed", "stopped") for r in rows)
    assert time.monotonic() - started < 60
    runs = {r.id: r for r in registry.store.list_runs()}
    assert all(runs[r.run_id].status == "completed" for r in rows if r.run_id)
