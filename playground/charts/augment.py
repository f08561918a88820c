"""What augmentation shows the model: a grid of images (each original, then augmented
versions of it) or a scatter of training points beside the same points augmented."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from playground.charts import NEUTRAL, ORANGE, TEMPLATE, plain

CELL_PIXELS = 70  # one 8x8 image cell, big enough to read a digit
GAP = 1  # blank pixels between images in the mosaic


def _plane(image: np.ndarray) -> np.ndarray:
    """(H, W) to draw: a one-channel image's channel, several channels' mean."""
    image = np.asarray(image, dtype=float)
    return image if image.ndim == 2 else image.mean(axis=0)


def image_mosaic(originals: np.ndarray, augmented: np.ndarray) -> np.ndarray:
    """One (rows*(H+GAP)-GAP, cols*(W+GAP)-GAP) array: row i is original i then its V
    augmented versions; NaN between images (drawn blank)."""
    n, versions = augmented.shape[:2]
    h, w = _plane(originals[0]).shape
    z = np.full((n * (h + GAP) - GAP, (versions + 1) * (w + GAP) - GAP), np.nan)
    for i in range(n):
        cells = [originals[i], *augmented[i]]
        for j, cell in enumerate(cells):
            z[i * (h + GAP) : i * (h + GAP) + h, j * (w + GAP) : j * (w + GAP) + w] = _plane(cell)
    return z


def augment_grid(
    originals: np.ndarray,
    augmented: np.ndarray,
    names: Sequence[str],
    value_range: tuple[float, float] = (0.0, 1.0),
) -> go.Figure:
    """Images: `originals` (N, C, H, W) in the first column, `augmented` (N, V, C, H, W)
    beside them, one heat map (row 0 of each image at the top) on a grey scale spanning
    `value_range`, the data's pixel range."""
    z = image_mosaic(originals, augmented)
    h, w = _plane(originals[0]).shape
    versions = augmented.shape[1]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            colorscale="Greys",  # plotly's runs from white (low) to black: ink dark on light
            zmin=value_range[0],
            zmax=value_range[1],
            showscale=False,
            hovertemplate="value %{z:.2f}<extra></extra>",
        )
    )
    fig.add_vline(x=w - 0.5 + GAP / 2, line={"color": ORANGE, "width": 2})
    fig.update_xaxes(
        tickvals=[(w + GAP) * j + (w - 1) / 2 for j in range(versions + 1)],
        ticktext=["original", *[f"#{j + 1}" for j in range(versions)]],
        side="top",
        showgrid=False,
        zeroline=False,
    )
    fig.update_yaxes(
        autorange="reversed", scaleanchor="x", visible=False, showgrid=False, zeroline=False
    )
    rows = len(originals)
    fig.update_layout(
        template=TEMPLATE,
        title={"text": plain(f"What training sees: {', '.join(names)}"), "font": {"size": 14}},
        height=CELL_PIXELS * rows * (h + GAP) // h + 90,
        width=CELL_PIXELS * (versions + 1) * (w + GAP) // w + 40,
        margin={"t": 70, "l": 10, "r": 10, "b": 10},
        plot_bgcolor="#c9ced2",  # the blank gaps between images show as grey lines
    )
    return fig


def augment_scatter(
    originals: np.ndarray,
    augmented: np.ndarray,
    names: Sequence[str],
    feature_names: Sequence[str],
) -> go.Figure:
    """Points: the training inputs (grey) and the same points augmented (orange), on the
    first two features (standardised units for tables, as the model sees them)."""
    original, changed = np.asarray(originals, float), np.asarray(augmented, float)
    fx, fy = [*feature_names, "x1", "x2"][:2]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=original[:, 0],
            y=original[:, 1],
            mode="markers",
            name="training data",
            marker={"size": 6, "color": NEUTRAL, "line": {"width": 1, "color": "#8a8f93"}},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=changed[:, 0],
            y=changed[:, 1],
            mode="markers",
            name="augmented",
            marker={"size": 5, "color": ORANGE, "opacity": 0.8},
            hovertemplate="(%{x:.2f}, %{y:.2f})<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title={"text": plain(f"What training sees: {', '.join(names)}"), "font": {"size": 14}},
        xaxis_title=plain(fx),
        yaxis_title=plain(fy),
        height=360,
        margin={"t": 50, "l": 50, "r": 10, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
