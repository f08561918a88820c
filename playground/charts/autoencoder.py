"""Autoencoder views: originals beside reconstructions, the latent space coloured by class,
the decoded latent plane, an interpolation strip, and the anomaly score's spread and ROC."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.charts import BLUE, CLASS_COLOURS, ORANGE, TEMPLATE, plain

IMAGE_SCALE = "Greys"
CELL_PIXELS = 90  # one image cell, so 8x8 digits stay legible


def image_rows(rows: Sequence[tuple[str, np.ndarray]], titles: Sequence[str]) -> go.Figure:
    """Rows of images (each (K, C, H, W) or (K, H, W)), one subplot per image, square cells,
    a shared grey scale from 0 to 1 (digits' range)."""
    count = len(rows[0][1])
    fig = make_subplots(
        rows=len(rows),
        cols=count,
        row_titles=[plain(label) for label, _ in rows],
        subplot_titles=[plain(t) for t in titles] + [""] * (count * (len(rows) - 1)),
        horizontal_spacing=0.01,
        vertical_spacing=0.06,
    )
    for r, (_, images) in enumerate(rows, start=1):
        for c in range(count):
            image = np.asarray(images[c])
            image = image[0] if image.ndim == 3 else image
            fig.add_trace(
                go.Heatmap(
                    z=image[::-1],
                    colorscale=IMAGE_SCALE,
                    reversescale=True,
                    zmin=0.0,
                    zmax=1.0,
                    showscale=False,
                    hovertemplate="value %{z:.2f}<extra></extra>",
                ),
                row=r,
                col=c + 1,
            )
            n = (r - 1) * count + c + 1
            fig.update_xaxes(visible=False, row=r, col=c + 1)
            fig.update_yaxes(visible=False, scaleanchor=f"x{'' if n == 1 else n}", row=r, col=c + 1)
    fig.update_layout(
        template=TEMPLATE,
        height=CELL_PIXELS * len(rows) + 60,
        width=max(CELL_PIXELS * count + 80, 300),
        margin={"t": 30, "l": 10, "r": 60, "b": 10},
    )
    return fig


def reconstruction_grid(
    originals: np.ndarray, reconstructions: np.ndarray, titles: Sequence[str]
) -> go.Figure:
    """Images: originals on the top row, their reconstructions below."""
    return image_rows([("original", originals), ("rebuilt", reconstructions)], titles)


def interpolation_strip(images: np.ndarray) -> go.Figure:
    """Decoded images along the straight line between two codes, start to end."""
    steps = len(images)
    titles = ["start", *[""] * (steps - 2), "end"] if steps > 1 else ["start"]
    return image_rows([("decoded", images)], titles)


def latent_scatter(
    points: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str] | None,
    explained_variance: np.ndarray | None,
    rows: np.ndarray | None = None,
) -> go.Figure:
    """Each sample's code as a point, coloured by its class. For codes wider than 2 the axes
    are the first two principal components, titled with the share of variance they keep."""
    fig = go.Figure()
    names = list(class_names or [str(c) for c in sorted(set(labels.tolist()))])
    rows = np.arange(len(points)) if rows is None else rows
    for k, name in enumerate(names):
        mask = labels == k
        if not mask.any():
            continue
        fig.add_trace(
            go.Scatter(
                x=points[mask, 0],
                y=points[mask, 1],
                mode="markers",
                name=plain(name),
                marker={"size": 6, "color": CLASS_COLOURS[k % len(CLASS_COLOURS)], "opacity": 0.8},
                customdata=rows[mask],
                hovertemplate="row %{customdata}<extra>%{fullData.name}</extra>",
            )
        )
    if explained_variance is None:
        x_title, y_title = "code 1", "code 2"
        title = "The latent space: each test sample's code"
    else:
        x_title = f"principal component 1 ({explained_variance[0]:.0%} of the variance)"
        y_title = f"principal component 2 ({explained_variance[1]:.0%})"
        title = (
            f"The latent space (PCA of the codes: {float(np.sum(explained_variance)):.0%} of "
            "their variance kept)"
        )
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "font": {"size": 14}},
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=420,
        margin={"t": 50},
        legend={"title": {"text": "class"}},
    )
    return fig


