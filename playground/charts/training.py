"""Charts of a training run: metric curves, learning rate, gradient health, decision boundary.

Inputs are the trainer's epoch rows (`state.history`) or step records (`state.records`), plain
dicts as stored with a run, and a `BoundaryGrid` from `playground.analysis.boundary`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.analysis.boundary import BoundaryGrid
from playground.analysis.health import DEAD_RELU_WARNING, EXPLODING_NORM, VANISHING_NORM
from playground.charts import (
    BLUE,
    DIVERGING,
    ORANGE,
    SPLIT_SYMBOLS,
    SPLIT_TITLES,
    TEMPLATE,
    class_colour,
    layer_name,
    layer_sort_key,
    plain,
    x_key,
)
from playground.data.dataset import Dataset

Rows = Sequence[Mapping[str, Any]]

SCORE_TITLES = {
    "acc": "accuracy",
    "r2": "R²",
    "recon": "reconstruction error",
    "modes_covered": "modes covered",
    "g_loss": "generator loss",
}
# Log axes cannot show 0: a zero gradient norm is drawn at this floor (hover shows the truth).
LOG_FLOOR = 1e-12
POINT_OUTLINE = {"train": ("white", 1.0), "val": ("#555555", 1.0), "test": ("black", 1.5)}


def metric_title(metric: str) -> str:
    """'val_acc' -> 'validation accuracy', 'train_loss' -> 'train loss'."""
    split, _, name = metric.partition("_")
    if split in SPLIT_TITLES and name:
        return f"{SPLIT_TITLES[split]} {SCORE_TITLES.get(name, name)}"
    return SCORE_TITLES.get(metric, metric.replace("_", " "))


def training_curves(history: Rows, score_name: str) -> go.Figure:
    """Two panels by epoch: loss and the score (`score_name` "acc" or "r2"). Four traces,
    named "train", "validation", "train", "validation" (the panel titles say which metric;
    the legend shows the first panel's pair); missing values leave gaps."""
    score_title = SCORE_TITLES.get(score_name, plain(score_name))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", score_title.capitalize()))
    epochs = [row.get("epoch") for row in history]
    panels = (("loss", 1), (score_name, 2))
    for metric, col in panels:
        for split, colour, dash in (("train", BLUE, "solid"), ("val", ORANGE, "dash")):
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=_values(history, f"{split}_{metric}"),
                    name=SPLIT_TITLES[split],
                    mode="lines+markers" if len(history) < 30 else "lines",
                    line={"color": colour, "dash": dash},
                    legendgroup=split,  # one legend entry toggles the split in both panels
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="epoch")
    if score_name == "acc":
        fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig.update_layout(template=TEMPLATE, hovermode="x unified", margin={"t": 40})
    return fig


def recall_classes(history: Rows, split: str = "val") -> list[int]:
    """The class indices with a `<split>_recall_<class>` column in any row, in order."""
    prefix = f"{split}_recall_"
    found = {int(k[len(prefix) :]) for row in history for k in row if k.startswith(prefix)}
    return sorted(found)


def per_class_recall_figure(
    history_rows: Rows, class_names: Sequence[str] | None, split: str = "val"
) -> go.Figure:
    """Each class's recall on `split` by epoch: one line per class (named by its class name,
    coloured as the class is everywhere), so a rare class left behind shows as a line near 0
    while accuracy looks fine."""
    names = list(class_names or [])
    fig = go.Figure()
    epochs = [row.get("epoch") for row in history_rows]
    for c in recall_classes(history_rows, split):
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=_values(history_rows, f"{split}_recall_{c}"),
                name=plain(names[c] if c < len(names) else f"class {c}"),
                mode="lines+markers" if len(history_rows) < 30 else "lines",
                line={"color": class_colour(c)},
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="epoch",
        yaxis={"title": f"{SPLIT_TITLES.get(split, split)} recall", "tickformat": ".0%"},
        legend={"title": {"text": "class"}},
        hovermode="x unified",
        margin={"t": 30},
    )
    fig.update_yaxes(range=[-0.02, 1.02])
    return fig


def learning_rate_curve(history: Rows) -> go.Figure:
    """The learning rate by epoch (epoch rows) or by step (step records); one trace."""
    xk = x_key(history)
    fig = go.Figure(
        go.Scatter(
            x=[row.get(xk) for row in history],
            y=_values(history, "lr"),
            name="learning rate",
            mode="lines",
            line={"color": BLUE},
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=xk,
        yaxis={"title": "learning rate", "exponentformat": "e"},
        margin={"t": 30},
    )
    rates = [v for v in _values(history, "lr") if v is not None]
    if rates and min(rates) == max(rates):
        # Plotly draws a flat line on a -1..1 axis, which reads as "learning rate 0": put
        # the constant rate in the middle of an axis from 0 and say it.
        rate = rates[0]
        fig.update_yaxes(range=[0.0, 2.0 * rate] if rate > 0 else [-1.0, 1.0])
        fig.update_layout(title={"text": f"constant learning rate {rate:g}", "font": {"size": 12}})
    return fig


def gradient_norms(
    records_or_history: Rows, layer_labels: Mapping[str, str] | None = None
) -> go.Figure:
    """One line per layer (in model order) of its gradient L2 norm, on a log y axis, by step
    for step records or by epoch for epoch rows. Dotted lines mark the vanishing and
    exploding thresholds of `playground.analysis.health`."""
    rows = records_or_history
    xk = x_key(rows)
    keys = sorted(
        {str(k) for row in rows for k in (row.get("grad_norms") or {})}, key=layer_sort_key
    )
    labels = {str(k): v for k, v in (layer_labels or {}).items()}
    fig = go.Figure()
    xs = [row.get(xk) for row in rows]
    for key in keys:
        raw = [_finite((row.get("grad_norms") or {}).get(key)) for row in rows]
        shown = [None if v is None else max(v, LOG_FLOOR) for v in raw]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=shown,
                customdata=raw,
                name=layer_name(key, labels),
                mode="lines",
                hovertemplate="%{customdata:.3g}",
            )
        )
    for level, text in ((VANISHING_NORM, "vanishing"), (EXPLODING_NORM, "exploding")):
        fig.add_hline(y=level, line={"dash": "dot", "color": "#999999", "width": 1})
        fig.add_annotation(
            x=1,
            xref="paper",
            xanchor="right",
            y=math.log10(level),  # annotations on a log axis take log10 positions
            yanchor="bottom",
            text=text,
            showarrow=False,
            font={"color": "#999999", "size": 10},
        )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=xk,
        yaxis={"title": "gradient norm (log)", "type": "log", "exponentformat": "power"},
        hovermode="x unified",
        margin={"t": 30},
    )
    return fig


def dead_relu_chart(history: Rows, layer_labels: Mapping[str, str] | None = None) -> go.Figure:
    """One line per ReLU layer: the fraction (0..1) of its units that are dead, by epoch.
    A dotted line marks the warning threshold."""
    keys = sorted(
        {str(k) for row in history for k in (row.get("dead_relu") or {})}, key=layer_sort_key
    )
    labels = {str(k): v for k, v in (layer_labels or {}).items()}
    epochs = [row.get("epoch") for row in history]
    fig = go.Figure()
    for key in keys:
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[_finite((row.get("dead_relu") or {}).get(key)) for row in history],
                name=layer_name(key, labels),
                mode="lines+markers" if len(history) < 30 else "lines",
                hovertemplate="%{y:.0%}",
            )
        )
    fig.add_hline(y=DEAD_RELU_WARNING, line={"dash": "dot", "color": "#999999", "width": 1})
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="epoch",
        yaxis={"title": "dead ReLU units", "tickformat": ".0%", "range": [0, 1.02]},
        hovermode="x unified",
        margin={"t": 30},
    )
    return fig


def thin_rows(rows: Rows, max_rows: int) -> Rows:
    """At most `max_rows` evenly spaced rows, always keeping the first and the last: a long
    run's curves keep their shape while the browser draws a bounded number of points."""
    n = len(rows)
    if n <= max_rows or max_rows < 2:
        return list(rows)
    picks = np.linspace(0, n - 1, max_rows).round().astype(int)
    return [rows[i] for i in dict.fromkeys(picks.tolist())]


