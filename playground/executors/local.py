"""Runs in local worker processes: the web server's process never holds a training loop.

Each worker is a spawned process (a clean interpreter: no copy of the server's threads or
locks) that trains one task at a time. Tasks go down a pipe; RunUpdates come back up another,
read by one listener thread here that hands them to the registry. Pause, resume and stop are
a shared-memory cell per worker that its trainer reads every step. A worker that dies (killed,
out of memory) is noticed at once (its pipe closes), its run reported lost, and a fresh
worker takes its place.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import threading
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any

from playground.executors.base import Executor, LostCallback, Task, UpdateCallback
from playground.executors.worker import worker_main
from playground.status import CANCELLED
from playground.store.update import RunUpdate
from playground.train.control import STOP

DEFAULT_WORKERS = 2
WORKERS_ENV = "PLAYGROUND_WORKERS"


def default_worker_count() -> int:
    """Workers from $PLAYGROUND_WORKERS, else 2 (one per core of a small laptop)."""
    try:
        return max(1, int(os.environ.get(WORKERS_ENV, DEFAULT_WORKERS)))
    except ValueError:
        return DEFAULT_WORKERS


class _Worker:
    def __init__(self, ctx: Any, index: int) -> None:
        task_reader, self.tasks = ctx.Pipe(duplex=False)
        self.events, event_writer = ctx.Pipe(duplex=False)
        self.cell = ctx.RawArray("q", 2)  # [task number, control code]
        self.process = ctx.Process(
            target=worker_main,
            args=(task_reader, event_writer, self.cell, os.getpid()),
            name=f"playground-worker-{index}",
            daemon=True,  # ended by the interpreter's exit if nothing else ended it
        )
        self.process.start()
        # The child has its own copies now; closing ours lets a dead child show as EOF.
        task_reader.close()
        event_writer.close()
        self.task: Task | None = None
        self.number = 0
        self.ready = False

    def start(self, task: Task) -> None:
        self.number += 1
        self.task = task
        self.cell[1] = task.code
        self.cell[0] = self.number
        self.tasks.send((self.number, task))

    def close(self) -> None:
        for conn in (self.tasks, self.events):
            conn.close()


class LocalProcessExecutor(Executor):
    def __init__(
        self, on_update: UpdateCallback, on_lost: LostCallback, workers: int | None = None
    ) -> None:
        super().__init__(on_update, on_lost)
        self._count = workers or default_worker_count()
        self._ctx = mp.get_context("spawn")
        self._lock = threading.RLock()
        self._workers: list[_Worker] = []
        self._queue: deque[Task] = deque()
        self._started = 0
        self._closing = False
        self._wake_reader, self._wake_writer = self._ctx.Pipe(duplex=False)
        self._listener: threading.Thread | None = None

    @property
    def capacity(self) -> int:
        return self._count

    # -- starting ----------------------------------------------------------------------
    def warm(self) -> None:
        with self._lock:
            if self._closing or (self._listener is not None and len(self._workers) >= self._count):
                return
            while len(self._workers) < self._count:
                self._workers.append(_Worker(self._ctx, self._started))
                self._started += 1
            if self._listener is None:
                self._listener = threading.Thread(
                    target=self._listen, name="playground-executor", daemon=True
                )
                self._listener.start()
        self._wake()  # the listener picks up the new workers' pipes

    def submit(self, task: Task) -> None:
        with self._lock:
            if self._closing:
                raise RuntimeError("the executor is shutting down")
            self._queue.append(task)
        self.warm()
        self._dispatch()

    # -- control -----------------------------------------------------------------------
    def control(self, run_id: str, code: int) -> bool:
        cancelled = None
        with self._lock:
            for task in self._queue:
                if task.run_id == run_id:
                    if code == STOP:
                        self._queue.remove(task)
                        cancelled = task
                    else:
                        task.code = code
                    break
            else:
                worker = self._running(run_id)
                if worker is None:
                    return False
                worker.cell[1] = code
                return True
        if cancelled is not None:
            self.on_update(
                RunUpdate(
                    run_id,
                    status=CANCELLED,
                    message="Cancelled while it waited in the queue: it never trained.",
                    final=True,
                )
            )
        return True

    def queue_position(self, run_id: str) -> int | None:
        with self._lock:
            for i, task in enumerate(self._queue):
                if task.run_id == run_id:
                    return i + 1
        return None

    def worker_pid(self, run_id: str) -> int | None:
        """The process id of the worker training `run_id` (None when it is not running)."""
        with self._lock:
            worker = self._running(run_id)
            return worker.process.pid if worker else None

    def _running(self, run_id: str) -> _Worker | None:
        return next((w for w in self._workers if w.task and w.task.run_id == run_id), None)

    # -- the listener thread -----------------------------------------------------------
    def _dispatch(self) -> None:
        with self._lock:
            for worker in self._workers:
                if worker.task is None and worker.ready and self._queue and not self._closing:
                    worker.start(self._queue.popleft())

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send(None)

    def _listen(self) -> None:
        while True:
            with self._lock:
                if self._closing and not self._workers:
                    return
                conns: dict[Connection, _Worker] = {w.events: w for w in self._workers}
            for ready in wait([self._wake_reader, *conns], timeout=1.0):
                if ready is self._wake_reader:
                    self._wake_reader.recv()
                    continue
                worker = conns[ready]
                try:
                    message = ready.recv()
                except (EOFError, OSError):
                    self._worker_died(worker)
                    continue
                self._handle(worker, message)

    def _handle(self, worker: _Worker, message: tuple[str, Any]) -> None:
        kind, payload = message
        if kind == "update":
            self.on_update(payload)
        elif kind == "done":
            with self._lock:
                worker.task = None
            self._dispatch()
        elif kind == "ready":
            worker.ready = True
            self._dispatch()

    def _worker_died(self, worker: _Worker) -> None:
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        with self._lock:
            self._workers.remove(worker)
            task = worker.task
            worker.close()
            if not self._closing:
                self._workers.append(_Worker(self._ctx, self._started))
                self._started += 1
        if task is not None:
            how = f"was killed by signal {-code}" if code and code < 0 else f"exited ({code})"
            self.on_lost(
                task.run_id,
                f"The worker process training this run {how}; its history and last "
                "checkpoint up to then are kept. If it ran out of memory, try a smaller "
                "batch or model.",
            )
        self._dispatch()

    # -- stopping ----------------------------------------------------------------------
    def shutdown(self, timeout: float = 5.0) -> list[str]:
        with self._lock:
            self._closing = True
            left = [t.run_id for t in self._queue]
            self._queue.clear()
            for worker in self._workers:
                if worker.task is not None:
                    worker.cell[1] = STOP
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not any(w.task for w in self._workers if w.process.is_alive()):
                    break
            time.sleep(0.02)
        with self._lock:
            left += [w.task.run_id for w in self._workers if w.task is not None]
            workers = list(self._workers)
        for worker in workers:
            with contextlib.suppress(OSError):  # leave the loop: its pipe then closes
                worker.tasks.send(None)
        for worker in workers:
            worker.process.join(timeout=max(0.1, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=2)
        self._wake()
        if self._listener is not None and self._listener is not threading.current_thread():
            self._listener.join(timeout=5)
        return left
