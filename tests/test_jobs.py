"""The job registry: concurrent runs that don't mix, a bounded pool with a queue, snapshots."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from playground.jobs import JobRegistry
from playground.store import RunStore
from playground.train import Callback

MLP = {"layers": [{"kind": "linear", "out_features": 8}, {"kind": "relu"}, {"kind": "linear"}]}


class Slow(Callback):
    def on_epoch_end(self, trainer, row) -> None:
        time.sleep(0.05)


@pytest.fixture
def registry(tmp_path: Path) -> JobRegistry:
    reg = JobRegistry(max_workers=2, store=RunStore(tmp_path))
    yield reg
    reg.shutdown()


def _wait(registry: JobRegistry, *ids: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while any(registry.snapshot(i).active for i in ids) and time.time() < deadline:
        time.sleep(0.02)


def test_two_runs_train_at_once_and_a_third_waits_in_the_queue(registry: JobRegistry) -> None:
    a = registry.submit("xor", {"n_samples": 200}, MLP, {"epochs": 15}, callbacks=[Slow()])
    b = registry.submit("moons", {"n_samples": 200}, MLP, {"epochs": 15}, callbacks=[Slow()])
    c = registry.submit("circle", {"n_samples": 200}, MLP, {"epochs": 2})
    time.sleep(0.3)
    snap_c = registry.snapshot(c.id)
    assert snap_c.status == "queued" and snap_c.queue_position == 1
    assert registry.store.get_run(c.id).status == "queued"
    assert {registry.snapshot(a.id).status, registry.snapshot(b.id).status} <= {"running", "paused"}
    _wait(registry, a.id, b.id, c.id)
    for job, name in ((a, "xor"), (b, "moons"), (c, "circle")):
        snap = registry.snapshot(job.id)
        assert snap.status == "completed"
        assert registry.store.get_run(job.id).dataset == name  # nothing mixed between runs
    assert len(registry.snapshot(a.id).history) == 15 and len(registry.snapshot(c.id).history) == 2


def test_snapshot_carries_progress_and_a_live_decision_boundary(registry: JobRegistry) -> None:
    job = registry.submit("xor", {"n_samples": 200}, MLP, {"epochs": 3})
    _wait(registry, job.id)
    snap = registry.snapshot(job.id)
    assert snap.progress == 1.0 and snap.epoch == 3 and snap.eta_seconds is None
    assert snap.boundary is not None and snap.boundary.values.shape == (60, 60)
    assert snap.final_metrics["test_acc"] > 0.5
    assert registry.get("no-such-job") is None and registry.snapshot("no-such-job") is None


def test_a_queued_job_can_be_stopped_before_it_starts(registry: JobRegistry) -> None:
    blockers = [
        registry.submit("xor", {"n_samples": 200}, MLP, {"epochs": 20}, callbacks=[Slow()])
        for _ in range(2)
    ]
    queued = registry.submit("xor", {"n_samples": 200}, MLP, {"epochs": 50})
    queued.stop()
    _wait(registry, queued.id, *(b.id for b in blockers))
    snap = registry.snapshot(queued.id)
    assert snap.status == "stopped" and snap.epoch == 0
    assert registry.store.get_run(queued.id).status == "stopped"
