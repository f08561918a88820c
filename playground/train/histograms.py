"""Weight and gradient histograms over training, per layer, in bounded memory.

At each snapshot every parameterised layer (all its tensors together, keyed like the gradient
norms: "2", "3.0" inside a residual block) gets a fixed-bin histogram of its weights and of its
gradients, with edges spanning that snapshot's min..max. All layers are binned at once on the
device (one `bincount`) and copied to the host once: snapshots are the only host syncs.

Gradients: the trainer zeroes them (set to None) just before each backward pass, so after a
step they still hold the last batch's gradients; an epoch end therefore sees the gradients of
the epoch's last batch (after clipping, if any).

Memory stays bounded: when more than `max_snapshots` are kept, every other one is dropped and
the interval doubles, so a long run keeps an evenly spaced ~`max_snapshots` of them, always
including the initial weights (epoch 0) and the final state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from playground.store.histograms import HistogramKind, HistogramRow
from playground.train.callbacks import layer_key
from playground.train.events import Callback

if TYPE_CHECKING:
    from playground.train.trainer import Trainer

# Receives each new snapshot's rows and the steps of snapshots thinned away.
HistogramSink = Callable[[Sequence[HistogramRow], Sequence[int]], None]
DEFAULT_BINS = 40
DEFAULT_MAX_SNAPSHOTS = 50


def layer_histograms(
    model: nn.Module, epoch: int, step: int, bins: int = DEFAULT_BINS
) -> list[HistogramRow]:
    """Weight and gradient histograms of every parameterised layer of `model`, now.

    A layer whose parameters have no gradient yet (before the first step) gets no 'grad' row.
    """
    groups: dict[tuple[str, HistogramKind], list[torch.Tensor]] = {}
    for name, param in model.named_parameters():
        key = layer_key(name)
        groups.setdefault((key, "weight"), []).append(param.detach())
        if param.grad is not None:
            groups.setdefault((key, "grad"), []).append(param.grad.detach())
    # Weights of every layer first, then gradients: rows come out grouped by kind.
    order = sorted(groups, key=lambda k: k[1] != "weight")
    tensors = [torch.cat([t.reshape(-1).float() for t in groups[k]]) for k in order]
    if not tensors:
        return []
    lows, highs, counts = _binned(tensors, bins)
    rows = []
    for g, (layer, kind) in enumerate(order):
        lo, hi = lows[g], highs[g]
        edges = [lo + (hi - lo) * i / bins for i in range(bins + 1)]
        rows.append(HistogramRow(epoch, step, layer, kind, edges, counts[g]))
    return rows


def _binned(
    tensors: list[torch.Tensor], bins: int
) -> tuple[list[float], list[float], list[list[int]]]:
    """Per-group min, max and bin counts of 1-D tensors, computed together on their device."""
    device = tensors[0].device
    sizes = torch.tensor([len(t) for t in tensors], device=device)
    values = torch.cat(tensors)
    group = torch.repeat_interleave(
        torch.arange(len(tensors), device=device), sizes, output_size=len(values)
    )
    finite = torch.isfinite(values)
    inf = torch.tensor(float("inf"), device=device)
    start = torch.full((len(tensors),), float("inf"), device=device)
    lo = start.scatter_reduce(0, group, torch.where(finite, values, inf), "amin")
    hi = (-start).scatter_reduce(0, group, torch.where(finite, values, -inf), "amax")
    empty = lo > hi  # no finite value at all
    lo, hi = torch.where(empty, 0.0, lo), torch.where(empty, 0.0, hi)
    flat = lo == hi  # one repeated value (e.g. zero-initialised biases): give it a unit range
    lo, hi = torch.where(flat, lo - 0.5, lo), torch.where(flat, hi + 0.5, hi)
    pos = (values - lo[group]) / (hi - lo)[group] * bins
    idx = pos.nan_to_num(0.0).clamp(0, bins - 1).long()
    # Non-finite values go to one spare slot past the end, which is then cut off.
    slot = torch.where(finite, group * bins + idx, len(tensors) * bins)
    counts = torch.bincount(slot, minlength=len(tensors) * bins + 1)[:-1]
    counts_host = counts.view(len(tensors), bins).cpu().tolist()  # reporting point
    limits = torch.stack([lo, hi]).cpu().tolist()
    return limits[0], limits[1], counts_host


class HistogramRecorder(Callback):
    """Records weight/gradient histograms at epoch ends, every `every` epochs at first.

    With a `sink`, each new snapshot's rows and the steps thinned away are passed on as they
    happen (the run reporter forwards them to the run store), so the store always holds what
    `rows` holds.
    """

    unit = "epoch"

    def __init__(
        self,
        sink: HistogramSink | None = None,
        *,
        every: int = 1,
        bins: int = DEFAULT_BINS,
        max_snapshots: int = DEFAULT_MAX_SNAPSHOTS,
    ) -> None:
        if every < 1 or bins < 1 or max_snapshots < 2:
            raise ValueError("every and bins must be >= 1, max_snapshots >= 2")
        self.sink = sink
        self.interval = every
        self.bins = bins
        self.max_snapshots = max_snapshots
        # step -> rows of that snapshot; steps identify snapshots (epoch 0 is step 0).
        self.snapshots: dict[int, list[HistogramRow]] = {}

    @property
    def rows(self) -> list[HistogramRow]:
        """Every kept row, in snapshot order."""
        return [row for step in sorted(self.snapshots) for row in self.snapshots[step]]

    def on_train_start(self, trainer: Trainer) -> None:
        self._take(trainer, epoch=0, step=trainer.state.step)  # the initial weights

    def on_epoch_end(self, trainer: Trainer, row: dict) -> None:
        if self.unit == "epoch" and row["epoch"] % self.interval == 0:
            self._take(trainer, row["epoch"], row["step"])

    def on_train_end(self, trainer: Trainer) -> None:
        state = trainer.state
        if state.status != "diverged" and state.step not in self.snapshots:
            self._take(trainer, state.epoch, state.step, final=True)

    def _position(self, epoch: int, step: int) -> int:
        return epoch if self.unit == "epoch" else step

    def _take(self, trainer: Trainer, epoch: int, step: int, final: bool = False) -> None:
        rows = layer_histograms(trainer.model, epoch, step, self.bins)
        self.snapshots[step] = rows
        dropped: list[int] = []
        while len(self.snapshots) > self.max_snapshots:
            dropped += self._thin(keep=step if final else None)
        if self.sink is not None:
            self.sink(rows, dropped)

    def _thin(self, keep: int | None) -> list[int]:
        """Double the interval and drop the snapshots off the new grid (the initial one and
        `keep` always stay). Returns the dropped steps."""
        self.interval *= 2
        dropped = []
        for step, rows in list(self.snapshots.items()):
            position = self._position(rows[0].epoch, step) if rows else 0
            if step != keep and position % self.interval != 0:
                dropped.append(step)
                del self.snapshots[step]
        return dropped


class StepHistogramRecorder(HistogramRecorder):
    """Like HistogramRecorder, but every `every` optimiser steps (for runs of few epochs)."""

    unit = "step"

    def on_batch_end(self, trainer: Trainer, loss: torch.Tensor) -> None:
        step = trainer.state.step
        if step % self.interval == 0:
            self._take(trainer, trainer.state.epoch, step)
