"""Charts of a hyperparameter sweep: the optimisation history, every trial's validation curve
(pruned ones cut short), a parallel-coordinates plot of parameters against the score, and the
parameters' importances.

Inputs are plain results: `TrialRow`s from playground.sweeps.study, the `SearchSpace`, and a
dict of importances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from playground.charts import BLUE, ORANGE, TEMPLATE, plain
from playground.charts.training import SCORE_TITLES

if TYPE_CHECKING:  # types only: charts do not import the sweep machinery
    from playground.sweeps.space import SearchSpace
    from playground.sweeps.study import TrialRow

PRUNED_GREY = "#9aa5ad"
FAILED_RED = "#d62728"
STATE_COLOURS = {"complete": BLUE, "pruned": PRUNED_GREY, "running": ORANGE}


def metric_title(metric: str) -> str:
    """ "val_acc" -> "validation accuracy"."""
    split, _, name = metric.partition("_")
    words = {"val": "validation", "train": "training", "test": "test"}.get(split)
    if words and name:
        return f"{words} {SCORE_TITLES.get(name, name.replace('_', ' '))}"
    return plain(metric.replace("_", " "))


def _scored(rows: Sequence[TrialRow]) -> list[TrialRow]:
    return [r for r in rows if r.value is not None and math.isfinite(r.value)]


def optimisation_history(rows: Sequence[TrialRow], metric: str, direction: str) -> go.Figure:
    """Trace 0: each complete trial's value by trial number; trace 1: pruned trials (their
    last value, grey); trace 2: the best value so far (a step line over complete trials)."""
    fig = go.Figure()
    for state, name in (("complete", "complete"), ("pruned", "pruned")):
        points = [r for r in _scored(rows) if r.state == state]
        fig.add_trace(
            go.Scatter(
                x=[r.number for r in points],
                y=[r.value for r in points],
                mode="markers",
                name=name,
                marker={"color": STATE_COLOURS[state], "size": 9},
                customdata=[r.run_id or "" for r in points],
                hovertemplate="trial %{x}<br>%{y:.4f}<br>run %{customdata}<extra></extra>",
            )
        )
    best_x: list[int] = []
    best_y: list[float] = []
    best: float | None = None
    for r in sorted(_scored(rows), key=lambda r: r.number):
        if r.state != "complete":
            continue
        value = float(r.value)  # type: ignore[arg-type]
        if best is None or (value > best if direction == "maximize" else value < best):
            best = value
        best_x.append(r.number)
        best_y.append(best)
    fig.add_trace(
        go.Scatter(
            x=best_x,
            y=best_y,
            mode="lines",
            line={"shape": "hv", "color": "#222", "width": 2},
            name="best so far",
        )
    )
    return fig.update_layout(
        template=TEMPLATE,
        title="Optimisation history",
        xaxis_title="trial",
        yaxis_title=metric_title(metric),
        legend={"orientation": "h", "y": -0.2},
    )


def trial_curves(rows: Sequence[TrialRow], metric: str, max_trials: int = 60) -> go.Figure:
    """One line per trial (its objective by epoch, as reported while it trained): complete
    trials blue, pruned ones grey and dashed (they end where the pruner stopped them),
    running ones orange. The newest `max_trials` trials."""
    fig = go.Figure()
    for r in list(rows)[-max_trials:]:
        if not r.history:
            continue
        epochs = sorted(r.history)
        colour = STATE_COLOURS.get(r.state, FAILED_RED)
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[r.history[e] for e in epochs],
                mode="lines",
                name=f"trial {r.number}",
                line={"color": colour, "dash": "dash" if r.state == "pruned" else "solid"},
                opacity=0.8,
                hovertemplate=f"trial {r.number} ({r.state})<br>epoch %{{x}}<br>%{{y:.4f}}"
                "<extra></extra>",
            )
        )
    return fig.update_layout(
        template=TEMPLATE,
        title="Each trial while it trained",
        xaxis_title="epoch",
        yaxis_title=metric_title(metric),
        showlegend=False,
    )


def _dimension(name: str, values: list[Any], log: bool) -> dict[str, Any]:
    """One axis of the parallel coordinates: numbers as they are (log10 for a log range),
    anything else (optimiser names, activations) as evenly spaced ticks."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric:
        if log and all(v > 0 for v in values):
            return {"label": plain(f"log10 {name}"), "values": [math.log10(v) for v in values]}
        return {"label": plain(name), "values": values}
    labels = sorted({str(v) for v in values})
    index = {label: i for i, label in enumerate(labels)}
    return {
        "label": plain(name),
        "values": [index[str(v)] for v in values],
        "tickvals": list(range(len(labels))),
        "ticktext": [plain(label) for label in labels],
    }


def parallel_coordinates(
    rows: Sequence[TrialRow], space: SearchSpace, metric: str, direction: str
) -> go.Figure:
    """One line per complete trial through each varying parameter's axis to the objective's
    axis (the last); the colour is the objective (dark = better)."""
    done = [r for r in _scored(rows) if r.state == "complete"]
    params = [p for p in space.varying if all(p.name in r.params for r in done)]
    dims = [_dimension(p.name, [r.params[p.name] for r in done], p.log) for p in params]
    values = [float(r.value) for r in done]  # type: ignore[arg-type]
    dims.append({"label": plain(metric_title(metric)), "values": values})
    scale = "Blues" if direction == "maximize" else "Blues_r"
    fig = go.Figure(
        go.Parcoords(
            dimensions=dims,
            line={"color": values, "colorscale": scale, "showscale": True},
        )
    )
    return fig.update_layout(template=TEMPLATE, title="Parameters against the score")


def importance_bars(importances: dict[str, float]) -> go.Figure:
    """Horizontal bars, most important on top; x is each parameter's share (they sum to 1)."""
    ordered = sorted(importances.items(), key=lambda kv: kv[1])
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in ordered],
            y=[plain(k) for k, _ in ordered],
            orientation="h",
            marker_color=BLUE,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    return fig.update_layout(
        template=TEMPLATE,
        title="Parameter importance (fANOVA)",
        xaxis={"title": "share of the score's variance", "tickformat": ".0%"},
    )
