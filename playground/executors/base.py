"""The executor boundary: what the job registry may ask of whatever trains its runs.

An executor takes Tasks (a run request as JSON, the run id, and any starting weights as
bytes), trains them somewhere (local worker processes now; a cluster later), and reports
back through two callbacks: `on_update(RunUpdate)` for progress and results, `on_lost(run_id,
why)` when the worker training a run vanished. Nothing crosses the boundary but these plain
values, so nothing above it may assume a worker shares this machine's disk or memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from playground.store.update import RunUpdate
from playground.train.control import RUN

UpdateCallback = Callable[[RunUpdate], None]
LostCallback = Callable[[str, str], None]


@dataclass
class Task:
    run_id: str
    request_json: str
    initial_weights: bytes | None = None  # safetensors bytes of the run it starts from
    code: int = RUN  # the control requested so far (a run can be paused while it waits)


class Executor(ABC):
    """Callbacks are called from the executor's own thread, one at a time."""

    def __init__(self, on_update: UpdateCallback, on_lost: LostCallback) -> None:
        self.on_update = on_update
        self.on_lost = on_lost

    @property
    @abstractmethod
    def capacity(self) -> int:
        """How many runs train at once."""

    @abstractmethod
    def warm(self) -> None:
        """Get ready to train (start workers) without waiting for them."""

    @abstractmethod
    def submit(self, task: Task) -> None:
        """Queue a task; it starts when a worker is free."""

    @abstractmethod
    def control(self, run_id: str, code: int) -> bool:
        """Pause, resume or stop (train.control codes) a queued or running task. A queued task
        that is stopped never starts and ends 'stopped'. False if the executor has no such task."""

    @abstractmethod
    def queue_position(self, run_id: str) -> int | None:
        """1 for the next task to start, 2 after it...; None once it runs (or unknown)."""

    @abstractmethod
    def shutdown(self, timeout: float) -> list[str]:
        """Stop every task and the workers, waiting up to `timeout` seconds for running tasks
        to end (their final updates arrive first). Returns the ids of tasks that did not end:
        queued ones and any whose worker did not stop in time."""
