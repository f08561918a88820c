"""The cluster path: the same sweep on a Ray instance this test starts (2 CPUs, the
playground's code shipped to it as a Ray job would ship it to other machines). Trials run as
Ray tasks; their history, final metrics and weights come back to this process's run store,
and the median pruner stops a poor trial on the cluster."""

from __future__ import annotations

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
    create_sweep,
    load_trials,
)

ray = pytest.importorskip("ray")

SPEC = [{"kind": "linear", "out_features": 16}, {"kind": "relu"}, {"kind": "linear"}]


@pytest.fixture
def local_ray():
    from playground.sweeps.ray_backend import runtime_env

    # Listening on localhost only; the code travels with the job (py_modules).
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        runtime_env=runtime_env(),
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    yield
    ray.shutdown()


def test_a_sweep_runs_on_ray_with_its_results_in_this_store(tmp_path, local_ray) -> None:
    store = RunStore(tmp_path / "data")
    sweeps = SweepStore(store.root)
    # The job registry only lends its store here: no local worker process starts.
    registry = JobRegistry(max_workers=1, store=store)
    # About 3 s a trial on a Ray worker: the pruner's verdict arrives mid-run.
    base = RunRequest.supervised(
        "spiral", {"n_samples": 2000}, SPEC, {"epochs": 60, "batch_size": 8, "device": "cpu"}
    )
    space = SearchSpace.from_texts(["lr=log:1e-5:1e-1"])
    config = SweepConfig(
        base=base, space=space, trials=3, workers=1, pruner="median", ray_address="auto"
    )
    sweep_id = create_sweep(config, sweeps)
    study = optuna.load_study(study_name=sweep_id, storage=sweeps.optuna_storage())
    for lr in (0.03, 0.02, 1e-5):  # two good trials set the median, then a poor one
        study.enqueue_trial({"lr": lr})
    driver = SweepRegistry(registry).resume(sweep_id)
    assert driver.wait(180)
    record = sweeps.get(sweep_id)
    assert record.status == "completed", record.message
    rows = load_trials(record, sweeps)
    assert [r.state for r in rows] == ["complete", "complete", "pruned"], [
        (r.epochs, r.duration, sorted(r.history.items())[:12:3]) for r in rows
    ]
    for row in rows[:2]:
        run = store.get_run(row.run_id)
        assert run.status == "completed" and run.epochs_done == 60
        assert run.lineage == {"sweep": sweep_id, "trial": row.number, "params": row.params}
        assert len(store.epochs(run.id)) == 60  # the history came back, epoch by epoch
        assert store.has_weights(run.id)  # the weights came back as bytes
        assert run.final_metrics["val_acc"] == row.value > 0.7
    pruned = store.get_run(rows[2].run_id)
    assert pruned.status == "stopped" and pruned.lineage["pruned"] is True
    assert pruned.epochs_done < 60  # the stop reached the Ray task
    registry.shutdown()
