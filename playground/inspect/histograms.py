"""Stored weight/gradient histograms of one layer, put on one common value axis.

Each stored snapshot has its own edges (its min..max); to compare snapshots they are re-binned
onto shared edges spanning all of them, assuming values spread evenly inside a stored bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from playground.errors import PlaygroundError
from playground.store.histograms import HistogramKind, HistogramRow

DEFAULT_COMMON_BINS = 60


@dataclass
class HistogramHistory:
    """One layer's `kind` histograms over training, oldest first.

    `counts[s, b]` is the (re-binned, so possibly fractional) count of snapshot s in the value
    bin [edges[b], edges[b+1]); `lows`/`highs` (S,) are each snapshot's own value range.
    """

    layer: str
    kind: HistogramKind
    epochs: np.ndarray
    steps: np.ndarray
    edges: np.ndarray
    counts: np.ndarray
    lows: np.ndarray
    highs: np.ndarray

    @property
    def centers(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2

    @property
    def axis(self) -> str:
        """'epoch' when each snapshot has its own epoch, else 'step' (step-based recording,
        or a run stopped mid-epoch)."""
        return "epoch" if len(set(self.epochs.tolist())) == len(self.epochs) else "step"

    @property
    def positions(self) -> np.ndarray:
        return self.epochs if self.axis == "epoch" else self.steps


def histogram_layers(rows: Sequence[HistogramRow], kind: HistogramKind = "weight") -> list[str]:
    """Layers that have `kind` histograms, in model order."""
    layers = {r.layer for r in rows if r.kind == kind}
    return sorted(layers, key=lambda i: tuple(int(p) if p.isdigit() else 0 for p in i.split(".")))


def histogram_history(
    rows: Sequence[HistogramRow],
    layer: str,
    kind: HistogramKind = "weight",
    bins: int = DEFAULT_COMMON_BINS,
) -> HistogramHistory:
    """Snapshots of `layer`/`kind` from `RunStore.histograms(run_id)`, on `bins` shared bins."""
    chosen = sorted((r for r in rows if r.layer == layer and r.kind == kind), key=lambda r: r.step)
    if not chosen:
        known = ", ".join(histogram_layers(rows, kind)) or "none"
        raise PlaygroundError(
            f"No {kind} histograms were recorded for layer {layer!r}.",
            f"Layers with {kind} histograms: {known}. Runs trained before histograms were "
            "recorded have none: train the run again.",
        )
    lows = np.array([r.edges[0] for r in chosen], dtype=np.float64)
    highs = np.array([r.edges[-1] for r in chosen], dtype=np.float64)
    edges = np.linspace(lows.min(), highs.max(), bins + 1)
    counts = np.stack([_rebin(np.asarray(r.edges), np.asarray(r.counts), edges) for r in chosen])
    return HistogramHistory(
        layer=layer,
        kind=kind,
        epochs=np.array([r.epoch for r in chosen]),
        steps=np.array([r.step for r in chosen]),
        edges=edges,
        counts=counts,
        lows=lows,
        highs=highs,
    )


def _rebin(src_edges: np.ndarray, src_counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts on `edges` from counts on `src_edges`: the cumulative count is linear within
    a source bin, so the new bins get the share of each source bin they overlap."""
    cumulative = np.concatenate([[0.0], np.cumsum(src_counts, dtype=np.float64)])
    return np.diff(np.interp(edges, src_edges, cumulative))
