"""Charts of the fairness work past post-processing: a reduction's accuracy-versus-disparity
front, reliability diagrams and calibration error by group, the error tree and heat map, the
errors of regression and multiclass runs by group, and adversarial debiasing's two losses.

Inputs are the plain results of playground.fairness (reductions, calibration, error_analysis,
group_errors) or a run's epoch rows; group, feature and cohort names are user text and go
through `plain`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from playground.charts import BLUE, ORANGE, SPLIT_TITLES, TEMPLATE, class_colour, plain
from playground.charts.fairness import DISPARITY_TITLES

if TYPE_CHECKING:
    from playground.fairness.calibration import GroupCalibration
    from playground.fairness.error_analysis import ErrorTree
    from playground.fairness.group_errors import GroupErrors

RED_SCALE = [[0.0, "#f7fbff"], [0.5, "#fdae6b"], [1.0, "#d62728"]]


def front_chart(table: pd.DataFrame, disparity: str, split: str = "val") -> go.Figure:
    """A GridSearch's points: accuracy (y) against the constraint's disparity (x) on `split`,
    the front (points no other beats on both) joined by a line; hover names each point."""
    acc, gap = table[f"{split}_accuracy"].astype(float), table[f"{split}_disparity"].astype(float)
    front = table["on_front"].astype(bool).to_numpy()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=gap[~front],
            y=acc[~front],
            mode="markers+text",
            name="other points",
            text=[str(p) for p in table["point"][~front]],
            textposition="top center",
            marker={"color": "#9e9e9e", "size": 9},
            hovertemplate="point %{text}<br>disparity %{x:.3f}, accuracy %{y:.3f}<extra></extra>",
        )
    )
    order = np.argsort(gap[front].to_numpy())
    fig.add_trace(
        go.Scatter(
            x=gap[front].to_numpy()[order],
            y=acc[front].to_numpy()[order],
            mode="lines+markers+text",
            name="front",
            text=[str(p) for p in table["point"][front].to_numpy()[order]],
            textposition="top center",
            marker={"color": BLUE, "size": 12},
            line={"color": BLUE},
            hovertemplate="point %{text}<br>disparity %{x:.3f}, accuracy %{y:.3f}<extra></extra>",
        )
    )
    where = SPLIT_TITLES.get(split, split)
    fig.update_layout(
        template=TEMPLATE,
        title=f"GridSearch: accuracy vs {DISPARITY_TITLES.get(disparity, disparity).lower()} ({where} split)",
        xaxis_title=f"{DISPARITY_TITLES.get(disparity, disparity)} (lower is more equal)",
        yaxis_title="accuracy",
        margin={"t": 60},
    )
    return fig


def reliability_chart(calibration: GroupCalibration) -> go.Figure:
    """One line per group: each bin's mean score (x) against its share of positives (y), the
    diagonal as perfect calibration; marker size grows with the bin's rows."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfectly calibrated",
            line={"color": "#9e9e9e", "dash": "dot"},
            hoverinfo="skip",
        )
    )
    bins = calibration.bins
    for i, group in enumerate(calibration.ece.index):
        rows = bins[bins["group"] == group]
        sizes = 6 + 14 * np.sqrt(rows["count"] / max(bins["count"].max(), 1))
        fig.add_trace(
            go.Scatter(
                x=rows["mean_score"],
                y=rows["positive_rate"],
                mode="lines+markers",
                name=plain(str(group)),
                marker={"color": class_colour(i), "size": sizes},
                line={"color": class_colour(i)},
                customdata=rows["count"],
                hovertemplate="mean score %{x:.2f}<br>positive %{y:.2f}<br>%{customdata} rows<extra>%{fullData.name}</extra>",
            )
        )
    where = (
        f" ({SPLIT_TITLES.get(calibration.split, calibration.split)} split)"
        if calibration.split
        else ""
    )
    fig.update_layout(
        template=TEMPLATE,
        title=f"Reliability by {plain(calibration.attribute)}{where}",
        xaxis={"title": "mean score in the bin", "range": [0, 1]},
        yaxis={"title": "share positive in the bin", "range": [0, 1]},
        margin={"t": 60},
    )
    return fig


def ece_chart(calibration: GroupCalibration) -> go.Figure:
    """Each group's expected calibration error with its bootstrap interval."""
    table = calibration.ece
    error = None
    if "ece_ci_low" in table.columns:
        error = {
            "type": "data",
            "symmetric": False,
            "array": (table["ece_ci_high"] - table["ece"]).clip(lower=0),
            "arrayminus": (table["ece"] - table["ece_ci_low"]).clip(lower=0),
        }
    fig = go.Figure(
        go.Bar(
            x=[plain(str(g)) for g in table.index],
            y=table["ece"],
            error_y=error,
            marker={"color": [class_colour(i) for i in range(len(table))]},
            customdata=table["count"],
            hovertemplate="%{x}: ECE %{y:.3f}<br>%{customdata} rows<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title=f"Expected calibration error by {plain(calibration.attribute)} (lower is better)",
        yaxis_title="ECE",
        margin={"t": 60},
    )
    return fig


def error_tree_chart(tree: ErrorTree) -> go.Figure:
    """The error tree as an icicle: each box a node (its condition), width = its rows,
    colour = its error rate; hover gives the whole rule, rows and errors."""
    nodes = tree.nodes
    ids = [str(n) for n in nodes["node"]]
    parents = ["" if p < 0 else str(p) for p in nodes["parent"]]
    labels = [plain(c) for c in nodes["condition"]]
    fig = go.Figure(
        go.Icicle(
            ids=ids,
            parents=parents,
            labels=labels,
            values=nodes["size"],
            branchvalues="total",
            marker={
                "colors": nodes["error_rate"],
                "colorscale": RED_SCALE,
                "cmin": 0,
                "cmax": max(float(nodes["error_rate"].max()), 1e-9),
                "showscale": True,
                "colorbar": {"title": "error rate"},
            },
            customdata=np.stack(
                [[plain(r) for r in nodes["rule"]], nodes["errors"], nodes["error_rate"]], axis=1
            ),
            hovertemplate="%{customdata[0]}<br>%{value} rows, %{customdata[1]} errors (%{customdata[2]:.1%})<extra></extra>",
            tiling={"orientation": "v"},
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title="Where the model errs: error tree",
        margin={"t": 50, "l": 10, "r": 10},
    )
    return fig


def error_heatmap_chart(rates: pd.DataFrame, counts: pd.DataFrame) -> go.Figure:
    """Error rate over two columns' values; each cell's text gives its rate and rows."""
    text = [
        [f"{r:.0%}<br>{int(c)} rows" if np.isfinite(r) else "" for r, c in zip(rr, cc, strict=True)]
        for rr, cc in zip(rates.to_numpy(), counts.to_numpy(), strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=rates.to_numpy(dtype=float),
            x=[plain(str(c)) for c in rates.columns],
            y=[plain(str(i)) for i in rates.index],
            text=text,
            texttemplate="%{text}",
            colorscale=RED_SCALE,
            zmin=0,
            colorbar={"title": "error rate"},
            hovertemplate="%{y}, %{x}: %{z:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title=f"Error rate by {plain(str(rates.index.name))} and {plain(str(rates.columns.name))}",
        xaxis_title=plain(str(rates.columns.name)),
        yaxis_title=plain(str(rates.index.name)),
        margin={"t": 60},
    )
    return fig


def group_errors_chart(errors: GroupErrors) -> go.Figure:
    """Regression: MAE (with interval) and RMSE by group. Multiclass: each group's share of
    rows predicted as each class (per-class selection rates)."""
    table = errors.table
    groups = [plain(str(g)) for g in table.index]
    fig = go.Figure()
    if errors.task == "regression":
        error = None
        if "mae_ci_low" in table.columns:
            error = {
                "type": "data",
                "symmetric": False,
                "array": (table["mae_ci_high"] - table["mae"]).clip(lower=0),
                "arrayminus": (table["mae"] - table["mae_ci_low"]).clip(lower=0),
            }
        fig.add_trace(
            go.Bar(x=groups, y=table["mae"], name="MAE", marker={"color": BLUE}, error_y=error)
        )
        fig.add_trace(go.Bar(x=groups, y=table["rmse"], name="RMSE", marker={"color": ORANGE}))
        title, axis = f"Errors by {plain(errors.attribute)}", "error (target units)"
    else:
        for c, name in enumerate(errors.class_names):
            fig.add_trace(
                go.Bar(
                    x=groups,
                    y=table[f"selection_{name}"],
                    name=plain(name),
                    marker={"color": class_colour(c)},
                )
            )
        title, axis = (
            f"Share predicted as each class, by {plain(errors.attribute)}",
            "share of the group",
        )
    where = f" ({SPLIT_TITLES.get(errors.split, errors.split)} split)" if errors.split else ""
    fig.update_layout(
        template=TEMPLATE, barmode="group", title=title + where, yaxis_title=axis, margin={"t": 60}
    )
    return fig


def adversary_curves(
    history: Sequence[Mapping[str, Any]], chance: float | None = None
) -> go.Figure:
    """Adversarial debiasing's two losses by epoch: the predictor's and the adversary's
    (train and validation); `chance` marks an adversary that cannot tell the groups apart."""
    epochs = [row.get("epoch") for row in history]
    fig = go.Figure()
    for key, name, colour, dash in (
        ("train_loss", "predictor (train)", BLUE, "solid"),
        ("val_loss", "predictor (validation)", BLUE, "dash"),
        ("train_adversary_loss", "adversary (train)", ORANGE, "solid"),
        ("val_adversary_loss", "adversary (validation)", ORANGE, "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[row.get(key) for row in history],
                name=name,
                mode="lines+markers" if len(history) < 30 else "lines",
                line={"color": colour, "dash": dash},
            )
        )
    if chance is not None:
        fig.add_hline(
            y=chance,
            line={"color": "#9e9e9e", "dash": "dot"},
            annotation_text="adversary at chance",
        )
    fig.update_layout(
        template=TEMPLATE,
        title="Predictor and adversary losses",
        xaxis_title="epoch",
        yaxis_title="loss",
        hovermode="x unified",
        margin={"t": 50},
    )
    return fig
