"""A training callback that writes a run to the store as it goes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from playground.train.events import FINAL_STATUSES, Callback

if TYPE_CHECKING:
    from playground.store.runs import RunStore
    from playground.train.trainer import Trainer


class StoreRecorder(Callback):
    """Flushes every epoch's metrics; saves weights at most every `checkpoint_seconds` (and at
    the end), so a killed process loses at most that much training."""

    def __init__(self, store: RunStore, run_id: str, checkpoint_seconds: float = 5.0) -> None:
        self.store = store
        self.run_id = run_id
        self.checkpoint_seconds = checkpoint_seconds
        self._last_checkpoint = 0.0
        self._pending_records: list[dict[str, Any]] = []

    def on_status(self, trainer: Trainer, status: str) -> None:
        self.store.set_status(
            self.run_id, status, trainer.state.message, final=status in FINAL_STATUSES
        )

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self._pending_records.append(record)

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        self.store.append_epochs(self.run_id, [row], self._pending_records)
        self._pending_records = []
        now = time.monotonic()
        if now - self._last_checkpoint >= self.checkpoint_seconds:
            self.store.save_weights(self.run_id, trainer.model)
            self._last_checkpoint = now

    def on_train_end(self, trainer: Trainer) -> None:
        self.store.append_epochs(self.run_id, [], self._pending_records)
        if trainer.state.status != "diverged":  # NaN weights are no use to anyone
            self.store.save_weights(self.run_id, trainer.model)
        self.store.set_final_metrics(self.run_id, trainer.state.final_metrics)
