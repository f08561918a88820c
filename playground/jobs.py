"""A process-wide registry of training jobs, trained by an executor (worker processes).

The app (any page, any tab, any rerun) submits a run request here and later finds the job
again by id: the job outlives the page that started it. Pages read `snapshot()`s on a timer;
the executor's thread applies the workers' updates to the run store, then to the job. The
server's process never trains: it only checks requests, records runs and writes updates.

Finished jobs leave memory (the newest few are kept for pages still showing them; the rest
is in the store), the queue is bounded, and stopping the server stops the workers: their
runs end 'stopped', or 'interrupted' if a worker does not stop in time.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable

from playground.data import Dataset
from playground.data.uploads import prune_uploads, uploads_in_use
from playground.errors import PlaygroundError
from playground.executors import Executor, Task, make_executor
from playground.runs import RunRequest, check_request, record, start_weights
from playground.runs.live import JobSnapshot, LiveRun
from playground.status import CANCELLED, INTERRUPTED
from playground.store import RunStore, RunUpdate
from playground.store.sessions import SessionSnapshots
from playground.train.control import RunControl

DEFAULT_MAX_QUEUE = 16  # runs waiting for a worker; more is refused with a clear message
KEEP_FINISHED = 8  # finished jobs kept in memory for pages still showing them
SHUTDOWN_SECONDS = 5.0

log = logging.getLogger(__name__)

__all__ = ["Job", "JobRegistry", "JobSnapshot", "default_registry"]


class JobControl(RunControl):
    """The server's side of a job's control: remembers the request (pages show it) and
    passes it to the executor, which reaches the worker within a step."""

    def __init__(self, executor: Executor, run_id: str) -> None:
        super().__init__()
        self._executor = executor
        self._run_id = run_id

    def _write(self, code: int) -> None:
        super()._write(code)
        self._executor.control(self._run_id, code)


class Job:
    def __init__(self, live: LiveRun, control: JobControl) -> None:
        self.id = live.run_id
        self.live = live
        self.control = control

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.stop()

    def step_once(self) -> None:
        self.control.step_once()

    def snapshot(self, queue_position: int | None = None) -> JobSnapshot:
        return self.live.snapshot(queue_position)


class JobRegistry:
    """Submit run requests, find jobs by id, bound how many wait."""

    def __init__(
        self,
        max_workers: int | None = None,
        store: RunStore | None = None,
        *,
        executor: str = "local",
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        self.store = store or RunStore()
        self.max_queue = max_queue
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._closed = False
        # Called with every update after it is stored (sweeps follow their trials' epochs).
        self._listeners: list[Callable[[RunUpdate], None]] = []
        self.executor = make_executor(executor, self._on_update, self._on_lost, max_workers)
        # Stopping the server (Ctrl+C, SIGTERM) ends the interpreter normally: stop the runs.
        atexit.register(_shutdown_if_alive, weakref.ref(self))

    @property
    def max_workers(self) -> int:
        return self.executor.capacity

    def warm(self) -> None:
        """Start the workers now, so the first run does not wait for them."""
        self.executor.warm()

    # -- submitting --------------------------------------------------------------------
    def submit(self, request: RunRequest, dataset: Dataset | None = None) -> Job:
        """Check and record the run, then queue it. Bad input raises before anything is
        recorded; a full queue raises a PlaygroundError saying so."""
        if self._closed:
            raise PlaygroundError("The server is shutting down.", "Start it again to train.")
        waiting = sum(1 for j in self.jobs() if j.live.status == "queued")
        if waiting >= self.max_queue:
            raise PlaygroundError(
                f"The training queue is full: {waiting} runs are waiting for a free worker "
                f"({self.max_workers} train at once).",
                "Wait for a run to finish, or stop one on the Train page, then start again.",
            )
        checked = check_request(request, dataset)
        initial = start_weights(request, self.store)
        run_id = record(
            request, self.store, checked, status="queued", message="Waiting for a free worker."
        )
        live = LiveRun(
            run_id,
            request.config.epochs,
            checked.dataset.name,
            checked.dataset.params,
            checked.layer_labels(),
        )
        job = Job(live, JobControl(self.executor, run_id))
        with self._lock:
            self._jobs[run_id] = job
        self.executor.submit(Task(run_id, request.to_json(), initial))
        return job

    # -- finding -----------------------------------------------------------------------
    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id or "")

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def queue_position(self, job: Job) -> int | None:
        """1 for the next job to start, 2 after it...; None once it runs."""
        return self.executor.queue_position(job.id)

    def snapshot(self, job_id: str) -> JobSnapshot | None:
        job = self.get(job_id)
        return job.snapshot(self.queue_position(job)) if job else None

    def add_listener(self, listener: Callable[[RunUpdate], None]) -> Callable[[], None]:
        """Call `listener(update)` (on the executor's thread: keep it short) with every
        update of every run, after the store has it; a run ended from outside (worker lost,
        server stopping) arrives as a final update with its status. Returns the call that
        removes the listener."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _tell_listeners(self, update: RunUpdate) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(update)
            except Exception:  # one listener's bug must not stop the runs' updates
                log.exception("a job listener failed on run %s", update.run_id)

    # -- what the executor reports (its thread) ----------------------------------------
    def _on_update(self, update: RunUpdate) -> None:
        try:
            self.store.apply_update(update)  # the store first: a page seeing the status finds it
        except Exception:  # e.g. the run was deleted meanwhile; the other runs go on
            log.exception("could not store an update of run %s", update.run_id)
        job = self.get(update.run_id)
        if job is not None:
            job.live.apply(update)
            if update.final:
                self._forget_old()
        self._tell_listeners(update)

    def _on_lost(self, run_id: str, why: str) -> None:
        self._end(run_id, INTERRUPTED, why)

    def _end(self, run_id: str, status: str, message: str) -> None:
        job = self.get(run_id)
        if job is not None and job.live.settled:
            return
        try:
            self.store.set_status(run_id, status, message, final=True)
        except Exception:
            log.exception("could not end run %s", run_id)
        if job is not None:
            job.live.end(status, message)
        self._forget_old()
        self._tell_listeners(RunUpdate(run_id, status=status, message=message, final=True))

    def _forget_old(self) -> None:
        with self._lock:
            ended = sorted(
                (j for j in self._jobs.values() if j.live.ended),
                key=lambda j: j.live.ended_at or 0.0,
            )
            for job in ended[:-KEEP_FINISHED] if len(ended) > KEEP_FINISHED else []:
                del self._jobs[job.id]

    # -- stopping ----------------------------------------------------------------------
    def shutdown(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """Stop every run and the workers. Runs that stop in time end 'stopped'; the rest
        (and queued runs) end 'interrupted' or 'stopped', never 'running'."""
        if self._closed:
            return
        self._closed = True
        left = self.executor.shutdown(timeout)
        for run_id in left:
            job = self.get(run_id)
            started = job is None or job.live.status != "queued"
            if started:
                self._end(
                    run_id,
                    INTERRUPTED,
                    "The server stopped while this run was training; "
                    "its history and last checkpoint up to then are kept.",
                )
            else:
                self._end(run_id, CANCELLED, "The server stopped before this run started.")


def _shutdown_if_alive(ref: weakref.ReferenceType[JobRegistry]) -> None:
    registry = ref()
    if registry is not None:
        registry.shutdown()


_default: JobRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> JobRegistry:
    """The process-wide registry (one per server), made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JobRegistry()
            _prune_uploads(_default.store)
        return _default


def _prune_uploads(store: RunStore) -> None:
    """Once per server: delete uploaded CSV copies no stored run uses and nobody touched for a
    month, and session snapshots untouched for a month. A failure here must never keep the server from starting."""
    try:
        removed = prune_uploads(store.root, uploads_in_use(store.list_runs()))
        SessionSnapshots(store.root).prune()
    except OSError:
        log.exception("could not prune old uploads")
        return
    if removed:
        log.info("removed %d unused uploads", len(removed))
