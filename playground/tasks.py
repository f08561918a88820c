"""Background computations for pages (explanations, SHAP, audits), with progress and cancel.

A page submits `fn(progress)` under a key and reads the task's status on a timer; the task
outlives the page run that started it. Submitting a key that is running or done returns the
existing task, so the registry is also the cache of finished results (bounded, least recently
used first out). A cancelled or failed key can be submitted again. Workers never call
Streamlit.

    task = default_tasks().submit(key, lambda progress: explain(ctx, request, progress))
    task.status, task.fraction, task.message  # read on a timer
    task.cancel()                              # the next progress() call raises Cancelled
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

from playground.errors import PlaygroundError
from playground.explain.base import Cancelled, Progress

TaskStatus = Literal["running", "done", "failed", "cancelled"]
DEFAULT_WORKERS = 2
DEFAULT_KEEP = 64  # finished tasks kept (the result cache)
WAITING = "Waiting for a free worker"


class Task:
    """One computation. Read `status`, `fraction`, `message`, `result`, `error`, `hint` from
    any thread; a task waiting for a worker is 'running' with message WAITING."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.status: TaskStatus = "running"
        self.fraction = 0.0
        self.message = WAITING
        self.result: Any = None
        self.error: str | None = None  # what went wrong (PlaygroundError message or exc text)
        self.hint: str | None = None  # what to try (PlaygroundError hint)
        self.submitted = time.monotonic()
        self.started: float | None = None
        self.finished: float | None = None
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._state = threading.Lock()  # start vs. cancel-while-waiting
        self._forget: Callable[[Task], None] = lambda task: None

    @property
    def done(self) -> bool:
        """True once finished, failed or cancelled."""
        return self._done.is_set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def seconds(self) -> float:
        """Time spent running so far (or in total once finished)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def cancel(self) -> None:
        """Ask the task to stop: its next progress() call raises Cancelled. A task still
        waiting for a worker is cancelled at once."""
        self._cancel.set()
        with self._state:
            if self.started is not None or self.done:
                return
            self._forget(self)
            self._finish("cancelled", "Cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task ends; False if `timeout` seconds passed first."""
        return self._done.wait(timeout)

    def progress(self, fraction: float, message: str) -> None:
        """The Progress callable handed to the computation."""
        if self._cancel.is_set():
            raise Cancelled(self.key)
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.message = message

    def _begin(self) -> bool:
        """Mark the task started; False if it was cancelled while waiting."""
        with self._state:
            if self.done:
                return False
            self.started = time.monotonic()
            return True

    def _finish(self, status: TaskStatus, message: str) -> None:
        self.status = status
        self.message = message
        self.finished = time.monotonic()
        self._done.set()

    def __repr__(self) -> str:
        return f"Task({self.key!r}, {self.status}, {self.fraction:.0%}, {self.message!r})"


class TaskRunner:
    """A small pool of daemon worker threads and a keyed registry of their tasks."""

    def __init__(self, workers: int = DEFAULT_WORKERS, keep: int = DEFAULT_KEEP) -> None:
        self.workers = workers
        self.keep = keep
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._queue: queue.Queue[tuple[Task, Callable[[Progress], Any]]] = queue.Queue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def submit(self, key: str, fn: Callable[[Progress], Any]) -> Task:
        """Run fn(progress) in a worker under `key`, or return the task already running or
        done under that key (a cancelled or failed one is replaced)."""
        with self._lock:
            existing = self._tasks.get(key)
            if existing is not None and existing.status in ("running", "done"):
                self._tasks.move_to_end(key)
                return existing
            task = Task(key)
            task._forget = self._forget
            self._tasks[key] = task
            self._tasks.move_to_end(key)
            self._start_workers()
        self._queue.put((task, fn))
        return task

    def get(self, key: str) -> Task | None:
        with self._lock:
            task = self._tasks.get(key)
            if task is not None:
                self._tasks.move_to_end(key)
            return task

    def cancel(self, key: str) -> bool:
        """Ask the task under `key` to stop; False if there is none running."""
        task = self.get(key)
        if task is None or task.done:
            return False
        task.cancel()
        return True

    def tasks(self) -> list[Task]:
        """All known tasks, least recently used first."""
        with self._lock:
            return list(self._tasks.values())

    def _start_workers(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(
                target=self._work, name=f"playground-task-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            task, fn = self._queue.get()
            try:
                self._execute(task, fn)
            finally:
                self._queue.task_done()

    def _execute(self, task: Task, fn: Callable[[Progress], Any]) -> None:
        if not task._begin():
            return
        try:
            task.progress(0.0, "Starting")
            result = fn(task.progress)
        except Cancelled:
            # Forget first, so whoever sees it finished can already submit the key afresh.
            self._forget(task)
            task._finish("cancelled", "Cancelled")
        except PlaygroundError as exc:
            task.error, task.hint = exc.message, exc.hint
            task._finish("failed", exc.message)
        except Exception as exc:  # a worker must survive any computation's bug
            task.error = f"{type(exc).__name__}: {exc}"
            task._finish("failed", task.error)
        else:
            task.result = result
            task.fraction = 1.0
            task._finish("done", "Done")
        self._evict()

    def _forget(self, task: Task) -> None:
        with self._lock:
            if self._tasks.get(task.key) is task:
                del self._tasks[task.key]

    def _evict(self) -> None:
        """Keep at most `keep` finished tasks; running ones are never dropped."""
        with self._lock:
            finished = [k for k, t in self._tasks.items() if t.done]
            for key in finished[: max(0, len(finished) - self.keep)]:
                del self._tasks[key]


_default: TaskRunner | None = None
_default_lock = threading.Lock()


def default_tasks() -> TaskRunner:
    """The process-wide runner every page and tab shares."""
    global _default
    with _default_lock:
        if _default is None:
            _default = TaskRunner()
        return _default
