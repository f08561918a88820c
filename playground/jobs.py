"""A process-wide registry of training jobs, run by a small worker pool.

The app (any page, any tab, any rerun) submits a run here and later finds it again by id:
the job outlives the page that started it. Workers never call Streamlit; pages read
`Job.snapshot()`, a consistent copy of the progress, on a timer. Extra runs wait in a queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from playground.model import ModelSpec
from playground.runner import PreparedRun, prepare_run
from playground.store import RunStore
from playground.train import Callback, RunControl, TrainConfig, Trainer, TrainState

DEFAULT_WORKERS = 2
LIVE_FIGURE_SECONDS = 0.8  # how often the worker refreshes the decision-boundary grid
SNAPSHOT_RECORDS = 400  # step records a snapshot carries (the newest)


@dataclass
class JobSnapshot:
    """What a page needs to draw a job's progress; plain data, safe to read in any thread."""

    job_id: str
    status: str
    message: str
    epoch: int
    epochs: int
    step: int
    samples_per_sec: float
    elapsed: float
    eta_seconds: float | None
    score_name: str
    history: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)
    queue_position: int | None = None
    boundary: Any = None  # analysis.boundary.BoundaryGrid for 2D datasets, else None
    # The trainer sets its final status a moment before the worker has written it (and the
    # weights) to the store; a job counts as active until the worker has returned.
    settled: bool = True

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running", "paused") or not self.settled

    @property
    def progress(self) -> float:
        return min(self.epoch / self.epochs, 1.0) if self.epochs else 0.0


class LiveBoundary(Callback):
    """Recomputes the decision-boundary grid in the worker thread, at most every
    LIVE_FIGURE_SECONDS, so pages never run the model while it trains."""

    def __init__(self) -> None:
        self.grid: Any = None
        self._last = 0.0

    def _update(self, trainer: Trainer) -> None:
        from playground.analysis.boundary import decision_grid

        self.grid = decision_grid(trainer.model, trainer.dataset)
        self._last = time.monotonic()

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        if time.monotonic() - self._last >= LIVE_FIGURE_SECONDS:
            self._update(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        if trainer.state.status != "diverged":
            self._update(trainer)


class Job:
    def __init__(self, run: PreparedRun, control: RunControl, live: LiveBoundary | None) -> None:
        self.id = run.run_id
        self.run = run
        self.control = control
        self.live = live
        self.queued = True
        self.submitted_at = time.time()
        self.future: Future[TrainState] | None = None

    @property
    def trainer(self) -> Trainer:
        return self.run.trainer

    @property
    def state(self) -> TrainState:
        return self.trainer.state

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.stop()

    def _work(self) -> TrainState:
        self.queued = False
        return self.trainer.run()

    def snapshot(self, queue_position: int | None = None) -> JobSnapshot:
        state = self.state
        history = list(state.history)  # copies: the worker keeps appending
        records = list(state.records[-SNAPSHOT_RECORDS:])
        epochs = self.trainer.config.epochs
        sps = history[-1]["samples_per_sec"] if history else 0.0
        eta = None
        if history and state.status in ("running", "paused"):
            per_epoch = state.elapsed / max(state.epoch, 1)
            eta = per_epoch * (epochs - state.epoch)
        status = state.status
        if status == "pending":  # not yet picked up, or picked up and about to start
            status = "queued" if self.queued else "running"
        return JobSnapshot(
            job_id=self.id,
            status=status,
            message=state.message,
            epoch=state.epoch,
            epochs=epochs,
            step=state.step,
            samples_per_sec=sps,
            elapsed=state.elapsed,
            eta_seconds=eta,
            score_name=self.trainer.objective.score_name,
            history=history,
            records=records,
            final_metrics=dict(state.final_metrics),
            queue_position=queue_position if status == "queued" else None,
            boundary=self.live.grid if self.live else None,
            settled=self.future is not None and self.future.done(),
        )


class JobRegistry:
    """Submit runs, find them by id, bound how many train at once."""

    def __init__(self, max_workers: int = DEFAULT_WORKERS, store: RunStore | None = None) -> None:
        self.store = store or RunStore()
        self.max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="train")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        dataset_name: str,
        dataset_params: dict[str, Any],
        spec: ModelSpec | dict[str, Any] | list[Any],
        config: TrainConfig | dict[str, Any] | None = None,
        *,
        name: str = "",
        callbacks: Sequence[Callback] = (),
        lineage: dict[str, Any] | None = None,
    ) -> Job:
        """Check and record the run, then queue it. Bad input raises before anything is queued."""
        control = RunControl()
        run = prepare_run(
            dataset_name,
            dataset_params,
            spec,
            config,
            store=self.store,
            control=control,
            name=name,
            callbacks=callbacks,
            lineage=lineage,
        )
        live = LiveBoundary() if run.trainer.dataset.kind == "toy2d" else None
        if live is not None:
            run.trainer.callbacks.append(live)
        job = Job(run, control, live)
        self.store.set_status(job.id, "queued", "Waiting for a free worker.")
        with self._lock:
            self._jobs[job.id] = job
        job.future = self._pool.submit(job._work)
        return job

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id or "")

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def queue_position(self, job: Job) -> int | None:
        """1 for the next job to start, 2 after it...; None once it runs."""
        if not job.queued:
            return None
        waiting = sorted((j for j in self.jobs() if j.queued), key=lambda j: j.submitted_at)
        return next((i + 1 for i, j in enumerate(waiting) if j is job), None)

    def snapshot(self, job_id: str) -> JobSnapshot | None:
        job = self.get(job_id)
        return job.snapshot(self.queue_position(job)) if job else None

    def shutdown(self, wait: bool = True) -> None:
        for job in self.jobs():
            job.stop()
        self._pool.shutdown(wait=wait)


_default: JobRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> JobRegistry:
    """The process-wide registry (one per server), made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JobRegistry()
        return _default
