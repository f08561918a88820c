"""What the explanation charts share: colour scales and colour ranges for attributions.

Signed attributions use the app's diverging palette (orange = pushes the output down, blue =
pushes it up), always centred at 0 with a symmetric range so that white means "no effect".
Feature *values* (beeswarm, dependence colouring) use SHAP's blue -> red, a different scale on
purpose: it answers "was this input low or high", not "which way did it push".
"""

from __future__ import annotations

import numpy as np

from playground.charts import BLUE, NEUTRAL, ORANGE

# SHAP's summary-plot colours: low feature value blue, high red (purple in between).
FEATURE_VALUE_SCALE = [[0.0, "#008bfb"], [1.0, "#ff0051"]]
# Non-negative maps (Grad-CAM): nothing -> strong.
SEQUENTIAL = [[0.0, NEUTRAL], [1.0, BLUE]]
# Overlays fade to fully transparent where the attribution is ~0, so the image shows through.
DIVERGING_OVERLAY = [
    [0.0, "rgba(245,147,34,0.9)"],
    [0.5, "rgba(255,255,255,0)"],
    [1.0, "rgba(8,119,189,0.9)"],
]
SEQUENTIAL_OVERLAY = [[0.0, "rgba(8,119,189,0)"], [1.0, "rgba(8,119,189,0.85)"]]
OTHER_GREY = "#9e9e9e"


def symmetric_limit(values: np.ndarray) -> float:
    """max |value| over the finite entries, or 1.0 when there is none (so zmin < zmax)."""
    finite = np.abs(np.asarray(values, dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    limit = float(finite.max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def sign_colours(values: np.ndarray) -> list[str]:
    """Per-value bar colours: orange below 0, blue at or above."""
    return [ORANGE if v < 0 else BLUE for v in np.asarray(values, dtype=np.float64)]


def normalise_per_feature(features: np.ndarray) -> np.ndarray:
    """(N, F) feature values -> [0, 1] per column, between its 5th and 95th percentile (as SHAP
    does, so one outlier does not wash out the colours). Constant or missing -> 0.5."""
    x = np.asarray(features, dtype=np.float64)
    out = np.full(x.shape, 0.5)
    for j in range(x.shape[1]):
        col = x[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            continue
        lo, hi = np.percentile(col[ok], [5, 95])
        if hi <= lo:  # a (nearly) constant column: fall back to the full range
            lo, hi = float(col[ok].min()), float(col[ok].max())
        if hi > lo:
            out[ok, j] = np.clip((col[ok] - lo) / (hi - lo), 0.0, 1.0)
    return out


def top_by_magnitude(scores: np.ndarray, top: int) -> np.ndarray:
    """Indices of the `top` largest |scores|, largest first; ties keep the original order."""
    order = np.argsort(-np.abs(np.nan_to_num(np.asarray(scores, dtype=np.float64))), kind="stable")
    return order[: max(int(top), 0)]
