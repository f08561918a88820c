"""Turns a trainer's events into RunUpdates for a sink (a pipe to the server, or the store).

Updates are batched: status changes go at once (a pause shows within a step), epoch rows and
step records at most every `flush_seconds`, a checkpoint of the weights after the first epoch
and then at most every `checkpoint_seconds` (so a killed worker loses at most that much), and
the last update carries the final metrics and weights. Where the mode draws one, the
decision-boundary grid of a 2D dataset is computed here, in the worker, so pages never run
the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from playground.status import FINAL_STATUSES
from playground.store.checkpoint import weights_bytes
from playground.store.histograms import HistogramRow
from playground.store.update import RunUpdate
from playground.train.events import Callback

if TYPE_CHECKING:
    from playground.train.trainer import Trainer

UpdateSink = Callable[[RunUpdate], None]
FLUSH_SECONDS = 0.5  # pages redraw once a second
CHECKPOINT_SECONDS = 5.0


class RunReporter(Callback):
    def __init__(
        self,
        run_id: str,
        sink: UpdateSink,
        *,
        flush_seconds: float | None = None,
        checkpoint_seconds: float | None = None,
        live_boundary: bool = True,
    ) -> None:
        self.run_id = run_id
        self.sink = sink
        # Read at call time, so a test (or a slow disk) can change the module's defaults.
        self.flush_seconds = FLUSH_SECONDS if flush_seconds is None else flush_seconds
        self.checkpoint_seconds = (
            CHECKPOINT_SECONDS if checkpoint_seconds is None else checkpoint_seconds
        )
        self.live_boundary = live_boundary
        self._pending = RunUpdate(run_id)
        self._last_flush = 0.0
        self._last_checkpoint = -float("inf")  # the first epoch is checkpointed at once

    # -- what the histogram recorder hands over ------------------------------------------
    def add_histograms(self, rows: Sequence[HistogramRow], dropped: Sequence[int]) -> None:
        """A new snapshot, and the snapshots thinned away (possibly this one). Snapshots not
        yet sent are just not sent; the store deletes only those it already has."""
        pending = self._pending
        unsent = {r.step for r in pending.histograms} | {r.step for r in rows}
        gone = set(dropped)
        pending.histograms = [r for r in [*pending.histograms, *rows] if r.step not in gone]
        pending.dropped_histogram_steps.extend(s for s in dropped if s not in unsent)

    # -- trainer events ----------------------------------------------------------------
    def on_train_start(self, trainer: Trainer) -> None:
        self._pending.live["score_name"] = trainer.score_name
        self._flush(trainer)

    def on_status(self, trainer: Trainer, status: str) -> None:
        self._pending.status = status
        self._pending.message = trainer.state.message
        if status not in FINAL_STATUSES:  # the final one goes with the last update
            self._flush(trainer)

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self._pending.records.append(record)

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        self._pending.rows.append(row)
        now = time.monotonic()
        if now - self._last_checkpoint >= self.checkpoint_seconds:
            self._pending.weights = weights_bytes(trainer.model)
            self._last_checkpoint = now
        if now - self._last_flush >= self.flush_seconds:
            self._flush(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        update = self._pending
        state = trainer.state
        if state.status != "diverged":  # NaN weights are no use to anyone
            update.weights = weights_bytes(trainer.model)
        update.final_metrics = dict(state.final_metrics)
        update.final = True
        self._flush(trainer, boundary=state.status != "diverged")

    def _flush(self, trainer: Trainer, boundary: bool = True) -> None:
        update, state = self._pending, trainer.state
        update.epoch, update.step, update.elapsed = state.epoch, state.step, state.elapsed
        if update.status is None:
            update.status = state.status
            update.message = state.message
        # A pause shows the state it paused in (after a single step, say) without a new epoch.
        fresh = update.rows or update.final or update.status == "paused"
        if boundary and fresh:
            grid = _boundary(trainer) if self.live_boundary else None
            if grid is not None:
                update.live["boundary"] = grid
            # The mode's view also when nobody watches live (the CLI): its image samples are
            # stored with the run, so a finished run shows its progress.
            view = trainer.mode.live_view()
            if view is not None:
                update.live["view"] = view
                images = view.get("samples") if isinstance(view, dict) else None
                if getattr(images, "ndim", 0) == 4 and (update.rows or update.final):
                    update.samples.append((state.epoch, images))
        self._pending = RunUpdate(self.run_id)
        self._last_flush = time.monotonic()
        self.sink(update)


def _boundary(trainer: Trainer) -> Any:
    if not trainer.mode.draws_boundary or trainer.dataset.kind != "toy2d":
        return None
    from playground.analysis.boundary import decision_grid

    return decision_grid(trainer.model, trainer.dataset)
