"""Executors: where run requests train. A registry, so a cluster executor is one more entry."""

from __future__ import annotations

from collections.abc import Callable

from playground.errors import PlaygroundError
from playground.executors.base import Executor, LostCallback, Task, UpdateCallback
from playground.executors.local import LocalProcessExecutor, default_worker_count

ExecutorFactory = Callable[[UpdateCallback, LostCallback, int | None], Executor]

EXECUTORS: dict[str, ExecutorFactory] = {
    "local": lambda on_update, on_lost, workers: LocalProcessExecutor(on_update, on_lost, workers),
}


def make_executor(
    kind: str, on_update: UpdateCallback, on_lost: LostCallback, workers: int | None = None
) -> Executor:
    if kind not in EXECUTORS:
        raise PlaygroundError(
            f"Unknown executor {kind!r}.", f"Choose one of: {', '.join(EXECUTORS)}."
        )
    return EXECUTORS[kind](on_update, on_lost, workers)


__all__ = [
    "EXECUTORS",
    "Executor",
    "LocalProcessExecutor",
    "Task",
    "default_worker_count",
    "make_executor",
]
