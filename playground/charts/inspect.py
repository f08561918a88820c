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
        height=320,  # a few bars: the default height only stretches them
        margin={"t": 30},
    )
    return fig


def feature_map_grid(
    layer: LayerActivation,
    max_channels: int = MAX_CHANNELS,
    columns: int = 8,
    image: np.ndarray | None = None,
    sample: str | None = None,
) -> go.Figure:
    """The chosen example's feature maps of a 4-D layer: one heatmap per channel (at most
    `max_channels`), titled by channel number and sharing one colour scale with a bar titled
    "activation". With `image` (the example's input, (C, H, W) or (H, W)) the input comes
    first as its own panel, left of the maps, so each map can be read against it; `sample`
    (e.g. "test row 5, class 3") names it in the title. Every pixel is square."""
    if layer.feature_maps is None:
        raise ValueError(
            f"Layer {layer.index} ({layer.label}) has output shape {layer.output_shape}: "
            "feature maps need a (channels, height, width) output such as a Conv2d's."
        )
    maps = layer.feature_maps[:max_channels]
    count = len(maps)
    cols = min(columns, count)
    rows = math.ceil(count / cols)
    pitch = CELL_TITLE_PIXELS + MAP_PIXELS + CELL_GAP_PIXELS  # one row of titled maps
    height = rows * pitch - CELL_GAP_PIXELS
    left = 0
    fig = go.Figure()
    boxes = []
    if image is not None:
        # Up to two rows tall: big enough to see, never taller than the maps beside it.
        span = min(rows, 2)
        side = span * pitch - CELL_GAP_PIXELS - CELL_TITLE_PIXELS
        boxes.append((_input_trace(image), (0, CELL_TITLE_PIXELS, side), "input"))
        left = side + INPUT_GAP_PIXELS
    for c in range(count):
        r, k = divmod(c, cols)
        trace = go.Heatmap(
            z=maps[c],
            coloraxis="coloraxis",
            name=f"ch {c}",
            hovertemplate=f"ch {c}<br>row %{{y}}, col %{{x}}: %{{z:.3g}}<extra></extra>",
        )
        box = (left + k * (MAP_PIXELS + CELL_GAP_PIXELS), r * pitch + CELL_TITLE_PIXELS, MAP_PIXELS)
        boxes.append((trace, box, f"ch {c}"))
    width = left + cols * (MAP_PIXELS + CELL_GAP_PIXELS) - CELL_GAP_PIXELS
    for n, (trace, box, title) in enumerate(boxes, start=1):
        _place(fig, n, trace, box, (width, height), image=True, title=title)
    title = _layer_title(layer.index, layer.label)
    if sample:
        title += plain(f" on {sample}")
    if count < len(layer.feature_maps):
        title += f" (first {count} of {len(layer.feature_maps)} channels)"
    margin = {"t": 50, "l": 10, "r": SCALE_PIXELS, "b": 10}
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "font": {"size": 14}},
        coloraxis={
            "colorscale": "Viridis",
            "colorbar": _colour_bar(
                "activation", top=CELL_TITLE_PIXELS, length=height - CELL_TITLE_PIXELS, area=height
            ),
        },
        width=width + margin["l"] + margin["r"],
        height=height + margin["t"] + margin["b"],
        margin=margin,
        showlegend=False,
    )
    return fig


def _input_trace(image: np.ndarray) -> go.BaseTraceType:
    """The example's input image in grey (RGB as colour), hover showing its pixel values."""
    if image.ndim == 3 and image.shape[0] == 3:
        rgb = image.transpose(1, 2, 0)
        low, high = float(rgb.min()), float(rgb.max())
        if low < 0 or high > 1:  # standardised pixels: stretch to the visible range
            rgb = (rgb - low) / ((high - low) or 1.0)
        return go.Image(z=(np.clip(rgb, 0, 1) * 255).astype(np.uint8), name="input")
    plane = image[0] if image.ndim == 3 else image
    return go.Heatmap(
        z=plane,
        colorscale="Greys",
        showscale=False,
        name="input",
        hovertemplate="input<br>row %{y}, col %{x}: %{z:.3g}<extra></extra>",
    )


