"""What a training run reports, as plain data: the one format between a run and the store.

A worker (a local process, or a machine of a cluster) sends RunUpdates; the process that owns
the store applies them (store/writer.py) and the job registry keeps them for live pages.
Nothing in an update refers to the worker's disk or memory: weights travel as safetensors
bytes, so an update can cross a pipe or a network unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playground.store.histograms import HistogramRow


@dataclass
class RunUpdate:
    """Everything that changed in a run since its last update (all fields optional).

    `status` is the status now (None: unchanged); `final` marks the last update of a run, which
    carries its final metrics and weights and is applied with its status last, so a reader never
    sees a finished run without them.
    """

    run_id: str
    status: str | None = None
    message: str = ""
    epoch: int = 0
    step: int = 0
    elapsed: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)  # epoch rows
    records: list[dict[str, Any]] = field(default_factory=list)  # step records
    histograms: list[HistogramRow] = field(default_factory=list)
    dropped_histogram_steps: list[int] = field(default_factory=list)
    weights: bytes | None = None  # safetensors of every module (a checkpoint)
    final_metrics: dict[str, float] | None = None
    # Image samples from fixed noise as (epoch, (n, C, H, W) array): kept with the run.
    samples: list[tuple[int, Any]] = field(default_factory=list)
    # For live views only (never stored): e.g. {"boundary": BoundaryGrid, "score_name": "acc"}.
    live: dict[str, Any] = field(default_factory=dict)
    final: bool = False
