"""What the server knows of a run that is queued or training: its updates, kept for pages.

Pages read `snapshot()`s (plain data) on a timer; the executor's thread applies updates.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from playground.status import ENDED_STATUSES
from playground.store.update import RunUpdate

SNAPSHOT_RECORDS = 400  # step records a snapshot carries (the newest)
KEPT_RECORDS = 2000  # step records kept in memory per run
RATE_EPOCHS = 10  # epochs the shown samples/s is averaged over
KEPT_VIEWS = 8  # rows of image samples over time a run keeps


@dataclass
class JobSnapshot:
    """What a page needs to draw a job's progress; plain data, safe to read in any thread."""

    job_id: str
    status: str
    message: str
    epoch: int
    epochs: int
    step: int
    samples_per_sec: float
    elapsed: float
    eta_seconds: float | None
    score_name: str
    dataset: str = ""
    dataset_params: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)
    queue_position: int | None = None
    boundary: Any = None  # analysis.boundary.BoundaryGrid for 2D datasets, else None
    view: Any = None  # the mode's own live view (TrainingMode.live_view), e.g. a GAN's field
    # (epoch, images) of past views that carry images, oldest first: a GAN's samples over time.
    view_history: list[tuple[int, Any]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # gradient-norm key -> layer label
    # False until the run's last update (final metrics, weights, final status) is stored.
    settled: bool = True

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running", "paused") or not self.settled

    @property
    def progress(self) -> float:
        return min(self.epoch / self.epochs, 1.0) if self.epochs else 0.0


def smoothed_rate(history: list[dict[str, Any]], epochs: int = RATE_EPOCHS) -> float:
    """Samples per second over the last `epochs` epochs together (one slow epoch, e.g. a
    checkpoint, does not make the number jump)."""
    recent = [r for r in history[-epochs:] if r.get("seconds")]
    seconds = sum(r["seconds"] for r in recent)
    samples = sum(r["samples_per_sec"] * r["seconds"] for r in recent)
    return samples / seconds if seconds > 0 else 0.0


class LiveRun:
    def __init__(
        self,
        run_id: str,
        epochs: int,
        dataset: str,
        dataset_params: dict[str, Any],
        labels: dict[str, str],
    ) -> None:
        self.run_id = run_id
        self.epochs = epochs
        self.score_name = ""  # the mode's, reported by the worker before the first epoch
        self.dataset = dataset
        self.dataset_params = dataset_params
        self.labels = labels
        self.status = "queued"
        self.message = ""
        self.epoch = 0
        self.step = 0
        self.elapsed = 0.0
        self.history: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        self.final_metrics: dict[str, float] = {}
        self.boundary: Any = None
        self.view: Any = None
        self.view_history: list[tuple[int, Any]] = []
        self.settled = False
        self.ended_at: float | None = None
        self._lock = threading.Lock()

    def apply(self, update: RunUpdate) -> None:
        with self._lock:
            if update.status is not None:
                self.status, self.message = update.status, update.message
            self.epoch = max(self.epoch, update.epoch)
            self.step = max(self.step, update.step)
            self.elapsed = max(self.elapsed, update.elapsed)
            self.history.extend(update.rows)
            self.records.extend(update.records)
            if len(self.records) > KEPT_RECORDS:
                # Keep every other old record: the curve keeps its shape at half the resolution.
                del self.records[: KEPT_RECORDS // 2 : 2]
            if update.final_metrics is not None:
                self.final_metrics = dict(update.final_metrics)
            self.score_name = update.live.get("score_name", self.score_name)
            self.boundary = update.live.get("boundary", self.boundary)
            if "view" in update.live:
                self.view = update.live["view"]
                self._remember(self.view, update.epoch)
            if update.final:
                self.settled = True
                self.ended_at = time.time()

    def _remember(self, view: Any, epoch: int) -> None:
        """Keep image samples over time: at most KEPT_VIEWS rows, evenly thinned."""
        images = view.get("samples") if isinstance(view, dict) else None
        if images is None or getattr(images, "ndim", 0) != 4:
            return
        if self.view_history and self.view_history[-1][0] == epoch:
            self.view_history[-1] = (epoch, images)
            return
        self.view_history.append((epoch, images))
        if len(self.view_history) > KEPT_VIEWS:
            # Drop every other of the older rows; the newest stays.
            del self.view_history[1:-1:2]

    def end(self, status: str, message: str) -> None:
        """Ended from outside (worker lost, server stopping)."""
        with self._lock:
            if not self.settled:
                self.status, self.message = status, message
                self.settled = True
                self.ended_at = time.time()

    @property
    def ended(self) -> bool:
        return self.settled and self.status in ENDED_STATUSES

    def snapshot(self, queue_position: int | None = None) -> JobSnapshot:
        with self._lock:
            history = list(self.history)
            records = list(self.records[-SNAPSHOT_RECORDS:])
            status = self.status
            sps = smoothed_rate(history)
            eta = None
            if history and status in ("running", "paused"):
                per_epoch = self.elapsed / max(self.epoch, 1)
                eta = per_epoch * (self.epochs - self.epoch)
            return JobSnapshot(
                job_id=self.run_id,
                status=status,
                message=self.message,
                epoch=self.epoch,
                epochs=self.epochs,
                step=self.step,
                samples_per_sec=sps,
                elapsed=self.elapsed,
                eta_seconds=eta,
                score_name=self.score_name,
                dataset=self.dataset,
                dataset_params=dict(self.dataset_params),
                history=history,
                records=records,
                final_metrics=dict(self.final_metrics),
                queue_position=queue_position if status == "queued" else None,
                boundary=self.boundary,
                view=self.view,
                view_history=list(self.view_history),
                labels=dict(self.labels),
                settled=self.settled,
            )