# -- square cells placed in pixels ---------------------------------------------------------
MAP_PIXELS = 72  # a feature map's side: 8 across and the input fit a 940 px wide page
THUMB_PIXELS = 80  # a neuron thumbnail's side
CELL_GAP_PIXELS = 6
CELL_TITLE_PIXELS = 18  # room above a cell for "ch 3"
INPUT_GAP_PIXELS = 30  # between the input image and its maps
LAYER_TITLE_PIXELS = 24  # room above a layer's row of neurons for its name
LAYER_GAP_PIXELS = 14
SCALE_PIXELS = 100  # right margin: colour bars with their title and ticks
NEURON_COLUMNS = 8
# A cell's thin frame, so a white image edge or a pale thumbnail still shows its size. A shape on
# the axes' domain follows the square (constrained) area; axis lines would be drawn padded.
FRAME_COLOUR = "#c8c8c8"


def _place(
    fig: go.Figure,
    n: int,
    trace: go.BaseTraceType,
    box: tuple[float, float, float],
    area: tuple[float, float],
    *,
    image: bool = False,
    title: str | None = None,
) -> None:
    """Add `trace` on its own axes (number n, from 1) filling the square pixel box
    (left, top, side) of a plot area (width, height) in pixels. Each y axis scales with its
    own x axis and shrinks its domain rather than padding its range, so pixels stay square
    even when the browser gives the figure another size; `image` puts row 0 at the top."""
    left, top, side = box
    width, height = area
    suffix = "" if n == 1 else str(n)
    trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
    fig.add_trace(trace)
    fig.layout[f"xaxis{suffix}"] = {
        "domain": [left / width, min(1.0, (left + side) / width)],
        "anchor": f"y{suffix}",
        "visible": False,
        "constrain": "domain",
    }
    fig.layout[f"yaxis{suffix}"] = {
        "domain": [max(0.0, 1 - (top + side) / height), 1 - top / height],
        "anchor": f"x{suffix}",
        "visible": False,
        "scaleanchor": f"x{suffix}",
        "constrain": "domain",
        "autorange": "reversed" if image else True,
    }
    _frame(fig, suffix)
    if title:
        fig.add_annotation(
            text=title,
            x=(left + side / 2) / width,
            y=1 - top / height,
            xref="paper",
            yref="paper",
            xanchor="center",
            yanchor="bottom",
            showarrow=False,
            font={"size": 11, "color": "#555555"},
        )


def _colour_bar(title: str, top: float, length: float, area: float, **ticks: object) -> dict:
    """A colour bar right of the plot, beside the rows from `top` for `length` pixels of a
    plot area `area` pixels high, with its title along it."""
    return {
        "title": {"text": title, "side": "right"},
        "x": 1.0,
        "xanchor": "left",
        "xpad": 12,
        "y": 1 - (top + length / 2) / area,
        "yanchor": "middle",
        "len": length / area,
        "lenmode": "fraction",
        "thickness": 12,
        **ticks,
    }


def _square_cells(fig: go.Figure) -> None:
    """Square pixels in every subplot of a `make_subplots` grid: each y axis scales with its
    own x axis (anchoring every y to the first "x" squashes all the other cells)."""
    fig.for_each_yaxis(lambda axis: axis.update(scaleanchor=axis.anchor or "x", constrain="domain"))
    fig.update_xaxes(constrain="domain")
    for trace in fig.data:
        _frame(fig, (trace.xaxis or "x").removeprefix("x"))


def _frame(fig: go.Figure, suffix: str) -> None:
    """A thin rectangle around the axes x{suffix}/y{suffix} ("" for the first)."""
    fig.add_shape(
        type="rect",
        xref=f"x{suffix} domain",
        yref=f"y{suffix} domain",
        x0=0,
        x1=1,
        y0=0,
        y1=1,
        line={"color": FRAME_COLOUR, "width": 1},
        layer="above",
    )


