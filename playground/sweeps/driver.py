"""The sweep driver: a thread that asks Optuna for parameters, submits each trial as a run
request to a backend (local worker processes or Ray), reports every epoch's validation score
back to Optuna while the trial trains, stops the trials the pruner gives up on, and tells
Optuna how each one ended. It never trains anything itself.

    SweepDriver(sweep_id, sweeps, backend).start()    one sweep; pause / resume / stop
    SweepRegistry                                     the process's sweeps, found again by id
                                                      (a reloaded page, a second tab)

Budgets: `trials` counts finished trials (complete, pruned or failed); a trial stopped with
the sweep is queued again (Optuna's enqueue_trial) so a resumed sweep finishes its budget
without repeating finished trials. `timeout` is seconds of sweeping over every session of it:
no trial starts after it, running ones finish.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playground.data import Dataset, load_dataset
from playground.errors import PlaygroundError
from playground.jobs import JobRegistry, default_registry
from playground.runs import RunRequest, check_request
from playground.store import RunStore, RunUpdate
from playground.sweeps.backends import LocalBackend, TrialBackend
from playground.sweeps.config import SweepConfig, resolve_objective
from playground.sweeps.space import Scalar, apply_params, suggest
from playground.sweeps.store import SweepRecord, SweepStore
from playground.sweeps.study import counted, load_trials, make_study, recover_stale_trials

log = logging.getLogger(__name__)

EVENT_SECONDS = 0.25  # the driver's wait for an update before it looks at its budget again
SAVE_SECONDS = 5.0  # how often the time spent is written (the time budget survives a crash)
BUSY_RETRY_SECONDS = 1.0  # a full job queue: try the trial again after this
BUSY_GIVE_UP_SECONDS = 600.0
MAX_INVALID = 5  # trials in a row whose parameters made no valid run before the sweep gives up

ProgressCallback = Callable[[str], None]


REPORTED_EPOCHS = 50  # intermediate values per trial, at most (plus the last epoch)


def report_stride(epochs: int) -> int:
    """Report every n-th epoch: the same n for every trial of the same length, so the
    pruners compare trials at the same steps."""
    return max(1, math.ceil(epochs / REPORTED_EPOCHS))


@dataclass
class _Active:
    """A trial whose run is queued or training."""

    trial: Any  # optuna.trial.Trial
    run_id: str
    params: dict[str, Scalar]
    epochs: int = 0
    last: float | None = None
    final_metrics: dict[str, float] | None = None
    pruning: bool = False
    pruned_at: tuple[int, float] | None = None
    started: float = field(default_factory=time.monotonic)
    # Report every `stride`-th epoch (and the last): each report is a write to Optuna's
    # SQLite storage, and at one per epoch those writes were a third of a short sweep's time.
    stride: int = 1
    total_epochs: int = 0


class SweepDriver:
    """Drives one stored sweep in a thread of this process (see the module doc)."""

    def __init__(
        self,
        sweep_id: str,
        sweeps: SweepStore,
        backend: TrialBackend,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.sweep_id = sweep_id
        self.sweeps = sweeps
        self.backend = backend
        self.on_progress = on_progress
        self.status = "running"
        self.message = ""
        self._events: queue.Queue[RunUpdate] = queue.Queue()
        self._active: dict[str, _Active] = {}
        self._pending: Any = None  # a trial asked for but not yet accepted by a busy queue
        self._busy_since: float | None = None
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = 0
        self._invalid_in_a_row = 0
        self._elapsed_before = 0.0
        self._clock: float | None = None  # monotonic start of the current stretch of work
        self._last_save = 0.0

    # -- asking (any thread) -------------------------------------------------------------
    def start(self) -> SweepDriver:
        self._thread = threading.Thread(
            target=self._run, name=f"sweep-{self.sweep_id}", daemon=True
        )
        self._thread.start()
        return self

    def pause(self) -> None:
        """Submit no more trials; running ones finish. `resume` goes on."""
        self._paused.set()
        self._wake.set()

    def resume(self) -> None:
        self._paused.clear()
        self._wake.set()

    def stop(self) -> None:
        """Stop the running trials (they are queued again for a resume) and end the sweep."""
        self._stop.set()
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the sweep to end; False if it still goes after `timeout` seconds."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    def running_runs(self) -> list[str]:
        return list(self._active)

    # -- the driver thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            record = self.sweeps.get(self.sweep_id)
            self._prepare(record)
            self._loop(record)
        except Exception as exc:  # a bug or a broken storage: the sweep says so, the app goes on
            log.exception("sweep %s failed", self.sweep_id)
            message = (
                exc.message if isinstance(exc, PlaygroundError) else f"{type(exc).__name__}: {exc}"
            )
            for active in list(self._active.values()):
                self.backend.stop(active.run_id)
            self._set_status("failed", message)
        finally:
            self.backend.close()

    def _prepare(self, record: SweepRecord) -> None:
        config = record.config
        self.config = config
        self.metric, self.direction = record.metric, record.direction
        self._dataset: Dataset = load_dataset(config.base.dataset, **config.base.dataset_params)
        self.study = make_study(record, self.sweeps)
        self._done = counted(load_trials(record, self.sweeps))
        self._budget = config.trial_budget
        self._elapsed_before = record.elapsed
        self._clock = time.monotonic()
        self.backend.open(self._events.put)
        self._progress(
            f"sweep {self.sweep_id}: {self._done}/{self._budget} trials done; "
            f"{self.metric} ({self.direction}); trials on {self.backend.where}"
        )

    def _loop(self, record: SweepRecord) -> None:
        stopping = False
        while True:
            self._save_elapsed()
            if self._stop.is_set() and not stopping:
                stopping = True
                self._set_status("stopping", "Stopping the running trials.")
                for active in self._active.values():
                    self.backend.stop(active.run_id)
            if not stopping and not self._paused.is_set():
                self._fill()
            elif self._paused.is_set() and self._active and self.status == "running":
                self._set_status("pausing", "Pausing: the running trials finish first.")
            if not self._active:
                self._drop_pending()
                if stopping:
                    self._set_status(
                        "stopped",
                        f"Stopped after {self._done} of {self._budget} trials; resume it to "
                        "finish the budget.",
                    )
                    return
                if self._finished_reason():
                    self._set_status("completed", self._finished_reason())
                    return
                if self._invalid_in_a_row >= MAX_INVALID:
                    self._set_status(
                        "failed",
                        f"{MAX_INVALID} trials in a row made no valid run. The last: "
                        f"{self.message} Narrow the search space.",
                    )
                    return
                if self._paused.is_set():
                    self._idle_while_paused()
                    continue
            try:
                update = self._events.get(timeout=EVENT_SECONDS)
            except queue.Empty:
                continue
            self._handle(update)
            # Take every update already waiting before deciding anything else.
            while True:
                try:
                    self._handle(self._events.get_nowait())
                except queue.Empty:
                    break

    def _drop_pending(self) -> None:
        """A trial asked for but never submitted (the queue was full) runs on a resume."""
        import optuna

        if self._pending is None or not (self._stop.is_set() or self._paused.is_set()):
            return
        trial, self._pending = self._pending, None
        trial.set_user_attr("requeued", True)
        self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        if trial.params:
            self.study.enqueue_trial(dict(trial.params), skip_if_exists=False)

    def _idle_while_paused(self) -> None:
        """Nothing runs: the clock stops (a paused sweep spends none of its time budget)."""
        self._elapsed_before = self._elapsed()
        self._clock = None
        self._set_status("paused", "Paused: no trial is running. Resume to go on.")
        while self._paused.is_set() and not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
        self._clock = time.monotonic()
        if not self._stop.is_set():
            self._set_status("running", "")

    # -- submitting ----------------------------------------------------------------------
    def _elapsed(self) -> float:
        return self._elapsed_before + (time.monotonic() - self._clock if self._clock else 0.0)

    def _finished_reason(self) -> str:
        if self._done >= self._budget:
            return f"Finished its budget of {self._budget} trials."
        timeout = self.config.timeout
        if timeout is not None and self._elapsed() >= timeout:
            return f"Its time budget ({timeout:g} s) ran out after {self._done} trials."
        return ""

    def _fill(self) -> None:
        while (
            len(self._active) < self.backend.capacity
            and self._done + len(self._active) < self._budget
            and not self._finished_reason()
            and self._invalid_in_a_row < MAX_INVALID
        ):
            busy = self._busy_since is not None
            if busy and time.monotonic() - self._busy_since < BUSY_RETRY_SECONDS:
                return
            if not self._submit_one():
                return

    def _submit_one(self) -> bool:
        """Ask for a trial and submit it; False when the backend is busy (try later)."""
        import optuna

        trial = self._pending or self.study.ask()
        self._pending = None
        try:
            params = suggest(self.config.space, trial)
            values = {**self.config.space.fixed_values(), **params}
            request = self._trial_request(trial.number, values, params)
            check_request(request, self._dataset)
        except PlaygroundError as exc:
            # These values make no valid run (a kernel larger than the image, say): a failed
            # trial the sampler learns to avoid.
            trial.set_user_attr("error", exc.message)
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            self._done += 1
            self._invalid_in_a_row += 1
            self.message = f"Trial {trial.number}: {exc.message}"
            self._progress(f"trial {trial.number} failed: {exc.message}")
            return True
        try:
            run_id = self.backend.submit(request, self._dataset)
        except PlaygroundError as exc:  # the job queue is full of other runs: wait
            now = time.monotonic()
            self._busy_since = self._busy_since or now
            if now - self._busy_since > BUSY_GIVE_UP_SECONDS:
                trial.set_user_attr("error", exc.message)
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                self._done += 1
                self._busy_since = None
                return True
            self._pending = trial
            return False
        self._busy_since = None
        self._invalid_in_a_row = 0
        trial.set_user_attr("run_id", run_id)
        epochs = request.config.epochs
        self._active[run_id] = _Active(
            trial, run_id, params, stride=report_stride(epochs), total_epochs=epochs
        )
        self._progress(f"trial {trial.number} started ({_shown(params)}) as run {run_id}")
        return True

    def _trial_request(
        self, number: int, values: dict[str, Scalar], params: dict[str, Scalar]
    ) -> RunRequest:
        request = apply_params(self.config.base, values)
        label = self.config.name or self.sweep_id
        return request.model_copy(
            update={
                "name": f"{label} · trial {number}: {_shown(params)}"[:200],
                "lineage": {
                    **self.config.base.lineage,
                    "sweep": self.sweep_id,
                    "trial": number,
                    "params": params,
                },
            }
        )

    # -- what the trials report ------------------------------------------------------------
    def _handle(self, update: RunUpdate) -> None:
        active = self._active.get(update.run_id)
        if active is None:
            return  # another page's run, or a trial already told
        reported = False
        for row in update.rows:
            epoch = int(row.get("epoch", active.epochs + 1))
            active.epochs = max(active.epochs, epoch)
            value = row.get(self.metric)
            due = epoch % active.stride == 0 or epoch >= active.total_epochs
            if due and isinstance(value, (int, float)) and math.isfinite(value):
                active.trial.report(float(value), epoch)
                active.last = float(value)
                reported = True
        if (
            reported
            and self.config.pruner != "none"  # asking costs a storage read per epoch
            and not active.pruning
            and not self._stop.is_set()
            and active.trial.should_prune()
        ):
            active.pruning = True
            active.pruned_at = (active.epochs, active.last or 0.0)
            self.backend.stop(active.run_id)
        if update.final_metrics is not None:
            active.final_metrics = update.final_metrics
        if update.final:
            self._finish(active, update.status or "", update.message)

    def _finish(self, active: _Active, status: str, message: str) -> None:
        import optuna

        State = optuna.trial.TrialState
        del self._active[active.run_id]
        trial = active.trial
        value = (active.final_metrics or {}).get(self.metric)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            value = active.last
        trial.set_user_attr("status", status)
        trial.set_user_attr("epochs", active.epochs)
        if active.pruning and status != "completed":
            trial.set_user_attr("message", self._pruned_message(active))
            self.study.tell(trial, state=State.PRUNED)
            self._mark_pruned(active)
            outcome = f"pruned at epoch {active.epochs}"
        elif status == "completed" and value is not None:
            self.study.tell(trial, value)
            outcome = f"{self.metric} {value:.4f}"
        elif self._stop.is_set() and status in ("stopped", "cancelled", "interrupted"):
            # Stopped with the sweep: its parameters run again when the sweep is resumed.
            trial.set_user_attr("requeued", True)
            self.study.tell(trial, state=State.FAIL)
            self.study.enqueue_trial(dict(active.params), skip_if_exists=False)
            self._progress(f"trial {trial.number} stopped with the sweep (queued again)")
            return
        else:
            trial.set_user_attr("message", f"The run ended {status}: {message}"[:500])
            self.study.tell(trial, state=State.FAIL)
            outcome = f"ended {status}"
        self._done += 1
        self._progress(f"trial {trial.number} {outcome} ({self._done}/{self._budget} done)")

    def _pruned_message(self, active: _Active) -> str:
        epoch, value = active.pruned_at or (active.epochs, active.last or 0.0)
        return (
            f"Pruned by sweep {self.sweep_id} at epoch {epoch}: its {self.metric} ({value:.4f}) "
            f"was behind the other trials' at that epoch ({self.config.pruner} pruning)."
        )

    def _mark_pruned(self, active: _Active) -> None:
        store: RunStore = self.backend.store
        try:
            store.set_status(active.run_id, "stopped", self._pruned_message(active), final=True)
            store.update_lineage(active.run_id, pruned=True)
        except Exception:  # deleted meanwhile: the trial's record in Optuna still says it
            log.exception("could not mark run %s pruned", active.run_id)

    # -- recording -----------------------------------------------------------------------
    def _set_status(self, status: str, message: str) -> None:
        self.status, self.message = status, message
        try:
            self.sweeps.set_status(self.sweep_id, status, message, elapsed=self._elapsed())
        except Exception:
            log.exception("could not record sweep %s as %s", self.sweep_id, status)
        if status in ("completed", "stopped", "failed"):
            self._progress(f"sweep {self.sweep_id} {status}: {message}")

    def _save_elapsed(self) -> None:
        now = time.monotonic()
        if now - self._last_save >= SAVE_SECONDS and self._clock is not None:
            self._last_save = now
            self.sweeps.set_elapsed(self.sweep_id, self._elapsed())

    def _progress(self, line: str) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(line)
            except Exception:
                log.exception("sweep progress callback failed")


def _shown(params: dict[str, Scalar]) -> str:
    return ", ".join(f"{k} {_value(v)}" for k, v in params.items())


def _value(value: Scalar) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


# -- starting, resuming and finding sweeps -------------------------------------------------
def make_backend(config: SweepConfig, registry: JobRegistry) -> TrialBackend:
    """Local worker processes, or Ray when the sweep names an address."""
    if config.ray:
        from playground.sweeps.ray_backend import RayBackend

        return RayBackend(registry.store, config.ray, config.workers)
    return LocalBackend(registry, config.workers)


def create_sweep(config: SweepConfig, sweeps: SweepStore) -> str:
    """Check the sweep (its space fits the base run, the base run is valid), then store it;
    returns its id. Nothing runs yet."""
    config.check()
    checked = check_request(config.base)
    metric, direction = resolve_objective(config, checked.dataset.task)
    sweep_id = sweeps.create(config, metric, direction)
    make_study(sweeps.get(sweep_id), sweeps)  # so trials can be queued before it starts
    return sweep_id


class SweepRegistry:
    """The sweeps this process drives, by id: a reloaded page or a second tab finds its sweep
    again; the CLI holds one of its own."""

    def __init__(self, registry: JobRegistry | None = None) -> None:
        self._registry = registry
        self._drivers: dict[str, SweepDriver] = {}
        self._lock = threading.Lock()

    @property
    def registry(self) -> JobRegistry:
        return self._registry or default_registry()

    @property
    def sweeps(self) -> SweepStore:
        return SweepStore(self.registry.store.root)

    def start(
        self, config: SweepConfig, on_progress: ProgressCallback | None = None
    ) -> SweepDriver:
        """Check, store and start a sweep."""
        sweeps = self.sweeps
        sweep_id = create_sweep(config, sweeps)
        return self._drive(sweep_id, config, sweeps, on_progress)

    def resume(
        self,
        sweep_id: str,
        trials: int | None = None,
        on_progress: ProgressCallback | None = None,
        ray_address: str | None = None,
    ) -> SweepDriver:
        """Go on with a stored sweep (paused here, stopped, interrupted, or finished with a
        larger `trials` budget): trials a dead process left running run again."""
        driver = self.get(sweep_id)
        if driver is not None and driver.alive:
            driver.resume()
            return driver
        sweeps = self.sweeps
        record = sweeps.get(sweep_id)
        changes: dict[str, Any] = {}
        if trials is not None:
            changes["trials"] = trials
        if ray_address is not None:
            changes["ray_address"] = ray_address or None
        config = record.config.model_copy(update=changes) if changes else None
        record = sweeps.claim(sweep_id, config)
        recover_stale_trials(record, sweeps)
        return self._drive(sweep_id, record.config, sweeps, on_progress)

    def _drive(
        self,
        sweep_id: str,
        config: SweepConfig,
        sweeps: SweepStore,
        on_progress: ProgressCallback | None,
    ) -> SweepDriver:
        backend = make_backend(config, self.registry)
        driver = SweepDriver(sweep_id, sweeps, backend, on_progress)
        with self._lock:
            self._drivers[sweep_id] = driver
        return driver.start()

    def get(self, sweep_id: str | None) -> SweepDriver | None:
        with self._lock:
            return self._drivers.get(sweep_id or "")

    def stop_all(self, timeout: float = 10.0) -> None:
        with self._lock:
            drivers = list(self._drivers.values())
        for driver in drivers:
            driver.stop()
        for driver in drivers:
            driver.wait(timeout)


_default: SweepRegistry | None = None
_default_lock = threading.Lock()


def default_sweeps() -> SweepRegistry:
    """The process-wide sweep registry over the app's job registry (made on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SweepRegistry()
        return _default
