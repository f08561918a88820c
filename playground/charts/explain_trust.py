"""Can the explanation be trusted? Methods' global rankings side by side, how well those
rankings agree (rank correlation), and the completeness check (attributions add up to
f(x) - f(baseline)). Method and feature names are user text and go through `plain`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from playground.charts import BLUE, DIVERGING, NEUTRAL, ORANGE, TEMPLATE, plain
from playground.charts.explain_style import OTHER_GREY

# Rank 1 (most important) is the strongest colour.
RANK_SCALE = [[0.0, BLUE], [1.0, NEUTRAL]]


def method_rankings(
    rankings: pd.DataFrame,
    top: int = 10,
    values: Literal["importance", "rank"] = "importance",
) -> go.Figure:
    """Each method's global ranking side by side: a heatmap of ranks (1 = most important),
    features as rows (the `top` by mean rank over methods, best on top), methods as columns,
    each cell annotated with its rank. `rankings` is feature x method (features as the index
    or a `feature` column) holding importance scores (ranked by |score|, descending) or, with
    `values="rank"`, ranks already."""
    table = rankings.set_index("feature") if "feature" in rankings.columns else rankings
    table = table.select_dtypes("number").astype(np.float64)
    ranks = table.abs().rank(ascending=False, method="min") if values == "importance" else table
    order = np.argsort(ranks.mean(axis=1).fillna(np.inf).to_numpy(), kind="stable")[: max(top, 0)]
    shown = ranks.iloc[order]
    z = shown.to_numpy()
    text = [[f"{r:.0f}" if np.isfinite(r) else "" for r in row] for row in z]
    worst = float(np.nanmax(ranks.to_numpy())) if np.isfinite(ranks.to_numpy()).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[plain(m) for m in shown.columns],
            y=np.arange(len(shown)),
            colorscale=RANK_SCALE,
            zmin=1.0,
            zmax=max(worst, 2.0),
            text=text,
            texttemplate="%{text}",
            colorbar={"title": {"text": "rank", "side": "right"}},
            hovertemplate="%{x}: rank %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis={"side": "top", "type": "category"},
        yaxis={
            "tickvals": list(range(len(shown))),
            "ticktext": [plain(f) for f in shown.index],
            "autorange": "reversed",
        },
        height=140 + 28 * max(len(shown), 1),
        margin={"t": 60, "l": 10},
    )
    return fig


def rank_correlation_heatmap(corr: pd.DataFrame) -> go.Figure:
    """Method x method rank correlation (e.g. Spearman) on a fixed [-1, 1] diverging scale,
    each cell annotated with its value."""
    names = [plain(m) for m in corr.columns]
    rows = [plain(m) for m in corr.index]
    fig = go.Figure(
        go.Heatmap(
            z=corr.to_numpy(dtype=np.float64),
            x=names,
            y=rows,
            colorscale=DIVERGING,
            zmin=-1.0,
            zmax=1.0,
            texttemplate="%{z:.2f}",
            colorbar={"title": {"text": "rank correlation", "side": "right"}},
            hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis={"type": "category"},
        yaxis={"type": "category", "autorange": "reversed", "scaleanchor": "x"},
        margin={"t": 30},
    )
    return fig


def completeness_chart(
    sum_attr: np.ndarray,
    expected_diff: np.ndarray,
    tolerance: float,
    labels: Sequence[str] | None = None,
) -> go.Figure:
    """Completeness: per sample, the sum of its attributions (N,) against f(x) - f(baseline)
    (N,), with the identity line and a +-tolerance band (absolute, output units). Samples off
    by more than `tolerance` (or not finite) are their own orange trace."""
    s = np.asarray(sum_attr, dtype=np.float64).ravel()
    d = np.asarray(expected_diff, dtype=np.float64).ravel()
    if s.shape != d.shape:
        raise ValueError(f"sum_attr {s.shape} and expected_diff {d.shape} must match.")
    names = (
        [plain(x) for x in labels] if labels is not None else [f"sample {i}" for i in range(len(s))]
    )
    beyond = ~(np.abs(s - d) <= tolerance)
    both = np.concatenate([s, d])
    both = both[np.isfinite(both)]
    lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo) or max(abs(hi), 1.0) * 0.05
    lo, hi = lo - pad, hi + pad
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="sum = f(x) − f(baseline)",
            line={"color": OTHER_GREY, "dash": "dash"},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[lo, hi, None, lo, hi],
            y=[lo + tolerance, hi + tolerance, None, lo - tolerance, hi - tolerance],
            mode="lines",
            name=f"± tolerance {tolerance:.3g}",
            line={"color": OTHER_GREY, "dash": "dot", "width": 1},
            hoverinfo="skip",
        )
    )
    for name, mask, colour, size in (
        ("within tolerance", ~beyond, BLUE, 7),
        ("beyond tolerance", beyond, ORANGE, 10),
    ):
        fig.add_trace(
            go.Scatter(
                x=d[mask],
                y=s[mask],
                mode="markers",
                name=f"{name} ({int(mask.sum())})",
                marker={"color": colour, "size": size},
                text=[names[i] for i in np.flatnonzero(mask)],
                hovertemplate="%{text}<br>f(x) − f(baseline) %{x:.4g}"
                "<br>sum of attributions %{y:.4g}<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title=f"{int(beyond.sum())} of {len(s)} samples off by more than {tolerance:.3g}",
        xaxis_title="f(x) − f(baseline)",
        yaxis={"title": "sum of attributions", "scaleanchor": "x"},
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 50},
    )
    return fig
