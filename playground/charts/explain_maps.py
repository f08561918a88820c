"""Attributions laid over the input's own geometry: images (pixel maps and overlays), sequences
(attribution per time step) and 2-D points (arrows).

Signed attributions share the diverging palette centred at 0 with a symmetric range; non-negative
maps (Grad-CAM) use a sequential scale from 0. Titles are user text and go through `plain`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.charts import DIVERGING, TEMPLATE, class_colour, plain
from playground.charts.explain_style import (
    DIVERGING_OVERLAY,
    OTHER_GREY,
    SEQUENTIAL,
    SEQUENTIAL_OVERLAY,
    sign_colours,
    symmetric_limit,
)

IMAGE_ROW_PIXELS = 230
ARROW_FRACTION = 0.08  # the longest arrow spans this fraction of the points' extent


def image_overlay(
    images: np.ndarray,
    attributions: np.ndarray,
    titles: Sequence[str] | None = None,
    max_images: int = 8,
    signed: bool | None = None,
) -> go.Figure:
    """Per sample, a row of three panels: the image (grayscale; channels averaged), its
    attribution map, and the map laid semi-transparently over the image.

    `images` is (N, C, H, W) or (N, H, W); `attributions` is (N, H, W) or (N, C, H, W) (channels
    summed, as Captum's visualiser does). Signed maps (or `signed=True`) use a diverging scale
    with one symmetric range [-m, m] shared by every shown sample, so colours compare across
    rows; non-negative maps (Grad-CAM) a sequential one over [0, m]."""
    pictures, maps = (
        _planes(images, "images", np.mean),
        _planes(attributions, "attributions", np.sum),
    )
    if pictures.shape != maps.shape:
        raise ValueError(
            f"Images {pictures.shape} and attribution maps {maps.shape} must have the same "
            "samples, height and width (upsample layer maps first)."
        )
    n = min(len(pictures), max(int(max_images), 1))
    pictures, maps = pictures[:n], maps[:n]
    if signed is None:
        signed = bool((maps < 0).any())
    limit = symmetric_limit(maps)
    zmin = -limit if signed else 0.0
    scale, overlay_scale = (
        (DIVERGING, DIVERGING_OVERLAY) if signed else (SEQUENTIAL, SEQUENTIAL_OVERLAY)
    )
    names = (
        [plain(t) for t in titles[:n]] if titles is not None else [f"sample {i}" for i in range(n)]
    )
    if len(names) < n:
        names += [f"sample {i}" for i in range(len(names), n)]
    subtitles = [text for name in names for text in (name, "attribution", "overlay")]
    fig = make_subplots(
        rows=n,
        cols=3,
        subplot_titles=subtitles,
        horizontal_spacing=0.03,
        vertical_spacing=min(0.3 / n, 0.1),
    )
    for i in range(n):
        attribution = {"z": maps[i], "zmin": zmin, "zmax": limit}
        fig.add_trace(_image_trace(pictures[i]), row=i + 1, col=1)
        fig.add_trace(
            go.Heatmap(
                **attribution,
                colorscale=scale,
                showscale=i == 0,
                colorbar={
                    "title": {"text": "attribution", "side": "right"},
                    "len": min(1.0, 1.5 / n),
                },
                name="attribution",
                hovertemplate="(%{x}, %{y}) %{z:.3g}<extra></extra>",
            ),
            row=i + 1,
            col=2,
        )
        fig.add_trace(_image_trace(pictures[i]), row=i + 1, col=3)
        fig.add_trace(
            go.Heatmap(
                **attribution,
                colorscale=overlay_scale,
                showscale=False,
                name="overlay",
                hovertemplate="(%{x}, %{y}) %{z:.3g}<extra></extra>",
            ),
            row=i + 1,
            col=3,
        )
        for col in (1, 2, 3):
            k = i * 3 + col  # make_subplots numbers axes row by row
            fig.update_yaxes(
                autorange="reversed", scaleanchor=f"x{k if k > 1 else ''}", row=i + 1, col=col
            )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(
        template=TEMPLATE,
        height=IMAGE_ROW_PIXELS * n + 40,
        margin={"t": 40, "l": 10, "r": 10, "b": 10},
    )
    return fig


def time_step_attribution(
    steps: np.ndarray,
    inputs: np.ndarray | None = None,
    titles: Sequence[str] | None = None,
) -> go.Figure:
    """Attribution per time step. `steps` is (N, T) (or (N, T, F), summed over features).
    One sample: bars coloured by sign; several: a heatmap (sample x step, diverging, centred
    at 0, symmetric range). When `inputs` (N, T) or (N, T, F) is given, the input sequences are
    drawn above on a shared x axis (one-hot tokens as token index, else the first feature)."""
    attr = np.asarray(steps, dtype=np.float64)
    if attr.ndim == 1:
        attr = attr[None]
    if attr.ndim == 3:
        attr = attr.sum(axis=2)
    if attr.ndim != 2:
        raise ValueError(f"steps must be (samples, time steps); got shape {attr.shape}.")
    n, t = attr.shape
    names = [plain(s) for s in titles] if titles is not None else [f"sample {i}" for i in range(n)]
    names += [f"sample {i}" for i in range(len(names), n)]
    series, input_title = _input_series(inputs, n, t)
    rows = 1 if series is None else 2
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[0.4, 0.6] if rows == 2 else None,
    )
    x = np.arange(t)
    if series is not None:
        for i in range(n):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=series[i],
                    mode="lines+markers",
                    name=names[i],
                    line={"color": class_colour(i)},
                    hovertemplate="step %{x}: %{y:.3g}<extra></extra>",
                ),
                row=1,
                col=1,
            )
        fig.update_yaxes(title_text=input_title, row=1, col=1)
    if n == 1:
        fig.add_trace(
            go.Bar(
                x=x,
                y=attr[0],
                marker_color=sign_colours(attr[0]),
                name="attribution",
                showlegend=False,
                hovertemplate="step %{x}: %{y:.3g}<extra></extra>",
            ),
            row=rows,
            col=1,
        )
        fig.update_yaxes(title_text="attribution", row=rows, col=1)
    else:
        limit = symmetric_limit(attr)
        fig.add_trace(
            go.Heatmap(
                z=attr,
                x=x,
                y=np.arange(n),
                colorscale=DIVERGING,
                zmin=-limit,
                zmax=limit,
                colorbar={"title": {"text": "attribution", "side": "right"}},
                text=[[name] * t for name in names],
                name="attribution",
                hovertemplate="%{text}, step %{x}: %{z:.3g}<extra></extra>",
            ),
            row=rows,
            col=1,
        )
        fig.update_yaxes(
            tickvals=list(range(n)), ticktext=names, autorange="reversed", row=rows, col=1
        )
    fig.update_xaxes(title_text="time step", row=rows, col=1)
    fig.update_layout(
        template=TEMPLATE,
        height=220 + 160 * rows + (18 * n if n > 1 else 0),
        margin={"t": 30},
        legend={"orientation": "h", "y": 1.08},
    )
    return fig


def attribution_2d(
    points: np.ndarray,
    values: np.ndarray,
    names: Sequence[str] | None = None,
) -> go.Figure:
    """2-D inputs (N, 2) with their attributions (N, 2): each point coloured by its total
    attribution (diverging, centred at 0) and an arrow (a1, a2) from it, scaled so the longest
    spans a fixed fraction of the plot, showing which way each feature pushed the output."""
    xy, attr = np.asarray(points, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or attr.shape != xy.shape:
        raise ValueError(
            f"points and values must both be (samples, 2); got {xy.shape} and {attr.shape}."
        )
    axis_names = [plain(n) for n in [*(names or []), "x1", "x2"][:2]]
    total = attr.sum(axis=1)
    extent = float(np.ptp(xy, axis=0).max()) if len(xy) else 1.0
    longest = float(np.hypot(attr[:, 0], attr[:, 1]).max()) if len(xy) else 0.0
    scale = ARROW_FRACTION * (extent or 1.0) / longest if longest > 0 else 0.0
    tips = xy + scale * attr
    # One trace for every arrow: segments separated by None, an arrowhead marker at each tip.
    seg_x = np.column_stack([xy[:, 0], tips[:, 0], np.full(len(xy), np.nan)]).ravel()
    seg_y = np.column_stack([xy[:, 1], tips[:, 1], np.full(len(xy), np.nan)]).ravel()
    sizes = np.tile([0, 9, 0], len(xy))
    fig = go.Figure(
        [
            go.Scatter(
                x=seg_x,
                y=seg_y,
                mode="lines+markers",
                name="attribution (a1, a2)",
                line={"color": OTHER_GREY, "width": 1.5},
                marker={
                    "symbol": "arrow",
                    "angleref": "previous",
                    "size": sizes,
                    "color": OTHER_GREY,
                },
                hoverinfo="skip",
            ),
            go.Scatter(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="markers",
                name="sample",
                marker={
                    "size": 8,
                    "color": total,
                    "coloraxis": "coloraxis",
                    "line": {"width": 0.5},
                },
                customdata=np.column_stack([attr, total]),
                hovertemplate="(%{x:.2f}, %{y:.2f})<br>attribution (%{customdata[0]:.3g}, "
                "%{customdata[1]:.3g})<br>sum %{customdata[2]:.3g}<extra></extra>",
            ),
        ]
    )
    limit = symmetric_limit(total)
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=axis_names[0],
        yaxis={"title": axis_names[1], "scaleanchor": "x"},
        coloraxis={
            "colorscale": DIVERGING,
            "cmin": -limit,
            "cmax": limit,
            "colorbar": {"title": {"text": "sum of attributions", "side": "right"}},
        },
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 30},
    )
    return fig


def _planes(array: np.ndarray, what: str, reduce: object) -> np.ndarray:
    """(N, H, W) from (N, H, W) or (N, C, H, W), reducing channels with `reduce`."""
    a = np.asarray(array, dtype=np.float64)
    if a.ndim == 4:
        a = reduce(a, axis=1)  # type: ignore[operator]
    if a.ndim != 3:
        raise ValueError(f"{what} must be (N, H, W) or (N, C, H, W); got shape {a.shape}.")
    return a


def _image_trace(picture: np.ndarray) -> go.Heatmap:
    finite = picture[np.isfinite(picture)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return go.Heatmap(
        z=picture,
        colorscale="Greys",
        zmin=lo,
        zmax=hi if hi > lo else lo + 1.0,
        showscale=False,
        name="image",
        hovertemplate="(%{x}, %{y}) %{z:.3g}<extra></extra>",
    )


def _input_series(inputs: np.ndarray | None, n: int, t: int) -> tuple[np.ndarray | None, str]:
    """(N, T) values to draw for the inputs and their axis title."""
    if inputs is None:
        return None, ""
    a = np.asarray(inputs)
    if a.shape[:2] != (n, t) or a.ndim not in (2, 3):
        raise ValueError(f"inputs must be ({n}, {t}) or ({n}, {t}, features); got {a.shape}.")
    if a.ndim == 2:
        return a.astype(np.float64), "input"
    if a.shape[2] == 1:
        return a[:, :, 0].astype(np.float64), "input"
    if np.isin(a, (0, 1)).all() and np.allclose(a.sum(axis=2), 1.0):
        return a.argmax(axis=2).astype(np.float64), "token"
    return a[:, :, 0].astype(np.float64), "input (feature 1)"
