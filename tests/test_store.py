"""Run store: round trips through SQLite + safetensors, and runs that survive a killed process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from playground.errors import RunNotFoundError
from playground.model.shorthand import parse_layers
from playground.runner import load_run, predict_logits
from playground.store import RunStore
from playground.train import TrainConfig
from tests.run_helpers import train_stored

ROOT = Path(__file__).resolve().parents[1]
SPEC = parse_layers("linear:16 relu batchnorm1d linear")


def test_stored_run_loads_back_to_the_same_predictions(store: RunStore) -> None:
    outcome, trainer = train_stored(
        "moons", {"n_samples": 300}, SPEC, {"epochs": 5}, store, name="moons test"
    )
    state = outcome.state
    assert state.status == "completed"

    record = store.get_run(outcome.run_id)
    assert record.status == "completed" and record.finished_at is not None
    assert record.name == "moons test"
    assert record.epochs_done == 5
    assert record.param_count == trainer.built.total_params
    assert record.final_metrics == pytest.approx(state.final_metrics)
    assert TrainConfig.parse(record.config) == trainer.config
    assert record.mode == "supervised" and record.request["name"] == "moons test"
    history = store.epochs(outcome.run_id)
    assert [row["train_loss"] for row in history] == pytest.approx(
        [r["train_loss"] for r in state.history]
    )
    assert "grad_norms" in history[-1]

    loaded = load_run(outcome.run_id, store)
    x = loaded.dataset.test.x
    assert torch.equal(x, trainer.dataset.test.x)  # the dataset rebuilds identically
    expected = predict_logits(trainer.model, x)
    assert torch.equal(predict_logits(loaded.model, x), expected)  # incl. BatchNorm running stats


def test_runs_are_listed_newest_first_and_can_be_deleted(store: RunStore) -> None:
    ids = [store.create_run(dataset="xor", dataset_params={}, spec={}, config={}) for _ in range(3)]
    assert [r.id for r in store.list_runs()] == ids[::-1]
    store.delete_run(ids[0])
    assert ids[0] not in [r.id for r in store.list_runs()]
    with pytest.raises(RunNotFoundError):
        store.get_run(ids[0])
    with pytest.raises(RunNotFoundError, match="not a valid run id"):
        store.weights_path("../../etc/passwd")


def test_store_uses_wal_and_the_data_dir_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "elsewhere"))
    store = RunStore()
    assert store.root == tmp_path / "elsewhere"
    with sqlite3.connect(store.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


KILLED_TRAINER = textwrap.dedent(
    """
    import sys, time
    from playground.runs import RunRequest, run_request
    from playground.store import RunStore
    from playground.train import Callback

    # The reporter's own cadence (flush every 0.5 s, a checkpoint after the first epoch and
    # then every 5 s), as every run has it.
    class Slow(Callback):
        def on_train_start(self, trainer):
            print("RUN", trainer.callbacks[-1].run_id, flush=True)  # the reporter knows it

        def on_epoch_end(self, trainer, row):
            print("EPOCH", row["epoch"], flush=True)  # before the reporter stores epoch n
            time.sleep(0.2)

    request = RunRequest.supervised(
        "xor",
        {"n_samples": 200},
        [{"kind": "linear", "out_features": 8}, {"kind": "relu"}, {"kind": "linear"}],
        {"epochs": 1000},
    )
    run_request(request, RunStore(sys.argv[1]), callbacks=[Slow()])
    """
)


def test_a_killed_process_leaves_an_interrupted_run_with_its_history(tmp_path: Path) -> None:
    root = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_TRAINER, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    run_id = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("RUN"):
            run_id = line.split()[1]
        if line.strip() == "EPOCH 8":  # 1.4 s in: at least two 0.5 s flushes have happened
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert run_id is not None

    store = RunStore(root)  # opening the store notices the dead owner
    record = store.get_run(run_id)
    assert record.status == "interrupted"
    assert "ended unexpectedly" in record.message
    assert record.epochs_done >= 3
    assert len(store.epochs(run_id)) == record.epochs_done
    loaded = load_run(run_id, store)  # the last checkpoint still loads
    assert predict_logits(loaded.model, loaded.dataset.test.x).shape == (
        len(loaded.dataset.test),
        2,
    )


def test_a_live_run_in_this_process_is_not_marked_interrupted(store: RunStore) -> None:
    run_id = store.create_run(
        dataset="xor", dataset_params={}, spec={}, config={}, status="running"
    )
    assert store.mark_interrupted() == 0
    assert store.get_run(run_id).status == "running"


def test_a_run_being_trained_cannot_be_deleted_and_a_late_update_leaves_no_orphan(
    tmp_path: Path,
) -> None:
    from playground.errors import PlaygroundError
    from playground.store import RunUpdate

    store = RunStore(tmp_path)
    run_id = store.create_run(
        dataset="xor", dataset_params={}, spec={"layers": []}, config={}, status="running"
    )
    # Its owner (this process) is alive: deleting it would orphan the writer.
    with pytest.raises(PlaygroundError, match="still running"):
        store.delete_run(run_id)
    store.set_status(run_id, "stopped", "", final=True)
    store.delete_run(run_id)
    # A worker's update that was already on its way arrives after the delete.
    store.apply_update(RunUpdate(run_id, weights=b"not even read", status="completed"))
    assert not store.weights_path(run_id).exists()
    assert store.list_runs() == []


def test_session_snapshots_round_trip_refuse_bad_tokens_and_are_pruned(tmp_path: Path) -> None:
    import time

    from playground.store.sessions import SessionSnapshots, new_token

    snapshots = SessionSnapshots(tmp_path)
    token, old = new_token(), new_token()
    snapshots.save(token, {"dataset": {"name": "spiral"}})
    snapshots.save(old, {"dataset": {"name": "xor"}})
    assert snapshots.load(token) == {"dataset": {"name": "spiral"}}
    for bad in ("../../etc/passwd", "short", "", "a" * 65):
        assert snapshots.load(bad) is None
    with pytest.raises(ValueError):
        snapshots.save("../escape", {})
    month_ago = time.time() - 31 * 86400
    os.utime(snapshots.folder / f"{old}.json", (month_ago, month_ago))
    assert snapshots.prune() == 1
    assert snapshots.load(old) is None and snapshots.load(token) is not None
