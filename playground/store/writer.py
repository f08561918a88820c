"""Apply a run's updates to the run store (the process that owns the store does this)."""

from __future__ import annotations

from playground.store.runs import RunStore
from playground.store.update import RunUpdate


class StoreWriter:
    """Writes RunUpdates of any run to one store; usable as an update sink."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def apply(self, update: RunUpdate) -> None:
        self.store.apply_update(update)
