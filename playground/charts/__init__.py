"""Pure chart functions: results in, `plotly.graph_objects.Figure` out.

    training.py      loss/score curves, learning rate, gradient norms, dead ReLU units,
                     decision boundary, run comparison
    data.py          a first look at a dataset: 2-D scatter, image mosaic, sequences, balance
    architecture.py  the layer stack as Graphviz DOT (and a plotly fallback)

This module holds what they share: colours and `plain`, which makes user text (feature, class
and run names) display verbatim. Plotly renders a small HTML subset (<b>, <br>, <a>) and decodes
entities in every label, so user text is entity-escaped; it is never put into a hovertemplate.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

# TensorFlow Playground's palette: orange for negative / class 0, blue for positive / class 1.
ORANGE = "#f59322"
BLUE = "#0877bd"
NEUTRAL = "#e8eaeb"
DIVERGING = [[0.0, ORANGE], [0.5, NEUTRAL], [1.0, BLUE]]
# Classes 0 and 1 match the diverging scale; more classes continue with distinct hues.
CLASS_COLOURS = [
    ORANGE,
    BLUE,
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
SPLIT_SYMBOLS = {"train": "circle", "val": "square", "test": "diamond"}
SPLIT_TITLES = {"train": "train", "val": "validation", "test": "test"}
TEMPLATE = "plotly_white"


def plain(text: Any) -> str:
    """User text -> a string plotly shows verbatim (no tags, no entities interpreted)."""
    return html.escape(str(text), quote=False)


def class_colour(index: int) -> str:
    return CLASS_COLOURS[index % len(CLASS_COLOURS)]


def x_key(rows: Sequence[dict[str, Any]]) -> str:
    """'epoch' for trainer epoch rows, 'step' for step records (which have a bare 'loss')."""
    if rows and "train_loss" not in rows[0] and "step" in rows[0]:
        return "step"
    return "epoch"


def layer_sort_key(index: str) -> tuple[int, ...]:
    """Spec indices in model order: "2" < "2.1" < "10" (not string order)."""
    return tuple(int(p) if p.isdigit() else 0 for p in str(index).split("."))


def layer_name(index: str, labels: dict[str, str] | None) -> str:
    """'layer 3' or '3 Linear(32)' (escaped) for legends."""
    label = (labels or {}).get(str(index))
    return plain(f"{index} {label}" if label else f"layer {index}")


def top_note(fig: Any, shown: int, total: int, noun: str = "features") -> None:
    """Say in the corner of a truncated ranking how much of it is shown."""
    if total > shown:
        fig.add_annotation(
            text=f"top {shown} of {total} {noun}",
            xref="paper",
            yref="paper",
            x=1.0,
            y=1.0,
            yanchor="bottom",
            showarrow=False,
        )
