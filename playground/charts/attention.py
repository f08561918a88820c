"""Charts of attention (results of `playground.inspect.attention`): one heat map per head of
where each query position looks, and the attention each position receives. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.charts import BLUE, NEUTRAL, ORANGE, TEMPLATE, plain
from playground.inspect.attention import AttentionLayer, received

# White (no attention) to blue (all of a query's attention): one scale for every head, fixed
# at 0..1 so an even spread looks as faint as it is.
SCALE = [[0.0, "#ffffff"], [0.15, NEUTRAL], [1.0, BLUE]]
MAX_COLUMNS = 4
CELL_PX = 22  # per token, so a long sequence gets a taller map instead of squeezed cells


def attention_heatmaps(
    layer: AttentionLayer, labels: Sequence[str], row: int = 0, title: str = ""
) -> go.Figure:
    """One heat map per head of row `row`'s weights: query positions down, key positions
    across, colour = the share of that query's attention on that key (each line sums to 1).
    `labels` name the positions ("3 A": position 3 holds token A)."""
    heads, steps = layer.heads, layer.steps
    cols = min(heads, MAX_COLUMNS)
    rows = math.ceil(heads / cols)
    names = [plain(s) for s in labels]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"head {h + 1}" for h in range(heads)],
        horizontal_spacing=0.06,
        vertical_spacing=0.12 if rows > 1 else 0.0,
    )
    for h in range(heads):
        fig.add_trace(
            go.Heatmap(
                z=layer.weights[row, h],
                x=names,
                y=names,
                coloraxis="coloraxis",
                name=f"head {h + 1}",
                hovertemplate="query %{y}<br>key %{x}<br>%{z:.1%}<extra></extra>",
            ),
            row=h // cols + 1,
            col=h % cols + 1,
        )
    side = max(220, CELL_PX * steps)
    fig.update_yaxes(autorange="reversed", title_text="")
    fig.update_yaxes(title_text="query (looks)", col=1)
    fig.update_xaxes(title_text="key (looked at)")
    fig.update_layout(
        template=TEMPLATE,
        title=plain(title or f"Attention of layer {layer.index} {layer.label}, per head"),
        coloraxis={
            "colorscale": SCALE,
            "cmin": 0.0,
            "cmax": 1.0,
            "colorbar": {"title": {"text": "share"}, "tickformat": ".0%"},
        },
        height=rows * side + 140,
        width=max(480, cols * side + 160),
        margin={"t": 80},
    )
    return fig


def attention_received(
    layer: AttentionLayer,
    labels: Sequence[str],
    row: int = 0,
    highlight: int | None = None,
    batch_mean: bool = True,
) -> go.Figure:
    """Attention each position receives, averaged over heads and query positions: bars for
    row `row`, dots for every row of the batch by position (`batch_mean`), and the even
    spread 1/T as a dashed line. `highlight` colours one position's bar (the deciding token,
    where known)."""
    steps = layer.steps
    names = [plain(s) for s in labels]
    mine = received(layer.weights[row : row + 1])
    colours = [ORANGE if t == highlight else BLUE for t in range(steps)]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=mine,
            marker_color=colours,
            name="this row",
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    if batch_mean:
        fig.add_trace(
            go.Scatter(
                x=names,
                y=received(layer.weights),
                mode="markers",
                marker={"color": "#555555", "size": 8, "symbol": "diamond"},
                name=f"mean of {len(layer.weights)} rows, by position",
                hovertemplate="position %{x}: %{y:.1%}<extra></extra>",
            )
        )
    fig.add_hline(
        y=1.0 / steps,
        line_dash="dash",
        line_color="#888888",
        annotation_text=f"even spread {1 / steps:.0%}",
        annotation_position="top right",
    )
    fig.update_layout(
        template=TEMPLATE,
        title=plain(f"Attention received by each position, layer {layer.index}"),
        xaxis_title="position (key)",
        yaxis={"title": "share of attention", "tickformat": ".0%"},
        margin={"t": 50},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def share_bars(shares: dict[str, float], uniform: float, title: str) -> go.Figure:
    """One bar per model of its attention share on the deciding token, beside the even
    spread (1/T) as a dashed line."""
    names = list(shares)
    values = np.array([shares[n] for n in names], dtype=float)
    fig = go.Figure(
        go.Bar(
            x=[plain(n) for n in names],
            y=values,
            text=[f"{100 * v:.0f}%" for v in values],
            textposition="outside",
            marker_color=[ORANGE, BLUE, *[BLUE] * max(0, len(names) - 2)][: len(names)],
        )
    )
    fig.add_hline(
        y=uniform,
        line_dash="dash",
        line_color="#888888",
        annotation_text=f"even spread {100 * uniform:.0f}%",
        annotation_position="top right",
    )
    fig.update_layout(
        template=TEMPLATE,
        title=plain(title),
        yaxis={"title": "share of attention", "tickformat": ".0%", "range": [0, 1.1]},
        margin={"t": 50},
        showlegend=False,
    )
    return fig
