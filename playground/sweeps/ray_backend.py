"""Trials on a Ray cluster: the same run requests, executed as Ray tasks.

    this process (the app or the CLI)                 a Ray worker, any machine of the cluster
    record the run in the run store                   execute(request, run_id, sink, control)
    _ray_trial.remote(request JSON, run id, ...)  ->    sink: RunUpdates -> the channel actor
    pump thread: channel.drain() -> store + driver  <-  control: polls the channel for stop
    stop(run_id): channel.set_code(run_id, STOP)  ->

Nothing assumes the worker shares this machine's disk: the request travels as JSON, starting
weights and an uploaded CSV as bytes, and everything comes back as RunUpdates (history, final
metrics, safetensors weights as bytes), which this process writes to its own store. The
playground's code travels with the job (Ray's `py_modules`); the cluster needs the packages
of requirements.txt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from playground.data import Dataset
from playground.errors import PlaygroundError
from playground.runs import RunRequest, check_request, record, start_weights
from playground.status import INTERRUPTED
from playground.store import RunStore, RunUpdate
from playground.sweeps.backends import TrialBackend, UpdateCallback

log = logging.getLogger(__name__)

PUMP_SECONDS = 0.2  # how often updates are fetched from the cluster (a pruning decision's lag)
CONTROL_SECONDS = 0.25  # how often a trial asks whether it should stop or pause
LOCAL = "local"  # start a Ray instance in this process instead of joining a cluster


def runtime_env() -> dict[str, Any]:
    """Ship the playground package with the Ray job, so workers on other machines run this
    code without a copy of the repository (their Python needs requirements.txt installed)."""
    import playground

    return {"py_modules": [str(Path(playground.__file__).parent)], "excludes": ["__pycache__"]}


def connect(address: str | None) -> None:
    """Join the cluster at `address` ("auto", "host:6379", "ray://host:10001"), or start a
    local Ray instance for `address` "local"; nothing when Ray is already initialised here."""
    try:
        import ray
    except ImportError:
        raise PlaygroundError(
            "Ray is not installed.", "Install the requirements: pip install -r requirements.txt"
        ) from None
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = {"runtime_env": runtime_env(), "log_to_driver": False}
    try:
        if address in (None, "", LOCAL):
            # Only this machine, listening on localhost; no dashboard.
            ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise PlaygroundError(
            f"Cannot reach a Ray cluster at {address!r}: {str(exc).splitlines()[0][:300]}",
            "Start one with `ray start --head` (see the README), or check the address "
            "(RAY_ADDRESS).",
        ) from None


def _channel_class() -> Any:
    import ray

    @ray.remote(num_cpus=0)
    class TrialChannel:
        """Updates from the trials, waiting for the driver's next drain; stop and pause
        requests waiting for the trials' next poll. Calls from one caller run in order."""

        def __init__(self) -> None:
            self.updates: list[Any] = []
            self.codes: dict[str, int] = {}

        def push(self, updates: list[Any]) -> None:
            self.updates.extend(updates)

        def drain(self) -> list[Any]:
            out, self.updates = self.updates, []
            return out

        def set_code(self, run_id: str, code: int) -> None:
            self.codes[run_id] = code

        def code(self, run_id: str) -> int:
            return self.codes.get(run_id, 0)

    return TrialChannel


def _trial_task() -> Any:
    import ray

    @ray.remote(num_cpus=1, max_retries=0)
    def ray_trial(
        request_json: str,
        run_id: str,
        initial_weights: bytes | None,
        files: dict[str, bytes],
        channel: Any,
    ) -> str:
        return run_remote_trial(request_json, run_id, initial_weights, files, channel)

    return ray_trial


def run_remote_trial(
    request_json: str,
    run_id: str,
    initial_weights: bytes | None,
    files: dict[str, bytes],
    channel: Any,
) -> str:
    """What a Ray worker runs: `execute` with a sink and a control that talk to the channel
    actor. Returns the run's final status."""
    import tempfile

    import ray

    from playground.runs import execute
    from playground.train.control import RUN, RunControl

    class ChannelControl(RunControl):
        """The latest request for this run, refreshed by a thread every CONTROL_SECONDS (the
        trainer reads it every step: it must not wait on the network)."""

        def __init__(self) -> None:
            super().__init__()
            self.code = RUN
            self.done = threading.Event()
            threading.Thread(target=self._poll, daemon=True).start()

        def _poll(self) -> None:
            while not self.done.wait(CONTROL_SECONDS):
                with contextlib.suppress(Exception):  # a slow actor: keep the last answer
                    self.code = ray.get(channel.code.remote(run_id), timeout=5)

        def _read(self) -> int:
            return self.code

        def _write(self, code: int) -> None:
            self.code = code

    def sink(update: RunUpdate) -> None:
        # The live view's decision boundary is for pages watching a local run; nobody
        # draws it from here.
        update.live = {k: v for k, v in update.live.items() if k == "score_name"}
        channel.push.remote([update])

    with tempfile.TemporaryDirectory(prefix="playground-") as folder:
        request = RunRequest.from_json(request_json)
        if files:  # an uploaded CSV: a file of this worker's own
            params = dict(request.dataset_params)
            for key, data in files.items():
                path = Path(folder) / f"{key}-{Path(str(params[key])).name}"
                path.write_bytes(data)
                params[key] = str(path)
            request = request.model_copy(update={"dataset_params": params})
        control = ChannelControl()
        try:
            state = execute(
                request,
                run_id,
                sink,
                control=control,
                initial_weights=initial_weights,
                live_boundary=False,
            )
        finally:
            control.done.set()
    # Every update pushed before this call is in the channel once it returns.
    ray.get(channel.push.remote([]))
    return state.status


