"""Charts of the explanation checks: sanity (similarity as layers are randomised),
faithfulness (deletion / insertion curves), what-if attribution change, influence scores.

Pure functions: results in, Plotly figures out. Tests read the plotted numbers back.
"""

from __future__ import annotations

from html import escape as escape_html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from playground.charts.explain_style import OTHER_GREY, sign_colours
from playground.explain.faithfulness import RANDOM, FaithfulnessResult
from playground.explain.sanity import FLAG_AT, SanityResult

PALETTE = ["#0877bd", "#f59322", "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#17becf"]


def sanity_curves(result: SanityResult, measure: str = "rank") -> go.Figure:
    """One line per method: similarity to the trained model's maps (y) as layers are
    randomised from the output down (x, cumulative). `measure`: "rank" or "ssim"."""
    values = result.rank if measure == "rank" else result.ssim
    if values is None:
        raise ValueError("SSIM is only measured for images.")
    fig = go.Figure()
    for i, m in enumerate(result.methods):
        fig.add_trace(
            go.Scatter(
                x=result.steps,
                y=values[m],
                mode="lines+markers",
                name=escape_html(result.titles[m]),
                line={
                    "color": PALETTE[i % len(PALETTE)],
                    "dash": "dot" if m in result.flags else "solid",
                },
            )
        )
    fig.add_hline(
        y=FLAG_AT,
        line={"color": OTHER_GREY, "dash": "dash"},
        annotation_text="above: barely changed",
    )
    label = "rank correlation of |attribution|" if measure == "rank" else "SSIM of |maps|"
    fig.update_layout(
        title="Cascading randomisation: similarity to the trained model's maps",
        xaxis_title="layers randomised, from the output down (cumulative)",
        yaxis_title=label,
        yaxis_range=[min(-0.2, float(min(v.min() for v in values.values())) - 0.05), 1.05],
        legend_title="method",
    )
    return fig


def faithfulness_chart(result: FaithfulnessResult, kind: str = "deletion") -> go.Figure:
    """Mean explained output (y) against the fraction of units changed (x), one line per
    method and a grey random order; the legend gives each area under the curve."""
    curves = result.deletion if kind == "deletion" else result.insertion
    areas = result.deletion_auc if kind == "deletion" else result.insertion_auc
    fig = go.Figure()
    for i, (name, title) in enumerate(result.titles.items()):
        grey = name == RANDOM
        fig.add_trace(
            go.Scatter(
                x=result.fractions,
                y=curves[name],
                mode="lines",
                name=escape_html(f"{title} (AUC {areas[name]:.3g})"),
                line={
                    "color": OTHER_GREY if grey else PALETTE[i % len(PALETTE)],
                    "dash": "dash" if grey else "solid",
                },
            )
        )
    better = "lower" if kind == "deletion" else "higher"
    verb = "removed" if kind == "deletion" else "put back"
    fig.update_layout(
        title=f"{kind.capitalize()}: {result.unit}s {verb} in each method's order ({better} area is better)",
        xaxis_title=f"fraction of {result.unit}s {verb} (baseline: {result.baseline})",
        yaxis_title=result.output,
        legend_title="order",
    )
    return fig


def attribution_change_bars(change: pd.DataFrame, top: int = 12) -> go.Figure:
    """Grouped bars per feature: attribution before and after a what-if edit."""
    shown = change.head(top).iloc[::-1]
    names = [escape_html(str(f)) for f in shown["feature"]]
    fig = go.Figure(
        [
            go.Bar(
                y=names, x=shown["before"], orientation="h", name="before", marker_color=OTHER_GREY
            ),
            go.Bar(
                y=names,
                x=shown["after"],
                orientation="h",
                name="after your changes",
                marker_color=sign_colours(shown["after"].to_numpy()),
            ),
        ]
    )
    fig.update_layout(
        barmode="group",
        title="Attribution before and after the edit",
        xaxis_title="attribution (output units)",
        height=max(300, 40 * len(shown) + 120),
    )
    return fig


def self_influence_chart(
    scores: np.ndarray, marked: np.ndarray | None = None, top: int = 50
) -> go.Figure:
    """The `top` highest self-influence scores as bars (training rows on x), highest first;
    `marked` rows (e.g. known mislabelled ones) in orange."""
    order = np.argsort(-scores, kind="stable")[:top]
    colours = ["#f59322" if marked is not None and bool(marked[i]) else "#0877bd" for i in order]
    fig = go.Figure(go.Bar(x=[f"row {i}" for i in order], y=scores[order], marker_color=colours))
    fig.update_layout(
        title="Training rows with the highest self-influence (check their labels first)",
        xaxis_title="training row",
        yaxis_title="TracIn self-influence",
    )
    return fig


def influence_images(images: np.ndarray, titles: list[str], columns: int = 5) -> go.Figure:
    """A grid of small grey images (K, C, H, W) with titles, for proponents / opponents."""
    from plotly.subplots import make_subplots

    k = len(images)
    rows = max(1, (k + columns - 1) // columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[escape_html(t) for t in titles])
    for i, image in enumerate(images):
        plane = image.mean(axis=0) if image.ndim == 3 else image
        fig.add_trace(
            go.Heatmap(z=plane[::-1], colorscale="gray_r", showscale=False),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=170 * rows + 60)
    return fig
