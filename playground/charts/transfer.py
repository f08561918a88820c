"""Transfer learning's chart: a fine-tuned run against the same run from scratch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from playground.charts import BLUE, ORANGE, TEMPLATE

SCORES = ("acc", "r2")


def score_key(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The validation score the rows carry (val_acc or val_r2), else None."""
    return next((f"val_{s}" for s in SCORES if rows and f"val_{s}" in rows[-1]), None)


def transfer_comparison(histories: Mapping[str, Sequence[Mapping[str, Any]]]) -> go.Figure:
    """Validation score per epoch of each named run (label -> epoch rows), one line each."""
    figure = go.Figure()
    key = next((k for rows in histories.values() if (k := score_key(rows))), "val_loss")
    for i, (label, rows) in enumerate(histories.items()):
        figure.add_trace(
            go.Scatter(
                x=[r["epoch"] for r in rows],
                y=[r.get(key) for r in rows],
                mode="lines",
                name=label,
                line={"color": (BLUE, ORANGE)[i % 2], "width": 2},
            )
        )
    name = {"val_acc": "validation accuracy", "val_r2": "validation R²"}.get(key, "validation loss")
    figure.update_layout(
        title="Fine-tuned from a stored run, and from scratch",
        template=TEMPLATE,
        xaxis_title="epoch",
        yaxis_title=name,
        legend={"orientation": "h", "y": -0.25},
        height=360,
        margin={"t": 50, "b": 40},
    )
    return figure