class RayBackend(TrialBackend):
    """Trials as Ray tasks (one CPU each); results written to this process's run store."""

    def __init__(self, store: RunStore, address: str | None, workers: int = 2) -> None:
        self.store = store
        self.address = address
        self._workers = workers
        self._on_update: UpdateCallback | None = None
        self._channel: Any = None
        self._task: Any = None
        self._refs: dict[Any, str] = {}  # ObjectRef -> run id
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._pump: threading.Thread | None = None

    @property
    def capacity(self) -> int:
        return self._workers

    @property
    def where(self) -> str:
        return f"Ray ({self.address or 'this process'}), {self._workers} at once"

    def open(self, on_update: UpdateCallback) -> None:
        connect(self.address)
        self._on_update = on_update
        if self._channel is None:
            self._channel = _channel_class().remote()
            self._task = _trial_task()
        self._closing.clear()
        if self._pump is None or not self._pump.is_alive():
            self._pump = threading.Thread(target=self._run_pump, name="sweep-ray", daemon=True)
            self._pump.start()

    def submit(self, request: RunRequest, dataset: Dataset | None = None) -> str:
        checked = check_request(request, dataset)
        initial = start_weights(request, self.store)
        files = _local_files(request)
        run_id = record(
            request, self.store, checked, status="queued", message="Waiting for a Ray worker."
        )
        ref = self._task.remote(request.to_json(), run_id, initial, files, self._channel)
        with self._lock:
            self._refs[ref] = run_id
        return run_id

    def stop(self, run_id: str) -> None:
        from playground.train.control import STOP

        if self._channel is not None:
            self._channel.set_code.remote(run_id, STOP)

    def close(self) -> None:
        self._closing.set()
        if self._pump is not None and self._pump is not threading.current_thread():
            self._pump.join(timeout=5)
        self._pump = None

    # -- the pump thread -------------------------------------------------------------------
    def _run_pump(self) -> None:
        import ray

        while not self._closing.is_set():
            try:
                self._deliver(ray.get(self._channel.drain.remote(), timeout=30))
                with self._lock:
                    refs = list(self._refs)
                if refs:
                    done, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
                    if done:
                        # The task's last push is in the channel before it returns.
                        self._deliver(ray.get(self._channel.drain.remote(), timeout=30))
                        for ref in done:
                            self._finished(ref)
            except Exception:  # the cluster went away for a moment: try again
                log.exception("could not fetch the sweep's updates from Ray")
                time.sleep(1.0)
            self._closing.wait(PUMP_SECONDS)

    def _deliver(self, updates: list[RunUpdate]) -> None:
        for update in updates:
            try:
                self.store.apply_update(update)
            except Exception:
                log.exception("could not store an update of run %s", update.run_id)
            if self._on_update is not None:
                self._on_update(update)

    def _finished(self, ref: Any) -> None:
        import ray

        with self._lock:
            run_id = self._refs.pop(ref)
        try:
            ray.get(ref)
            return  # its final update came through the channel
        except Exception as exc:  # the worker died, or the task could not start there
            why = (
                str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
            )
        message = f"The Ray task training this run ended without finishing it: {why}"
        record_ = self.store.get_run(run_id)
        if record_.status in ("completed", "stopped", "failed", "diverged", "cancelled"):
            return
        self.store.set_status(run_id, INTERRUPTED, message, final=True)
        if self._on_update is not None:
            self._on_update(RunUpdate(run_id, status=INTERRUPTED, message=message, final=True))


def _local_files(request: RunRequest) -> dict[str, bytes]:
    """Dataset files named by path (an uploaded CSV), as bytes for a worker elsewhere."""
    path = request.dataset_params.get("path")
    if isinstance(path, str) and path and os.path.isfile(path):
        return {"path": Path(path).read_bytes()}
    return {}
