"""AppTests of run names: the Train page names a run by default, the Runs table shows the main
options and filters them, and pickers show whole names."""

from __future__ import annotations

from playground.jobs import JobRegistry
from playground.runs import RunRequest
from tests.app_helpers import open_page, wait_for

LAYERS = {"layers": [{"kind": "linear", "out_features": 4}, {"kind": "relu"}, {"kind": "linear"}]}


def _run(registry: JobRegistry, **config: object) -> str:
    job = registry.submit(
        RunRequest.supervised("xor", {"n_samples": 200}, LAYERS, {"epochs": 2, **config})
    )
    wait_for(job)
    return job.id


def test_the_train_page_names_a_run_unless_the_user_does(registry: JobRegistry) -> None:
    at = open_page("train", config={"epochs": 3, "lr": 0.003})
    name_box = at.text_input(key="run_name")
    assert name_box.placeholder == "spiral · MLP 32-32 · lr 0.003 · epochs 3"
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for(registry.get(at.session_state["job_id"]))
    assert registry.store.get_run(at.session_state["job_id"]).name == name_box.placeholder
    at.text_input(key="run_name").input("baseline").run()
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for(registry.get(at.session_state["job_id"]))
    assert registry.store.get_run(at.session_state["job_id"]).name == "baseline"


def test_the_runs_table_shows_options_and_filters(registry: JobRegistry) -> None:
    slow, fast = _run(registry, lr=0.001), _run(registry, lr=0.1, optimizer="sgd")
    at = open_page("runs")
    table = at.dataframe[0].value.set_index("run")
    assert table.loc[slow, "name"] == "xor · MLP 4 · lr 0.001 · epochs 2"
    assert table.loc[fast, "optimiser"] == "sgd" and table.loc[fast, "learning rate"] == 0.1
    assert table.loc[slow, "dataset"] == "xor" and table.loc[slow, "model"] == "MLP 4"
    picker = at.selectbox(key="target_run")
    assert any(
        o.startswith("xor · MLP 4 · sgd · lr 0.1 · epochs 2 · completed") for o in picker.options
    )

    at.text_input[0].input("sgd").run()
    assert at.dataframe[0].value["run"].tolist() == [fast]
    assert at.caption[0].value.startswith("1 of 2 runs")


def test_stop_on_the_train_page_cancels_a_queued_run(registry: JobRegistry) -> None:
    blockers = [
        registry.submit(RunRequest.supervised("spiral", {}, LAYERS, {"epochs": 100_000}))
        for _ in range(registry.max_workers)
    ]
    try:
        at = open_page("train", config={"epochs": 5})
        next(b for b in at.button if b.label == "Start training").click().run()
        job_id = at.session_state["job_id"]
        assert registry.snapshot(job_id).status == "queued"
        next(b for b in at.button if b.label == "Stop").click().run()
        wait_for(registry.get(job_id), seconds=10)
        record = registry.store.get_run(job_id)
        assert record.status == "cancelled" and record.epochs_done == 0
        assert not registry.store.has_weights(job_id)
    finally:
        for blocker in blockers:
            blocker.stop()
        for blocker in blockers:
            wait_for(blocker)
