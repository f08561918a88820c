"""Explanation charts: attributions (plain arrays and tables) in, Plotly figures out.

    explain_features.py  tabular / 2-D features: importance bars, beeswarm, waterfall, dependence
    explain_maps.py      attributions on the input's geometry: image overlays, time steps, 2-D arrows
    explain_trust.py     method rankings side by side, their rank correlation, completeness
    explain_style.py     shared colour scales and ranges

Import from here; the split is only to keep files small. Nothing here computes attributions
(see `playground/explain/`): every function takes arrays or DataFrames, so it is testable alone.
"""

from __future__ import annotations

from playground.charts.explain_features import (
    beeswarm,
    dependence_scatter,
    importance_bars,
    waterfall,
)
from playground.charts.explain_maps import attribution_2d, image_overlay, time_step_attribution
from playground.charts.explain_trust import (
    completeness_chart,
    method_rankings,
    rank_correlation_heatmap,
)

__all__ = [
    "attribution_2d",
    "beeswarm",
    "completeness_chart",
    "dependence_scatter",
    "image_overlay",
    "importance_bars",
    "method_rankings",
    "rank_correlation_heatmap",
    "time_step_attribution",
    "waterfall",
]
