"""Helpers the lesson files share: requests in shorthand, gradient norms by depth, boundaries."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from playground.analysis.boundary import decision_grid
from playground.charts import layer_sort_key, plain
from playground.charts.training import decision_boundary
from playground.lessons.base import LessonResults, VariantResult
from playground.model.shorthand import parse_layers
from playground.runs import RunRequest


def supervised(dataset: str, params: dict[str, Any], layers: str, **config: Any) -> RunRequest:
    """A supervised request from the layer shorthand ("linear:8 tanh linear")."""
    return RunRequest.supervised(dataset, params, parse_layers(layers), config)


def mean_grad_norms(result: VariantResult) -> list[float]:
    """Each weighted layer's gradient norm averaged over the run's epoch rows, in model order
    (a residual block's layers in their place: "2.0" comes between "2" and "3")."""
    sums: dict[str, list[float]] = {}
    for row in result.history:
        for key, value in (row.get("grad_norms") or {}).items():
            if value is not None and np.isfinite(value):
                sums.setdefault(key, []).append(float(value))
    return [float(np.mean(sums[k])) for k in sorted(sums, key=layer_sort_key)]


def boundary_figure(results: LessonResults, variant: str, title: str) -> go.Figure:
    """The variant's decision boundary over the plane, with the test points."""
    run = results.loaded(variant)
    grid = decision_grid(run.model, run.dataset, resolution=60)
    fig = decision_boundary(grid, run.dataset, splits=("test",))
    fig.update_layout(title=plain(title), margin={"t": 50})
    return fig


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")
