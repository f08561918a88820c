"""Charts of ensembles and cross-validation: where the members disagree, the ensemble's score
against its members', and each fold's curves and final score with their mean ± std.

Inputs are plain results: a `DisagreementGrid` and `EnsembleScores` from
playground.analysis.ensemble, a `CrossValidation` from playground.runs.cross_validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from playground.analysis.ensemble import DisagreementGrid, EnsembleScores
from playground.charts import BLUE, ORANGE, TEMPLATE, class_colour, plain
from playground.charts.training import SCORE_TITLES
from playground.data.dataset import Dataset

if TYPE_CHECKING:  # the type only: charts do not import the runs machinery
    from playground.runs.cross_validation import CrossValidation

MEMBER_GREY = "#9aa5ad"
# White (members agree) to deep purple (they disagree most): apart from the class colours.
DISAGREEMENT_SCALE = [[0.0, "#ffffff"], [0.5, "#b39ddb"], [1.0, "#4a148c"]]


def _score_title(score_name: str) -> str:
    return SCORE_TITLES.get(score_name, plain(score_name))


def disagreement_map(
    grid: DisagreementGrid,
    dataset: Dataset,
    class_names: Sequence[str] | None = None,
    split: str = "train",
    max_points: int | None = 400,
) -> go.Figure:
    """Trace 0: the members' disagreement (z = grid.disagreement, (res, res)) as a heat map;
    trace 1: the ensemble's decision boundary as lines (P(class 1) = 0.5 for binary, the
    edges between predicted classes for multiclass, contours of the predicted value for
    regression); then the points of `split` by class (at most `max_points`, evenly spaced)."""
    ens = grid.ensemble
    fig = go.Figure(
        go.Heatmap(
            x=ens.xs,
            y=ens.ys,
            z=grid.disagreement,
            colorscale=DISAGREEMENT_SCALE,
            zmin=0.0,
            colorbar={"title": {"text": "disagreement", "side": "right"}},
            hovertemplate="x1 %{x:.2f}<br>x2 %{y:.2f}<br>std %{z:.3f}<extra></extra>",
            name="disagreement",
        )
    )
    if ens.kind == "probability":
        contours = {"start": 0.5, "end": 0.5, "size": 1.0, "coloring": "lines"}
    elif ens.kind == "class":
        top = max(int(ens.values.max()), 1)
        contours = {"start": 0.5, "end": top - 0.5, "size": 1.0, "coloring": "lines"}
    else:
        contours = {"coloring": "lines", "showlabels": True}
    fig.add_trace(
        go.Contour(
            x=ens.xs,
            y=ens.ys,
            z=ens.values.astype(float),
            contours=contours,
            line={"color": "black", "width": 2},
            colorscale=[[0, "black"], [1, "black"]],
            showscale=False,
            hoverinfo="skip",
            name="ensemble boundary",
            showlegend=True,
        )
    )
    part = dataset.split(split)
    if len(part):
        count = len(part) if not max_points else min(len(part), max_points)
        rows = np.unique(np.linspace(0, len(part) - 1, count).round().astype(int))
        x = part.x[rows].float().numpy()
        marker = {"size": 6, "line": {"color": "white", "width": 1}}
        if dataset.task == "regression":
            fig.add_trace(
                go.Scatter(
                    x=x[:, 0],
                    y=x[:, 1],
                    mode="markers",
                    name=split,
                    marker={**marker, "color": "#555555"},
                )
            )
        else:
            names = [plain(n) for n in (class_names or dataset.class_names or [])]
            y = part.y[rows].numpy()
            for k, name in enumerate(names):
                mask = y == k
                if mask.any():
                    fig.add_trace(
                        go.Scatter(
                            x=x[mask, 0],
                            y=x[mask, 1],
                            mode="markers",
                            name=f"{split}: {name}",
                            marker={**marker, "color": class_colour(k)},
                        )
                    )
    features = [plain(f) for f in [*dataset.feature_names, "x1", "x2"][:2]]
    fig.update_layout(
        template=TEMPLATE,
        title={
            "text": f"Where the {grid.members} members disagree ({grid.measure})",
            "font": {"size": 13},
        },
        xaxis={"title": features[0], "range": [ens.xs[0], ens.xs[-1]], "constrain": "domain"},
        yaxis={
            "title": features[1],
            "range": [ens.ys[0], ens.ys[-1]],
            "scaleanchor": "x",
            "constrain": "domain",
        },
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 40},
    )
    return fig


def ensemble_vs_members(scores: EnsembleScores) -> go.Figure:
    """One bar per member and one for the ensemble (trace 0, x = "member 1".. "ensemble",
    y = their scores), with the members' mean as a dashed line (trace 1)."""
    labels = [f"member {k + 1}" for k in range(len(scores.members))] + ["ensemble"]
    values = [*scores.members, scores.ensemble]
    colours = [MEMBER_GREY] * len(scores.members) + [ORANGE]
    title = _score_title(scores.score_name)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=values,
            marker={"color": colours},
            text=[f"{v:.3f}" for v in values],
            textposition="outside",
            name=title,
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[labels[0], labels[-1]],
            y=[scores.mean_member] * 2,
            mode="lines",
            line={"color": BLUE, "dash": "dash"},
            name=f"members' mean {scores.mean_member:.3f}",
        )
    )
    low = min(values)
    high = max(values)
    pad = max((high - low) * 0.5, 0.02)
    split = {"val": "validation"}.get(scores.split, scores.split)
    fig.update_layout(
        template=TEMPLATE,
        title={
            "text": f"{split.capitalize()} {title}: ensemble {scores.ensemble:.3f}, "
            f"members {scores.mean_member:.3f} on average",
            "font": {"size": 13},
        },
        yaxis={"title": title, "range": [low - pad, high + pad]},
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 40},
    )
    return fig


def fold_curves(cv: CrossValidation, metric: str | None = None) -> go.Figure:
    """One line per fold of `metric` (default "val_<score>") by epoch, traces in fold order,
    named "fold 1".."fold K"; then the folds' mean per epoch (over the folds that reached it)
    as a thick dashed line."""
    metric = metric or f"val_{cv.score_name}"
    fig = go.Figure()
    by_epoch: dict[int, list[float]] = {}
    for result in cv.results:
        epochs = [row["epoch"] for row in result.history if metric in row]
        values = [float(row[metric]) for row in result.history if metric in row]
        for epoch, value in zip(epochs, values, strict=True):
            by_epoch.setdefault(int(epoch), []).append(value)
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=values,
                mode="lines",
                name=f"fold {result.fold + 1}",
                line={"color": class_colour(result.fold + 2), "width": 1.5},
                opacity=0.8,
            )
        )
    if by_epoch:
        epochs = sorted(by_epoch)
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[float(np.mean(by_epoch[e])) for e in epochs],
                mode="lines",
                name="mean of folds",
                line={"color": "black", "width": 3, "dash": "dash"},
            )
        )
    split, _, name = metric.partition("_")
    title = f"{ {'val': 'validation'}.get(split, split) } {_score_title(name)}"
    fig.update_layout(
        template=TEMPLATE,
        title={"text": f"{title.capitalize()} of each fold", "font": {"size": 13}},
        xaxis={"title": "epoch"},
        yaxis={"title": title},
        hovermode="x unified",
        margin={"t": 40},
    )
    if name == "acc":
        fig.update_yaxes(tickformat=".0%")
    return fig


def fold_scores(cv: CrossValidation, split: str = "val") -> go.Figure:
    """The final score of each fold as bars (trace 0, x = "fold 1".., y = scores), the mean
    as a line (trace 1) inside a band of ± one std (a shape)."""
    scored = [(r.fold, r.score(cv.score_name, split)) for r in cv.results]
    scored = [(f, s) for f, s in scored if s is not None]
    labels = [f"fold {f + 1}" for f, _ in scored]
    values = [s for _, s in scored]
    mean, std = cv.mean(split), cv.std(split)
    title = _score_title(cv.score_name)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=values,
            marker={"color": MEMBER_GREY},
            text=[f"{v:.3f}" for v in values],
            textposition="outside",
            name=title,
            showlegend=False,
        )
    )
    if values:
        fig.add_trace(
            go.Scatter(
                x=[labels[0], labels[-1]],
                y=[mean, mean],
                mode="lines",
                line={"color": ORANGE, "width": 3},
                name=f"mean {mean:.3f} ± {std:.3f}",
            )
        )
        fig.add_hrect(y0=mean - std, y1=mean + std, fillcolor=ORANGE, opacity=0.15, line_width=0)
        low, high = min(values), max(values)
        pad = max((high - low) * 0.5, 0.02)
        fig.update_yaxes(range=[low - pad, high + pad])
    split_title = {"val": "validation"}.get(split, split)
    fig.update_layout(
        template=TEMPLATE,
        title={
            "text": f"Final {split_title} {title} by fold: {mean:.3f} ± {std:.3f}",
            "font": {"size": 13},
        },
        yaxis={"title": title},
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 40},
    )
    return fig
