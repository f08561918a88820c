"""Apply a run's updates to the run store, in an order that never shows a half-written run."""

from __future__ import annotations

from playground.status import ENDED_STATUSES
from playground.store.runs import RunStore
from playground.store.update import RunUpdate


class StoreWriter:
    """Writes RunUpdates of any run to one store (the caller's process owns the store)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def apply(self, update: RunUpdate) -> None:
        store, run_id = self.store, update.run_id
        store.append_epochs(run_id, update.rows, update.records)
        if update.dropped_histogram_steps:
            store.delete_histograms(run_id, update.dropped_histogram_steps)
        if update.histograms:
            store.add_histograms(run_id, update.histograms)
        if update.weights is not None:
            store.save_weights_bytes(run_id, update.weights)
        if update.final_metrics is not None:
            store.set_final_metrics(run_id, update.final_metrics)
        if update.status is not None:
            store.set_status(
                run_id, update.status, update.message, final=update.status in ENDED_STATUSES
            )
