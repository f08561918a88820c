"""A first look at a dataset, before any model: points, images, sequences and class balance."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from playground.analysis.data_summary import class_balance
from playground.charts import (
    DIVERGING,
    SPLIT_SYMBOLS,
    SPLIT_TITLES,
    TEMPLATE,
    class_colour,
    plain,
)
from playground.data.dataset import SPLIT_NAMES, Dataset

SPLIT_COLOURS = {"train": "#0877bd", "val": "#f59322", "test": "#7f7f7f"}
MOSAIC_COLUMNS = 8
MOSAIC_GAP = 1  # empty pixels between tiles in a row
TILE_PIXELS = 100  # screen height of one row of tiles, label band included


def scatter_2d(dataset: Dataset) -> go.Figure:
    """Every split's points of a 2-feature dataset. Classification: one trace per (split,
    class), coloured by class, with a marker symbol per split. Regression: one trace per
    split, coloured by the target (original units) on one shared colour axis."""
    if tuple(dataset.input_shape) != (2,):
        raise ValueError(
            f"A 2-D scatter needs 2 input features; dataset {dataset.name!r} has input shape "
            f"{tuple(dataset.input_shape)}."
        )
    names = [plain(n) for n in dataset.class_names or []]
    fig = go.Figure()
    for split in SPLIT_NAMES:
        part = dataset.split(split)
        x = part.x.float().numpy()
        symbol = SPLIT_SYMBOLS[split]
        if dataset.task == "regression":
            value = part.y.numpy() * dataset.target_std + dataset.target_mean
            marker = {"symbol": symbol, "color": value, "coloraxis": "coloraxis", "size": 6}
            fig.add_trace(_scatter(x, SPLIT_TITLES[split], marker, split))
            continue
        y = part.y.numpy()
        for k, name in enumerate(names):
            mask = y == k
            if mask.any():
                marker = {"symbol": symbol, "color": class_colour(k), "size": 6}
                fig.add_trace(_scatter(x[mask], f"{SPLIT_TITLES[split]}: {name}", marker, split))
    features = [plain(f) for f in ([*dataset.feature_names, "x1", "x2"])[:2]]
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=features[0],
        yaxis={"title": features[1], "scaleanchor": "x"},
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 30},
    )
    if dataset.task == "regression":
        fig.update_layout(
            coloraxis={"colorscale": DIVERGING, "cmid": 0.0, "colorbar": {"title": "target"}}
        )
    return fig


def image_grid(dataset: Dataset, n: int = 24, split: str = "train") -> go.Figure:
    """The first `n` images of a split as one mosaic (a single Heatmap trace, or one Image
    trace for RGB), 8 per row, each titled with its class name (one annotation per image).
    Images are (channels, height, width) with 1 or 3 channels, values in [0, 1]."""
    if dataset.kind != "image" or len(dataset.input_shape) != 3:
        raise ValueError(
            f"An image grid needs image data (channels, height, width); dataset "
            f"{dataset.name!r} has input shape {tuple(dataset.input_shape)}."
        )
    part = dataset.split(split)
    images = part.x[:n].float().numpy()  # (n, C, H, W)
    labels = part.y[:n].numpy()
    count, channels, height, width = images.shape
    cols = min(MOSAIC_COLUMNS, max(count, 1))
    rows = math.ceil(count / cols)
    band = max(3, height // 3)  # empty rows above each tile, where its label goes
    tile_h, tile_w = band + height, width + MOSAIC_GAP
    mosaic = np.full((rows * tile_h, cols * tile_w, channels), np.nan, dtype=np.float64)
    for i in range(count):
        r, c = divmod(i, cols)
        top, left = r * tile_h + band, c * tile_w
        mosaic[top : top + height, left : left + width] = images[i].transpose(1, 2, 0)
    if channels == 3:
        rgb = np.nan_to_num(np.clip(mosaic, 0, 1), nan=1.0) * 255
        trace: go.Heatmap | go.Image = go.Image(z=rgb.astype(np.uint8), hoverinfo="skip")
    else:
        trace = go.Heatmap(
            z=mosaic[:, :, 0],
            colorscale="Greys",
            zmin=0.0,
            zmax=1.0,
            showscale=False,
            hoverinfo="skip",
        )
    fig = go.Figure(trace)
    names = dataset.class_names
    for i in range(count):
        r, c = divmod(i, cols)
        label = names[labels[i]] if names and dataset.is_classification else f"{labels[i]:.3g}"
        fig.add_annotation(
            x=c * tile_w + (width - 1) / 2,
            y=r * tile_h + (band - 1) / 2,
            text=plain(label),
            showarrow=False,
            font={"size": 12},
        )
    fig.update_layout(
        template=TEMPLATE,
        xaxis={"visible": False, "scaleanchor": "y", "constrain": "domain"},
        yaxis={"visible": False, "autorange": "reversed", "constrain": "domain"},
        margin={"t": 10, "l": 0, "r": 0, "b": 10},
        height=TILE_PIXELS * rows + 20,
    )
    return fig


def sequence_plot(dataset: Dataset, n: int = 4, split: str = "train") -> go.Figure:
    """The first `n` sequences of a split, one line each, by time step. Real-valued sequences
    (seq_len, 1) show their value (the first feature if there are several), and for
    regression the target as a star one step after the end (seq_len + 1 points); token sequences,
    one-hot (seq_len, vocab) or ids (seq_len,), show the token index per step, with token
    names on the y axis when the dataset names them ("token=A")."""
    if dataset.kind != "sequence":
        raise ValueError(
            f"A sequence plot needs sequence data; dataset {dataset.name!r} is {dataset.kind}."
        )
    part = dataset.split(split)
    x = part.x[:n]
    y = part.y[:n].numpy()
    tokens, token_names = _as_tokens(x.numpy(), dataset.feature_names)
    fig = go.Figure()
    # A real-valued regression target is the next value: draw it as a star one step on.
    forecast = tokens is None and not dataset.is_classification
    for i in range(len(x)):
        series = tokens[i] if tokens is not None else x[i].reshape(x.shape[1], -1)[:, 0].numpy()
        marker: dict = {"color": class_colour(i)}
        if dataset.is_classification:
            names = dataset.class_names or []
            target = names[y[i]] if y[i] < len(names) else str(y[i])
        else:
            value = float(y[i] * dataset.target_std + dataset.target_mean)
            target = f"{value:.3g}"
            if forecast:
                series = np.append(series, value)
                marker.update(size=[0] * (len(series) - 1) + [10], symbol="star")
        fig.add_trace(
            go.Scatter(
                x=np.arange(len(series)),
                y=series,
                name=plain(f"#{i} → {target}"),
                mode="lines" if tokens is None and not forecast else "lines+markers",
                marker=marker,
                line={"shape": "hv" if tokens is not None else "linear", "color": class_colour(i)},
            )
        )
    yaxis: dict = {"title": plain(dataset.feature_names[0]) if tokens is None else "token"}
    if tokens is not None and token_names:
        yaxis.update(tickvals=list(range(len(token_names))), ticktext=token_names)
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="time step",
        yaxis=yaxis,
        legend_title="example → target",
        margin={"t": 30},
    )
    return fig


def class_balance_chart(dataset: Dataset) -> go.Figure:
    """Classification: grouped bars of examples per class, one bar trace per split (train,
    validation, test). Regression: the target's distribution (original units), one histogram
    trace per split."""
    fig = go.Figure()
    if dataset.is_classification:
        table = class_balance(dataset)
        names = [plain(n) for n in table["class"]]
        for split in SPLIT_NAMES:
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=table[split],
                    name=SPLIT_TITLES[split],
                    marker_color=SPLIT_COLOURS[split],
                )
            )
        fig.update_layout(barmode="group", xaxis_title="class", yaxis_title="examples")
    else:
        for split in SPLIT_NAMES:
            value = dataset.split(split).y.numpy() * dataset.target_std + dataset.target_mean
            fig.add_trace(
                go.Histogram(
                    x=value,
                    name=SPLIT_TITLES[split],
                    marker_color=SPLIT_COLOURS[split],
                    opacity=0.6,
                )
            )
        fig.update_layout(barmode="overlay", xaxis_title="target", yaxis_title="examples")
    fig.update_layout(template=TEMPLATE, margin={"t": 30})
    return fig


def _scatter(x: np.ndarray, name: str, marker: dict, split: str) -> go.Scatter:
    return go.Scatter(
        x=x[:, 0],
        y=x[:, 1],
        mode="markers",
        name=name,
        marker=marker,
        legendgroup=split,
        hovertemplate="(%{x:.2f}, %{y:.2f})",
    )


def _as_tokens(
    x: np.ndarray, feature_names: list[str]
) -> tuple[np.ndarray | None, list[str] | None]:
    """Token index per step (n, seq_len) and escaped token names, or (None, None) for
    real-valued sequences. One-hot is recognised by 0/1 values summing to 1 at each step."""
    if not np.issubdtype(x.dtype, np.floating):
        return x.reshape(len(x), -1), None
    if x.ndim == 3 and x.shape[2] > 1:
        one_hot = np.isin(x, (0.0, 1.0)).all() and np.allclose(x.sum(axis=2), 1.0)
        if one_hot:
            names = [plain(str(f).split("=", 1)[-1]) for f in feature_names]
            return x.argmax(axis=2), names if len(names) == x.shape[2] else None
    return None, None
