"""The code a worker process runs: take tasks from a pipe, train them, send updates back.

It never opens the run store: everything goes back to the server process as RunUpdates.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from playground.train.control import RUN, RunControl, StopRequested


class SharedControl(RunControl):
    """A run's control requests, read from a shared-memory cell [task number, code] that the
    server writes. A cell still holding another task's number means 'run'. A worker whose
    server has gone stops its run."""

    def __init__(self, cell: Any, task_number: int, server_pid: int) -> None:
        super().__init__()
        self._cell = cell
        self._task = task_number
        self._server = server_pid

    def _read(self) -> int:
        cell = self._cell
        return cell[1] if cell[0] == self._task else RUN

    def _write(self, code: int) -> None:
        raise RuntimeError("a worker only reads its control requests")

    def wait_while_paused(self) -> None:
        if os.getppid() != self._server:
            raise StopRequested
        time.sleep(0.02)


class _Sender:
    """Sends messages to the server from a thread of their own, in order, so the training
    loop never waits on a full pipe while the server is busy drawing a page."""

    def __init__(self, events: Connection) -> None:
        self._events = events
        self._queue: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()
        self.broken = False
        self._thread = threading.Thread(target=self._run, name="sender", daemon=True)
        self._thread.start()

    def send(self, message: tuple[str, Any]) -> None:
        if self.broken:
            raise BrokenPipeError("the server is gone")
        self._queue.put(message)

    def flush(self) -> None:
        """Wait until everything queued so far has been written to the pipe."""
        done = threading.Event()
        self._queue.put(("__flush__", done))
        while not done.wait(0.5):
            if self.broken or not self._thread.is_alive():
                raise BrokenPipeError("the server is gone")

    def _run(self) -> None:
        while (message := self._queue.get()) is not None:
            if message[0] == "__flush__":
                message[1].set()
                continue
            try:
                self._events.send(message)
            except (OSError, EOFError):
                self.broken = True
                return


def _warm_up() -> None:
    """Pay one-time costs before the first task, not during it: the first shape check on the
    meta device imports PyTorch's decompositions (and sympy), the first run imports the data,
    analysis and optimiser code and initialises autograd: seconds on a small machine."""
    from playground.runs import RunRequest, execute

    spec = [{"kind": "linear", "out_features": 4}, {"kind": "relu"}, {"kind": "linear"}]
    request = RunRequest.supervised("xor", {"n_samples": 60}, spec, {"epochs": 1, "device": "cpu"})
    execute(request, "warm-up", lambda update: None)


def worker_main(tasks: Connection, events: Connection, cell: Any, server_pid: int) -> None:
    # Ctrl+C in a terminal reaches the whole process group: the server decides what happens
    # to runs (it stops them), so a worker does not die mid-step on its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # After the signal: these imports take a while.
    from playground.runs import RunRequest, execute
    from playground.runs.execute import release_memory
    from playground.store.update import RunUpdate

    _warm_up()
    sender = _Sender(events)
    sender.send(("ready", os.getpid()))
    while True:
        try:
            item = tasks.recv()
        except (EOFError, OSError):
            return  # the server is gone
        if item is None:
            return
        number, task = item
        control = SharedControl(cell, number, server_pid)

        def send(update: object) -> None:
            sender.send(("update", update))

        try:
            try:
                request = RunRequest.from_json(task.request_json)
            except Exception as exc:  # the server checked it; a newer server's field, say
                send(RunUpdate(task.run_id, status="failed", message=str(exc), final=True))
            else:
                execute(
                    request,
                    task.run_id,
                    send,
                    control=control,
                    initial_weights=task.initial_weights,
                )
            sender.send(("done", task.run_id))
            sender.flush()
            # This process lives on for the next run: free what the last one left (a finished
            # trainer is a reference cycle, and the GPU keeps freed blocks cached), so a run
            # that ran out of memory does not leave the next one short.
            release_memory()
        except (BrokenPipeError, EOFError, ConnectionError):
            return  # the server is gone: nobody to report to