def decoded_plane(xs: np.ndarray, ys: np.ndarray, decoded: np.ndarray, image: bool) -> go.Figure:
    """What the decoder makes of each point of a 2-D latent plane: a mosaic of images (rows
    follow the code's second axis, top = high), or for 2-D data the decoded points themselves
    coloured by where in the plane they came from."""
    if image:
        steps = len(xs)
        height, width = decoded.shape[-2], decoded.shape[-1]
        mosaic = np.ones((steps * (height + 1), steps * (width + 1)))
        for i in range(steps):
            for j in range(steps):
                cell = decoded[i, j].reshape(height, width)
                top = (steps - 1 - i) * (height + 1)
                mosaic[top : top + height, j * (width + 1) : j * (width + 1) + width] = cell
        fig = go.Figure(
            go.Heatmap(
                z=mosaic[::-1],
                colorscale=IMAGE_SCALE,
                reversescale=True,
                zmin=0.0,
                zmax=1.0,
                showscale=False,
                hoverinfo="skip",
            )
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False, scaleanchor="x")
        fig.update_layout(
            template=TEMPLATE,
            title={"text": "Decoding a grid of codes over the latent plane", "font": {"size": 14}},
            height=520,
            margin={"t": 50},
        )
        return fig
    flat = decoded.reshape(len(ys), len(xs), -1)
    gx, gy = np.meshgrid(xs, ys)
    fig = go.Figure(
        go.Scatter(
            x=flat[..., 0].ravel(),
            y=flat[..., 1].ravel(),
            mode="markers",
            marker={
                "size": 6,
                "color": gx.ravel(),
                "colorscale": "Viridis",
                "colorbar": {"title": {"text": "code 1"}},
            },
            customdata=np.stack([gx.ravel(), gy.ravel()], axis=1),
            hovertemplate="code (%{customdata[0]:.2f}, %{customdata[1]:.2f})<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title={
            "text": "Decoding a grid of codes: the data the decoder can make",
            "font": {"size": 14},
        },
        xaxis_title="x1",
        yaxis_title="x2",
        height=420,
        margin={"t": 50},
    )
    return fig


def anomaly_charts(
    scores: np.ndarray, is_anomaly: np.ndarray, fpr: np.ndarray, tpr: np.ndarray, auc: float
) -> go.Figure:
    """The reconstruction error of normal and held-out samples, and the ROC curve of using it
    as an anomaly score."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=["Reconstruction error (the anomaly score)", f"ROC curve (AUC {auc:.3f})"],
    )
    for mask, name, colour in ((~is_anomaly, "normal", BLUE), (is_anomaly, "held out", ORANGE)):
        fig.add_trace(
            go.Histogram(x=scores[mask], name=name, marker_color=colour, opacity=0.7, nbinsx=30),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(x=fpr, y=tpr, mode="lines", name="ROC", line={"color": BLUE}, showlegend=False),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"dash": "dash", "color": "#999999"},
            name="chance",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.update_layout(template=TEMPLATE, barmode="overlay", height=380, margin={"t": 50})
    fig.update_xaxes(title_text="mean squared error per element", row=1, col=1)
    fig.update_yaxes(title_text="samples", row=1, col=1)
    fig.update_xaxes(title_text="false positive rate", row=1, col=2)
    fig.update_yaxes(title_text="true positive rate", row=1, col=2)
    return fig


def posterior_chart(post: Any, class_names: Sequence[str] | None) -> go.Figure:
    """Each row's code distribution in a 2-D latent: an ellipse at mu ± 2 sigma, and the codes
    training would draw from it (mu + sigma · noise) as small dots of the same colour."""
    fig = go.Figure()
    t = np.linspace(0, 2 * np.pi, 48)
    names = list(class_names or [])
    shown: set[int] = set()
    for i in range(len(post.rows)):
        k = int(post.labels[i])
        colour = CLASS_COLOURS[k % len(CLASS_COLOURS)]
        name = plain(names[k] if k < len(names) else k)
        (mx, my), (sx, sy) = post.mu[i, :2], post.sigma[i, :2]
        fig.add_trace(
            go.Scatter(
                x=mx + 2 * sx * np.cos(t),
                y=my + 2 * sy * np.sin(t),
                mode="lines",
                line={"color": colour, "width": 1},
                name=name,
                legendgroup=name,
                showlegend=k not in shown,
                hovertemplate=f"row {post.rows[i]}: mean ({mx:.2f}, {my:.2f}), "
                f"sigma ({sx:.2f}, {sy:.2f})<extra></extra>",
            )
        )
        shown.add(k)
        fig.add_trace(
            go.Scatter(
                x=post.draws[i, :, 0],
                y=post.draws[i, :, 1],
                mode="markers",
                marker={"size": 4, "color": colour},
                legendgroup=name,
                showlegend=False,
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title={
            "text": "The reparameterisation: each sample's code is drawn from N(mean, sigma²)",
            "font": {"size": 14},
        },
        xaxis_title="code 1",
        yaxis={"title": "code 2", "scaleanchor": "x"},
        height=460,
        margin={"t": 50},
        legend={"title": {"text": "class"}},
    )
    return fig
