"""GAN views in the spirit of GAN Lab: real and generated samples over the discriminator's
heat map, arrows where the generator's gradient pushes each fake sample, and how many of the
data's modes the generator covers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from playground.charts import BLUE, ORANGE, TEMPLATE, plain

FIELD_TITLES = {
    "probability": "discriminator: P(real)",
    "score": "discriminator score",
    "critic": "critic score",
}
ARROW_SHARE = 0.08  # the longest arrow, as a share of the plot's width


def gan_field(view: dict[str, Any], real: np.ndarray, covered_of: int | None = None) -> go.Figure:
    """The discriminator's field as a heat map, real samples (blue), generated ones (orange)
    and the generator's gradient as arrows from each fake sample."""
    field, arrows, fake = view["field"], view["arrows"], np.asarray(view["samples"])
    fig = go.Figure()
    probability = field["kind"] == "probability"
    fig.add_trace(
        go.Heatmap(
            x=field["xs"],
            y=field["ys"],
            z=field["values"],
            colorscale=[[0.0, "#fbe3c8"], [0.5, "#ffffff"], [1.0, "#c6dbef"]],
            zmin=0.0 if probability else None,
            zmax=1.0 if probability else None,
            colorbar={"title": {"text": FIELD_TITLES[field["kind"]], "side": "right"}},
            hovertemplate="(%{x:.2f}, %{y:.2f}): %{z:.2f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=real[:, 0],
            y=real[:, 1],
            mode="markers",
            name="real",
            marker={"size": 4, "color": BLUE, "opacity": 0.5},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=fake[:, 0],
            y=fake[:, 1],
            mode="markers",
            name="generated",
            marker={"size": 5, "color": ORANGE, "line": {"width": 0.5, "color": "#7a3e00"}},
            hovertemplate="generated (%{x:.2f}, %{y:.2f})<extra></extra>",
        )
    )
    if arrows is not None:
        xs, ys = _arrow_lines(arrows["points"], arrows["directions"], field["xs"])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="generator's push",
                line={"color": "#7a3e00", "width": 1.2},
                hoverinfo="skip",
            )
        )
    title = "Real and generated samples over the discriminator's view"
    if view.get("modes_covered") is not None and covered_of:
        title += f": {view['modes_covered']} of {covered_of} modes covered"
    fig.update_layout(
        template=TEMPLATE,
        title={"text": plain(title), "font": {"size": 14}},
        xaxis_title="x1",
        yaxis={"title": "x2", "scaleanchor": "x"},
        height=520,
        margin={"t": 50},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def _arrow_lines(
    points: np.ndarray, directions: np.ndarray, xs: np.ndarray
) -> tuple[list[float | None], list[float | None]]:
    """Line segments point -> point + scaled direction, separated by None (one trace). The
    longest arrow is ARROW_SHARE of the plot's width, so their relative lengths show."""
    points, directions = np.asarray(points), np.asarray(directions)
    longest = float(np.linalg.norm(directions, axis=1).max()) if len(directions) else 0.0
    scale = ARROW_SHARE * float(np.ptp(xs)) / longest if longest > 0 else 0.0
    out_x: list[float | None] = []
    out_y: list[float | None] = []
    for (px, py), (dx, dy) in zip(points, directions * scale, strict=True):
        out_x += [float(px), float(px + dx), None]
        out_y += [float(py), float(py + dy), None]
    return out_x, out_y


def coverage_bars(counts: np.ndarray, class_names: Sequence[str], radius_share: int) -> go.Figure:
    """Generated samples near each mode of the data: a collapsed generator fills few bars."""
    fig = go.Figure(
        go.Bar(
            x=[plain(n) for n in class_names],
            y=np.asarray(counts),
            marker_color=ORANGE,
            hovertemplate="%{x}: %{y} samples<extra></extra>",
        )
    )
    fig.add_hline(
        y=radius_share,
        line={"dash": "dash", "color": "#777777"},
        annotation_text="counts as covered",
        annotation_position="top left",
    )
    fig.update_layout(
        template=TEMPLATE,
        title={"text": "Generated samples near each mode of the data", "font": {"size": 14}},
        xaxis_title="mode",
        yaxis_title="samples",
        height=300,
        margin={"t": 50},
    )
    return fig


def gan_losses(history: list[dict[str, Any]]) -> go.Figure:
    """Both players' training losses per epoch: the discriminator's and the generator's. They
    pull against each other, so neither falling steadily is the normal picture."""
    epochs = [row["epoch"] for row in history]
    fig = go.Figure()
    for key, name, colour in (
        ("train_d_loss", "discriminator", BLUE),
        ("train_g_loss", "generator", ORANGE),
    ):
        values = [row.get(key) for row in history]
        if any(v is not None for v in values):
            fig.add_trace(
                go.Scatter(x=epochs, y=values, mode="lines", name=name, line={"color": colour})
            )
    fig.update_layout(
        template=TEMPLATE,
        title={"text": "Both losses while training", "font": {"size": 14}},
        xaxis_title="epoch",
        yaxis_title="loss",
        height=300,
        margin={"t": 50},
    )
    return fig
