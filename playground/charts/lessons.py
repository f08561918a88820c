"""Charts the lessons compare runs with, where playground.charts.training has none: one bar
per variant, gradient norm by depth, one curve per variant with a title. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from playground.charts import BLUE, ORANGE, TEMPLATE, class_colour, plain
from playground.charts.training import compare_runs

Rows = Sequence[Mapping[str, Any]]


def variant_bars(
    values: Mapping[str, float],
    title: str,
    axis: str,
    percent: bool = False,
    log: bool = False,
    errors: Mapping[str, float] | None = None,
) -> go.Figure:
    """One bar per variant (in the given order) with its value written on it; `errors` adds
    ± bars (a spread over seeds)."""
    names = list(values)
    ys = [float(values[n]) for n in names]
    text = [f"{100 * y:.1f}%" if percent else f"{y:.3g}" for y in ys]
    bar = go.Bar(
        x=[plain(n) for n in names],
        y=ys,
        text=text,
        textposition="outside",
        marker_color=[class_colour(k + 1) for k in range(len(names))],
        error_y={"type": "data", "array": [errors[n] for n in names]} if errors else None,
    )
    fig = go.Figure(bar)
    fig.update_layout(
        template=TEMPLATE,
        title=plain(title),
        yaxis_title=plain(axis),
        margin={"t": 50},
        showlegend=False,
    )
    if percent:
        fig.update_yaxes(tickformat=".0%", range=[0, 1.1])
    if log:
        fig.update_yaxes(type="log")
    return fig


def norms_by_depth(norms: Mapping[str, Sequence[float]], title: str) -> go.Figure:
    """One line per variant of its layers' mean gradient norm (first weighted layer = 1), on
    a log axis: a line that falls steeply towards layer 1 is a gradient vanishing."""
    fig = go.Figure()
    for k, (name, values) in enumerate(norms.items()):
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(values) + 1)),
                y=list(values),
                name=plain(name),
                mode="lines+markers",
                line={"color": class_colour(k + 1)},
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title=plain(title),
        xaxis_title="layer (1 = nearest the input)",
        yaxis_title="gradient norm",
        margin={"t": 50},
    )
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def curves(histories: Mapping[str, Rows], metric: str, title: str, log: bool = False) -> go.Figure:
    """`compare_runs` (one line per variant) with a title; `log` for losses that explode."""
    fig = compare_runs(histories, metric)
    fig.update_layout(title=plain(title), margin={"t": 50})
    if log:
        fig.update_yaxes(type="log")
    return fig


def generated_scatter(real: Any, generated: Any, title: str, max_points: int = 1000) -> go.Figure:
    """Real points (blue) and generated ones (orange) of a 2-D distribution, (N, 2) each."""
    fig = go.Figure()
    for points, name, colour in ((real, "real", BLUE), (generated, "generated", ORANGE)):
        points = points[:max_points]
        fig.add_trace(
            go.Scatter(
                x=points[:, 0],
                y=points[:, 1],
                mode="markers",
                name=name,
                marker={"color": colour, "size": 4, "opacity": 0.6},
            )
        )
    fig.update_layout(template=TEMPLATE, title=plain(title), margin={"t": 50})
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig
