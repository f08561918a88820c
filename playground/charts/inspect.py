"""Charts of an inspected model: activations, neuron thumbnails, weight/gradient histograms
over training, confusion matrix, worst mistakes, residuals and the penultimate projection.

Inputs are the plain results of `playground.inspect`; every function returns a Figure.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.charts import (
    BLUE,
    DIVERGING,
    ORANGE,
    TEMPLATE,
    class_colour,
    plain,
)
from playground.charts.data import _as_tokens
from playground.data.dataset import Dataset
from playground.inspect.activations import Activations, LayerActivation
from playground.inspect.evaluation import Confusion, Misclassified, Predictions
from playground.inspect.histograms import HistogramHistory
from playground.inspect.neurons import NeuronMaps
from playground.inspect.projection import Projection

VIOLIN_POINTS = 4000  # values per layer sent to the browser; enough for a smooth density
MAX_CHANNELS = 32
MAX_NEURONS = 16
GALLERY_COLUMNS = 6
THUMB_PIXELS = 70


def _layer_title(index: str, label: str) -> str:
    return plain(f"{index} {label}")


def _grid_spacing(rows: int, row_px: int, gap_px: int, margin_px: int) -> tuple[float, int]:
    """(vertical_spacing, figure height) giving each subplot row `row_px` pixels and a fixed
    `gap_px` between rows (room for subplot titles), whatever the number of rows."""
    plot_px = rows * row_px + (rows - 1) * gap_px
    return (gap_px / plot_px if rows > 1 else 0.0), plot_px + margin_px


def _note(fig: go.Figure, text: str) -> go.Figure:
    """A figure with nothing to draw says why, instead of staying blank."""
    fig.add_annotation(
        text=plain(text),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14},
    )
    fig.update_layout(template=TEMPLATE, xaxis={"visible": False}, yaxis={"visible": False})
    return fig


# -- activations ----------------------------------------------------------------------------
def activation_distributions(acts: Activations, include_nested: bool = True) -> go.Figure:
    """One violin trace per layer (model order) of its output values; residual sub-layers
    are left out with `include_nested=False`."""
    fig = go.Figure()
    for layer in acts.layers:
        if layer.depth and not include_nested:
            continue
        values = layer.values
        if len(values) > VIOLIN_POINTS:
            values = values[:: math.ceil(len(values) / VIOLIN_POINTS)]
        fig.add_trace(
            go.Violin(
                y=values,
                name=_layer_title(layer.index, layer.label),
                box_visible=True,
                meanline_visible=True,
                points=False,
                line_color=BLUE if layer.dead_fraction is None else ORANGE,
                spanmode="hard",
                showlegend=False,
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="layer",
        yaxis_title="activation value",
        margin={"t": 30},
    )
    return fig


def dead_fraction_chart(acts: Activations) -> go.Figure:
    """One bar per ReLU layer: the share of its units that never fire on the batch."""
    layers = [a for a in acts.layers if a.dead_fraction is not None]
    fig = go.Figure()
    if not layers:
        return _note(fig, "No ReLU layers: dead units only apply after ReLU.")
    fractions = [a.dead_fraction or 0.0 for a in layers]
    fig.add_trace(
        go.Bar(
            x=[_layer_title(a.index, a.label) for a in layers],
            y=fractions,
            marker_color=[ORANGE if f >= 0.5 else BLUE for f in fractions],
            text=[f"{f:.0%}" for f in fractions],
            textposition="outside",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        yaxis={"title": "dead units", "tickformat": ".0%", "range": [0, 1.1]},
        xaxis_title="ReLU layer",
        margin={"t": 30},
    )
    return fig


def feature_map_grid(
    layer: LayerActivation, max_channels: int = MAX_CHANNELS, columns: int = 8
) -> go.Figure:
    """The chosen example's feature maps of a 4-D layer: one heatmap per channel (at most
    `max_channels`), sharing one colour scale, titled by channel number."""
    if layer.feature_maps is None:
        raise ValueError(
            f"Layer {layer.index} ({layer.label}) has output shape {layer.output_shape}: "
            "feature maps need a (channels, height, width) output such as a Conv2d's."
        )
    maps = layer.feature_maps[:max_channels]
    count = len(maps)
    cols = min(columns, count)
    rows = math.ceil(count / cols)
    spacing, height = _grid_spacing(rows, row_px=110, gap_px=30, margin_px=90)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"ch {c}" for c in range(count)],
        horizontal_spacing=0.02,
        vertical_spacing=spacing,
    )
    for c in range(count):
        r, k = divmod(c, cols)
        fig.add_trace(
            go.Heatmap(
                z=maps[c],
                coloraxis="coloraxis",
                hovertemplate="row %{y}, col %{x}: %{z:.3g}<extra></extra>",
            ),
            row=r + 1,
            col=k + 1,
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(
        template=TEMPLATE,
        coloraxis={"colorscale": "Viridis"},
        height=height,
        margin={"t": 80, "l": 10, "r": 10, "b": 10},
        title=_layer_title(layer.index, layer.label)
        + (
            f" (first {count} of {len(layer.feature_maps)} channels)"
            if count < len(layer.feature_maps)
            else ""
        ),
    )
    return fig


# -- neurons over the plane -----------------------------------------------------------------
def neuron_thumbnails(maps: NeuronMaps, max_per_layer: int = MAX_NEURONS) -> go.Figure:
    """TensorFlow Playground's view: one row of small heatmaps per hidden layer (at most
    `max_per_layer` neurons each), orange negative, blue positive, each layer on its own
    colour scale centred at 0; rows are labelled with the layer."""
    if not maps.layers:
        return _note(go.Figure(), "This model has no hidden layers to show.")
    cols = max(min(layer.units, max_per_layer) for layer in maps.layers)
    rows = len(maps.layers)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        row_titles=[_layer_title(layer.index, layer.label) for layer in maps.layers],
        horizontal_spacing=0.01,
        vertical_spacing=0.03 if rows > 1 else 0.0,
    )
    axes = {}
    for r, layer in enumerate(maps.layers):
        shown = layer.maps[:max_per_layer]
        bound = float(np.abs(shown).max()) if shown.size else 1.0
        axis = "coloraxis" if r == 0 else f"coloraxis{r + 1}"
        axes[axis] = {
            "colorscale": DIVERGING,
            "cmin": -(bound or 1.0),
            "cmax": bound or 1.0,
            "showscale": False,
        }
        for k, values in enumerate(shown):
            fig.add_trace(
                go.Heatmap(
                    x=maps.xs,
                    y=maps.ys,
                    z=values,
                    coloraxis=axis,
                    name=f"neuron {k}",
                    hovertemplate=f"neuron {k}<br>(%{{x:.2f}}, %{{y:.2f}}): %{{z:.3g}}<extra></extra>",
                ),
                row=r + 1,
                col=k + 1,
            )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(
        template=TEMPLATE,
        height=THUMB_PIXELS * rows + 60,
        margin={"t": 20, "l": 10, "r": 120, "b": 10},
        **axes,
    )
    fig.for_each_annotation(lambda a: a.update(textangle=0, xanchor="left", font={"size": 11}))
    return fig


# -- weights and gradients over training ----------------------------------------------------
def histogram_heatmap(history: HistogramHistory) -> go.Figure:
    """TensorBoard-style view of one layer's weight or gradient distribution over training:
    value bins across, snapshots (epoch or step) down, colour log10(1 + count). A band that
    shrinks to a line at 0 is a vanishing gradient; one that widens is exploding."""
    z = np.log10(1.0 + history.counts)
    fig = go.Figure(
        go.Heatmap(
            x=history.centers,
            y=history.positions,
            z=z,
            customdata=history.counts,
            colorscale="Viridis",
            colorbar={"title": "log10(1+n)"},
            hovertemplate=f"{history.axis} %{{y}}<br>value %{{x:.3g}}<br>count %{{customdata:.1f}}<extra></extra>",
        )
    )
    # Each snapshot's own range: shows the spread even when one bin dominates the colours.
    for values, name in ((history.lows, "min"), (history.highs, "max")):
        fig.add_trace(
            go.Scatter(
                x=values,
                y=history.positions,
                mode="lines",
                name=name,
                line={"color": "white", "width": 1, "dash": "dot"},
                showlegend=False,
                hovertemplate=f"{name} %{{x:.3g}}<extra></extra>",
            )
        )
    what = "weights" if history.kind == "weight" else "gradients"
    fig.update_layout(
        template=TEMPLATE,
        title=plain(f"Layer {history.layer}: {what}"),
        xaxis_title="value",
        yaxis={"title": history.axis, "autorange": "reversed"},
        margin={"t": 40},
    )
    return fig


# -- evaluation -----------------------------------------------------------------------------
def confusion_matrix_chart(conf: Confusion, normalised: bool = True) -> go.Figure:
    """Heatmap of true class (rows) by predicted class (columns): row shares (recall per
    class on the diagonal) or raw counts, each cell labelled."""
    names = [plain(n) for n in conf.class_names]
    z = conf.normalised if normalised else conf.counts
    text = [
        [
            f"{share:.0%}<br>({count})" if normalised else f"{count}"
            for share, count in zip(zr, cr, strict=True)
        ]
        for zr, cr in zip(conf.normalised, conf.counts, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            x=names,
            y=names,
            z=z,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1 if normalised else None,
            colorbar={"title": "share of row" if normalised else "examples"},
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis={"title": "predicted class", "type": "category", "side": "bottom"},
        yaxis={"title": "true class", "type": "category", "autorange": "reversed"},
        margin={"t": 30},
    )
    return fig


def class_scores_chart(report: pd.DataFrame) -> go.Figure:
    """Grouped bars of precision, recall and F1 per class (three traces) from `class_report`."""
    names = [plain(n) for n in report["class"]]
    fig = go.Figure()
    for metric, colour in (("precision", BLUE), ("recall", ORANGE), ("f1", "#2ca02c")):
        fig.add_trace(go.Bar(x=names, y=report[metric], name=metric, marker_color=colour))
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        yaxis={"range": [0, 1.05], "title": "score"},
        xaxis={"title": "class", "type": "category"},
        margin={"t": 30},
    )
    return fig


def _mistake_title(row: pd.Series) -> str:
    return plain(f"true {row['true']}, pred {row['predicted']} (p={row['p_predicted']:.2f})")


def misclassified_gallery(
    mis: Misclassified, dataset: Dataset, columns: int = GALLERY_COLUMNS
) -> go.Figure:
    """The worst mistakes: images as small heatmaps and sequences as small line plots, one
    subplot each titled "true X, pred Y (p=0.93)"; tabular and 2-D rows as a table of their
    (encoded) feature values."""
    table = mis.table
    if table.empty:
        return _note(go.Figure(), f"No misclassified examples in the {mis.split} split.")
    if mis.kind not in ("image", "sequence"):
        return table_figure(table)
    count = len(table)
    cols = min(columns, count)
    rows = math.ceil(count / cols)
    titles = [_mistake_title(r) for _, r in table.iterrows()]
    row_px = 130 if mis.kind == "image" else 150
    spacing, height = _grid_spacing(rows, row_px=row_px, gap_px=40, margin_px=50)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.03,
        vertical_spacing=spacing,
    )
    tokens, token_names = (None, None)
    if mis.kind == "sequence":
        tokens, token_names = _as_tokens(mis.inputs, dataset.feature_names)
    for i in range(count):
        r, c = divmod(i, cols)
        fig.add_trace(
            _gallery_trace(mis.inputs[i], mis.kind, tokens[i] if tokens is not None else None),
            row=r + 1,
            col=c + 1,
        )
    if mis.kind == "image":
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    elif tokens is not None and token_names:
        fig.update_yaxes(tickvals=list(range(len(token_names))), ticktext=token_names)
    fig.update_annotations(font={"size": 10})
    fig.update_layout(
        template=TEMPLATE,
        showlegend=False,
        height=height,
        margin={"t": 40, "l": 10, "r": 10, "b": 10},
    )
    return fig


def _gallery_trace(x: np.ndarray, kind: str, tokens: np.ndarray | None) -> go.BaseTraceType:
    if kind == "image":
        if x.ndim == 3 and x.shape[0] == 3:
            rgb = np.clip(x.transpose(1, 2, 0), 0, 1) * 255
            return go.Image(z=rgb.astype(np.uint8), hoverinfo="skip")
        image = x[0] if x.ndim == 3 else x
        return go.Heatmap(z=image, colorscale="Greys", showscale=False, hoverinfo="skip")
    series = tokens if tokens is not None else x.reshape(x.shape[0], -1)[:, 0]
    return go.Scatter(
        x=np.arange(len(series)),
        y=series,
        mode="lines",
        line={"color": BLUE, "shape": "hv" if tokens is not None else "linear"},
    )


def table_figure(table: pd.DataFrame, digits: int = 3) -> go.Figure:
    """A DataFrame as a plotly table (numbers rounded to `digits` significant digits)."""
    cells = []
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_float_dtype(values):
            cells.append([f"{v:.{digits}g}" for v in values])
        else:
            cells.append([plain(v) for v in values])
    fig = go.Figure(
        go.Table(
            header={"values": [plain(c) for c in table.columns], "align": "left"},
            cells={"values": cells, "align": "left"},
        )
    )
    fig.update_layout(template=TEMPLATE, margin={"t": 10, "l": 0, "r": 0, "b": 0})
    return fig


def residual_chart(pred: Predictions, worst: pd.DataFrame | None = None) -> go.Figure:
    """Regression: predicted against true value (one trace), the ideal y = x line, and the
    `worst` rows (from `worst_errors`) ringed in orange when given."""
    fig = go.Figure(
        go.Scatter(
            x=pred.y_true,
            y=pred.y_pred,
            mode="markers",
            name="examples",
            marker={"color": BLUE, "size": 6, "opacity": 0.6},
            hovertemplate="true %{x:.3g}<br>predicted %{y:.3g}<extra></extra>",
        )
    )
    lo = float(min(pred.y_true.min(), pred.y_pred.min()))
    hi = float(max(pred.y_true.max(), pred.y_pred.max()))
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="perfect",
            line={"color": "#888888", "dash": "dash"},
            hoverinfo="skip",
        )
    )
    if worst is not None and not worst.empty:
        fig.add_trace(
            go.Scatter(
                x=worst["true"],
                y=worst["predicted"],
                mode="markers",
                name="largest errors",
                marker={
                    "color": "rgba(0,0,0,0)",
                    "size": 12,
                    "line": {"color": ORANGE, "width": 2},
                },
                customdata=worst["row"],
                hovertemplate="row %{customdata}<br>true %{x:.3g}<br>predicted %{y:.3g}<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="true value",
        yaxis={"title": "predicted value", "scaleanchor": "x"},
        margin={"t": 30},
    )
    return fig


# -- penultimate projection -----------------------------------------------------------------
def projection_scatter(proj: Projection) -> go.Figure:
    """PCA of the penultimate representation: one trace per class (classification) or a
    single trace coloured by the target value (regression)."""
    ratio = proj.explained_variance_ratio
    fig = go.Figure()
    if proj.class_names is not None:
        for k, name in enumerate(proj.class_names):
            mask = proj.labels == k
            if not mask.any():
                continue
            fig.add_trace(
                go.Scatter(
                    x=proj.points[mask, 0],
                    y=proj.points[mask, 1],
                    mode="markers",
                    name=plain(name),
                    marker={"color": class_colour(k), "size": 6, "opacity": 0.75},
                    customdata=proj.rows[mask],
                    hovertemplate="row %{customdata}<extra></extra>",
                )
            )
    else:
        fig.add_trace(
            go.Scatter(
                x=proj.points[:, 0],
                y=proj.points[:, 1],
                mode="markers",
                name="examples",
                marker={
                    "color": proj.labels,
                    "colorscale": DIVERGING,
                    "size": 6,
                    "colorbar": {"title": "target"},
                },
                customdata=np.stack([proj.rows, proj.labels], axis=1),
                hovertemplate="row %{customdata[0]}<br>target %{customdata[1]:.3g}<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        title=plain(f"Input to layer {proj.layer_index} {proj.layer_label} ({proj.width} values)"),
        xaxis_title=f"PC1 ({ratio[0]:.0%} of variance)",
        yaxis_title=f"PC2 ({ratio[1]:.0%} of variance)",
        legend_title="class" if proj.class_names is not None else None,
        margin={"t": 40},
    )
    return fig