# -- neurons over the plane -----------------------------------------------------------------
def neuron_thumbnails(
    maps: NeuronMaps, max_per_layer: int = MAX_NEURONS, columns: int = NEURON_COLUMNS
) -> go.Figure:
    """TensorFlow Playground's view: each hidden layer's neurons (at most `max_per_layer`) as
    square thumbnails over the input plane, `columns` to a row, under the layer's name. Orange
    is negative, blue positive; the neurons of a layer share one colour scale, symmetric about
    0 and shown by a colour bar titled "activation" beside the layer (ticks -max, 0, max)."""
    if not maps.layers:
        return _note(go.Figure(), "This model has no hidden layers to show.")
    cols = min(columns, max(min(layer.units, max_per_layer) for layer in maps.layers))
    blocks = [(layer, math.ceil(min(layer.units, max_per_layer) / cols)) for layer in maps.layers]
    pitch = THUMB_PIXELS + CELL_GAP_PIXELS
    height = sum(LAYER_TITLE_PIXELS + r * pitch for _, r in blocks) + LAYER_GAP_PIXELS * (
        len(blocks) - 1
    )
    height -= CELL_GAP_PIXELS * len(blocks)
    width = cols * pitch - CELL_GAP_PIXELS
    fig = go.Figure()
    axes = {}
    top, n = 0, 0
    for b, (layer, rows) in enumerate(blocks):
        shown = layer.maps[:max_per_layer]
        heading = f"{layer.index} {layer.label}: {layer.units} neurons"
        if len(shown) < layer.units:
            heading += f" (first {len(shown)})"
        fig.add_annotation(
            text=plain(heading),
            x=0,
            y=1 - top / height,
            xref="paper",
            yref="paper",
            xanchor="left",
            yanchor="top",
            showarrow=False,
            font={"size": 12},
        )
        top += LAYER_TITLE_PIXELS
        bound = float(np.abs(shown).max()) if shown.size else 0.0
        bound = bound or 1.0  # a layer that is 0 everywhere still gets a scale
        block = rows * pitch - CELL_GAP_PIXELS
        axis = "coloraxis" if b == 0 else f"coloraxis{b + 1}"
        axes[axis] = {
            "colorscale": DIVERGING,
            "cmin": -bound,
            "cmax": bound,
            "colorbar": _colour_bar(
                "activation",
                top=top,
                length=block,
                area=height,
                tickvals=[-bound, 0.0, bound],
                ticktext=[f"{-bound:.2g}", "0", f"{bound:.2g}"],
            ),
        }
        for k, values in enumerate(shown):
            r, c = divmod(k, cols)
            n += 1
            trace = go.Heatmap(
                x=maps.xs,
                y=maps.ys,
                z=values,
                coloraxis=axis,
                name=f"neuron {k}",
                hovertemplate=f"neuron {k}<br>(%{{x:.2f}}, %{{y:.2f}}): %{{z:.3g}}<extra></extra>",
            )
            _place(fig, n, trace, (c * pitch, top + r * pitch, THUMB_PIXELS), (width, height))
        top += block + LAYER_GAP_PIXELS
    margin = {"t": 10, "l": 10, "r": SCALE_PIXELS, "b": 10}
    fig.update_layout(
        template=TEMPLATE,
        width=width + margin["l"] + margin["r"],
        height=height + margin["t"] + margin["b"],
        margin=margin,
        showlegend=False,
        **axes,
    )
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
        fig.update_yaxes(visible=False, autorange="reversed")
        _square_cells(fig)
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


TABLE_HEADER_PIXELS, TABLE_ROW_PIXELS = 30, 22  # Plotly's own header and cell heights


def table_figure(table: pd.DataFrame, digits: int = 3) -> go.Figure:
    """A DataFrame as a plotly table (numbers rounded to `digits` significant digits, a
    missing value as "(missing)"), as tall as its rows."""
    cells = []
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_float_dtype(values):
            cells.append(["(missing)" if pd.isna(v) else f"{v:.{digits}g}" for v in values])
        else:
            cells.append(["(missing)" if _absent(v) else plain(v) for v in values])
    fig = go.Figure(
        go.Table(
            header={"values": [plain(c) for c in table.columns], "align": "left"},
            cells={"values": cells, "align": "left"},
        )
    )
    # Plotly's default height leaves a screen of white below a short table.
    height = TABLE_HEADER_PIXELS + TABLE_ROW_PIXELS * len(table) + 20
    fig.update_layout(template=TEMPLATE, margin={"t": 10, "l": 0, "r": 0, "b": 0}, height=height)
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


def _absent(value: object) -> bool:
    """A missing cell: None, NaN or pandas' NA (lists and strings are present)."""
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA
