"""Bootstrap confidence intervals for per-group rates, vectorised over replicates.

Resampling a group's n rows with replacement gives confusion counts that follow a
multinomial distribution with the group's observed cell shares. Drawing those counts
directly (one `multinomial` call per group for all replicates) is exactly the row bootstrap
for every metric here, at a cost independent of the number of rows. Groups are resampled
separately (a stratified bootstrap), so each group keeps its size in every replicate.
"""

from __future__ import annotations

import warnings

import numpy as np

from playground.fairness.confusion import rates


def bootstrap_counts(counts: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Replicate counts (n_boot, G, 4) from observed counts (G, 4)."""
    rng = np.random.default_rng(seed)
    counts = np.asarray(counts, dtype=np.int64)
    out = np.zeros((n_boot, *counts.shape), dtype=np.int64)
    for g, row in enumerate(counts):
        n = int(row.sum())
        if n > 0:
            out[:, g, :] = rng.multinomial(n, row / n, size=n_boot)
    return out


def percentile_interval(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) percentile interval over axis 0 of replicate values (B, ...), ignoring
    NaN replicates (a rate undefined in that resample); all-NaN gives NaN."""
    tail = (1.0 - level) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        low, high = np.nanquantile(values, [tail, 1.0 - tail], axis=0)
    return low, high


def rate_intervals(
    counts: np.ndarray, n_boot: int, seed: int, level: float = 0.95
) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Bootstrap every rate of `confusion.rates` for G groups with counts (G, 4).

    Returns (replicate rates {name: (n_boot, G)}, intervals {name: (low (G,), high (G,))}).
    """
    replicates = rates(bootstrap_counts(counts, n_boot, seed))
    return replicates, {k: percentile_interval(v, level) for k, v in replicates.items()}
