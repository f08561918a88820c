"""The code a worker process runs: take tasks from a pipe, train them, send updates back.

It never opens the run store: everything goes back to the server process as RunUpdates.
"""

from __future__ import annotations

import os
import signal
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


def _warm_up() -> None:
    """Pay one-time costs before the first task: the first shape check on the meta device
    imports PyTorch's decompositions (and sympy), seconds on a small machine."""
    from playground.model.build import DataSignature, check_model

    check_model([{"kind": "linear", "out_features": 2}], DataSignature((2,), 2))


def worker_main(tasks: Connection, events: Connection, cell: Any, server_pid: int) -> None:
    # Ctrl+C in a terminal reaches the whole process group: the server decides what happens
    # to runs (it stops them), so a worker does not die mid-step on its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # After the signal: these imports take a while.
    from playground.runs import RunRequest, execute
    from playground.store.update import RunUpdate

    _warm_up()
    events.send(("ready", os.getpid()))
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
            events.send(("update", update))

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
            events.send(("done", task.run_id))
        except (BrokenPipeError, EOFError, ConnectionError):
            return  # the server is gone: nobody to report to