def decision_boundary(
    grid: BoundaryGrid,
    dataset: Dataset,
    class_names: Sequence[str] | None = None,
    splits: Sequence[str] = ("train", "test"),
    max_points: int | None = None,
) -> go.Figure:
    """The model's output over the plane as a heatmap (trace 0, z shaped (res, res)), with the
    points of `splits` on top: one trace per (split, class), or per split for regression.

    `max_points` draws at most that many points in all (the same evenly spaced rows of each
    split every time, so a live chart does not flicker) and says so in the title: drawing
    hundreds of markers every second costs the browser more than the training it shows.

    Probabilities use TensorFlow Playground's orange (class 0) / blue (class 1) diverging
    scale; multiclass grids colour each predicted class; regression shares one colour axis
    between the grid and the points (original target units). Train points are circles with a
    white outline, test points diamonds with a black outline.
    """
    names = [plain(n) for n in (class_names or dataset.class_names or [])]
    fig = go.Figure(_heatmap(grid, names))
    total = sum(len(dataset.split(s)) for s in splits)
    keep = 1.0 if not max_points or total <= max_points else max_points / total
    for split in splits:
        part = dataset.split(split)
        if not len(part):
            continue
        rows = np.linspace(0, len(part) - 1, max(1, int(len(part) * keep))).round().astype(int)
        rows = np.unique(rows)
        x = part.x[rows].float().numpy()
        colour, width = POINT_OUTLINE.get(split, ("black", 1.0))
        marker = {"symbol": SPLIT_SYMBOLS.get(split, "circle"), "size": 7}
        marker["line"] = {"color": colour, "width": width}
        if dataset.task == "regression":
            y = part.y[rows].numpy() * dataset.target_std + dataset.target_mean
            fig.add_trace(_points(x, SPLIT_TITLES.get(split, split), {**marker, "color": y}, split))
            fig.data[-1].marker.coloraxis = "coloraxis"
            continue
        y = part.y[rows].numpy()
        for k, name in enumerate(names):
            mask = y == k
            if mask.any():
                label = f"{SPLIT_TITLES.get(split, split)}: {name}"
                fig.add_trace(_points(x[mask], label, {**marker, "color": class_colour(k)}, split))
    features = [plain(f) for f in ([*dataset.feature_names, "x1", "x2"])[:2]]
    fig.update_layout(
        template=TEMPLATE,
        xaxis={"title": features[0], "range": [grid.xs[0], grid.xs[-1]], "constrain": "domain"},
        yaxis={
            "title": features[1],
            "range": [grid.ys[0], grid.ys[-1]],
            "scaleanchor": "x",
            "constrain": "domain",
        },
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 30},
    )
    if keep < 1.0:
        shown = sum(len(t.x) for t in fig.data[1:])
        fig.update_layout(
            title={"text": f"{shown} of {total} points shown while training", "font": {"size": 12}},
            margin={"t": 40},
        )
    if grid.kind == "value":
        fig.update_layout(
            coloraxis={"colorscale": DIVERGING, "cmid": 0.0, "colorbar": {"title": "value"}}
        )
    return fig


def compare_runs(histories: Mapping[str, Rows], metric: str) -> go.Figure:
    """One line per run (named by its label, in the given order) of `metric` (e.g.
    "val_loss", "val_acc") by epoch."""
    fig = go.Figure()
    for k, (label, rows) in enumerate(histories.items()):
        fig.add_trace(
            go.Scatter(
                x=[row.get("epoch") for row in rows],
                y=_values(rows, metric),
                name=plain(label),
                mode="lines",
                line={"color": class_colour(k + 1)},  # start at blue, orange second
            )
        )
    title = plain(metric_title(metric))
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="epoch",
        yaxis_title=title,
        hovermode="x unified",
        margin={"t": 30},
    )
    if metric.endswith("_acc"):
        fig.update_yaxes(tickformat=".0%")
    return fig


def _heatmap(grid: BoundaryGrid, names: list[str]) -> go.Heatmap:
    common = {"x": grid.xs, "y": grid.ys, "z": grid.values, "name": "model", "opacity": 0.75}
    if grid.kind == "probability":
        positive = names[1] if len(names) > 1 else "class 1"
        return go.Heatmap(
            **common,
            colorscale=DIVERGING,
            zmin=0.0,
            zmax=1.0,
            colorbar={"title": f"P({positive})", "tickformat": ".0%"},
            hovertemplate="(%{x:.2f}, %{y:.2f}) P = %{z:.2f}<extra></extra>",
        )
    if grid.kind == "class":
        count = max(len(names), int(np.max(grid.values, initial=0)) + 1)
        labels = names + [f"class {k}" for k in range(len(names), count)]
        text = np.asarray(labels, dtype=object)[grid.values.astype(np.int64)]
        return go.Heatmap(
            **common,
            text=text,
            colorscale=_steps([class_colour(k) for k in range(count)]),
            zmin=-0.5,
            zmax=count - 0.5,
            colorbar={"title": "predicted", "tickvals": list(range(count)), "ticktext": labels},
            hovertemplate="(%{x:.2f}, %{y:.2f}) %{text}<extra></extra>",
        )
    return go.Heatmap(
        **common,
        coloraxis="coloraxis",
        hovertemplate="(%{x:.2f}, %{y:.2f}) %{z:.3g}<extra></extra>",
    )


def _points(x: np.ndarray, name: str, marker: dict[str, Any], split: str) -> go.Scatter:
    return go.Scatter(
        x=x[:, 0],
        y=x[:, 1],
        mode="markers",
        name=name,
        marker=marker,
        legendgroup=split,
        hovertemplate="(%{x:.2f}, %{y:.2f})",
    )


def _steps(colours: list[str]) -> list[list[Any]]:
    """A colourscale of flat bands, one per colour, for integer z from 0 to len-1."""
    n = len(colours)
    scale: list[list[Any]] = []
    for k, colour in enumerate(colours):
        scale += [[k / n, colour], [(k + 1) / n, colour]]
    return scale


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _values(rows: Rows, key: str) -> list[float | None]:
    return [_finite(row.get(key)) for row in rows]
