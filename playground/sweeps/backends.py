"""Where a sweep's trials train, behind one narrow interface the driver uses:

    open(on_update)       from now on, call on_update(RunUpdate) for the trials' updates
    submit(request)       record the trial's run and start it (or queue it); returns its run id
    stop(run_id)          ask a trial's run to stop (pruning, stopping the sweep)
    close()

`LocalBackend` hands requests to the app's JobRegistry: its worker processes train them and
its store keeps them; the sweep only listens. `RayBackend` (ray_backend.py) runs the same
requests as Ray tasks. Updates arrive on the backend's own thread; the driver queues them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from playground.data import Dataset
from playground.jobs import JobRegistry
from playground.runs import RunRequest
from playground.store import RunStore, RunUpdate

UpdateCallback = Callable[[RunUpdate], None]


class TrialBackend(ABC):
    store: RunStore

    @property
    @abstractmethod
    def capacity(self) -> int:
        """Trials that train at once."""

    @property
    def where(self) -> str:
        """Where trials run, in words (progress lines, the page)."""
        return "here"

    @abstractmethod
    def open(self, on_update: UpdateCallback) -> None: ...

    @abstractmethod
    def submit(self, request: RunRequest, dataset: Dataset | None = None) -> str:
        """Check, record and start (or queue) the run; raises PlaygroundError for a request
        that cannot run, before anything is recorded."""

    @abstractmethod
    def stop(self, run_id: str) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Stop listening; runs still going are the caller's to stop first."""


class LocalBackend(TrialBackend):
    """Trials in this machine's worker processes, through the app's job registry (so they
    share its queue with runs started from other pages, and show on the Train page)."""

    def __init__(self, registry: JobRegistry, workers: int | None = None) -> None:
        self.registry = registry
        self.store = registry.store
        self._workers = min(workers or registry.max_workers, registry.max_workers)
        self._remove: Callable[[], None] | None = None

    @property
    def capacity(self) -> int:
        return self._workers

    @property
    def where(self) -> str:
        return f"{self._workers} local worker process{'es' if self._workers != 1 else ''}"

    def open(self, on_update: UpdateCallback) -> None:
        self.close()
        self._remove = self.registry.add_listener(on_update)
        self.registry.warm()

    def submit(self, request: RunRequest, dataset: Dataset | None = None) -> str:
        return self.registry.submit(request, dataset).id

    def stop(self, run_id: str) -> None:
        job = self.registry.get(run_id)
        if job is not None:
            job.stop()

    def close(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None
