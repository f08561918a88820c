"""What a 2-D model predicts everywhere on the plane: the grid behind a decision-boundary plot.

The whole grid goes through the model in one batched forward pass, in eval mode (dropout off,
BatchNorm using its running statistics), on the model's own device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from playground.data.dataset import SPLIT_NAMES, Dataset

GridKind = Literal["probability", "class", "value"]


@dataclass
class BoundaryGrid:
    """Model output on a regular grid over the data's plane.

    `xs` (res,) and `ys` (res,) are the grid coordinates of the first and second feature;
    `values` (res, res) holds the output at (xs[j], ys[i]) in `values[i, j]` (rows follow y, as
    a plotly heatmap expects). `kind` says what a value is: "probability" of class 1 (binary),
    predicted "class" index (multiclass), or predicted "value" in the target's original units
    (regression).
    """

    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray
    kind: GridKind

    @property
    def resolution(self) -> int:
        return len(self.xs)


def decision_grid(
    model: nn.Module, dataset: Dataset, resolution: int = 60, padding: float = 0.1
) -> BoundaryGrid:
    """Evaluate `model` on a resolution x resolution grid covering every split's points.

    `padding` widens the data's range by that fraction of its span on each side. The model's
    train/eval mode (per submodule) is restored afterwards.
    """
    _check_2d(dataset)
    if resolution < 2:
        raise ValueError(f"resolution={resolution} is too small; use at least 2 points per axis.")
    xs, ys = _axes(dataset, resolution, padding)
    grid_x, grid_y = np.meshgrid(xs, ys)  # (res, res) each; [i, j] is the point (xs[j], ys[i])
    points = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)
    out = _forward(model, torch.from_numpy(points).to(dataset.input_dtype))
    values, kind = _interpret(out, dataset)
    return BoundaryGrid(xs, ys, values.reshape(resolution, resolution), kind)


def _check_2d(dataset: Dataset) -> None:
    if tuple(dataset.input_shape) != (2,) or not dataset.input_dtype.is_floating_point:
        raise ValueError(
            f"A decision boundary needs exactly 2 real-valued input features, but dataset "
            f"{dataset.name!r} ({dataset.kind}) has input shape {tuple(dataset.input_shape)}. "
            "Use a 2-D dataset such as circle, xor, spiral or moons."
        )


def _axes(dataset: Dataset, resolution: int, padding: float) -> tuple[np.ndarray, np.ndarray]:
    x = torch.cat([dataset.split(s).x for s in SPLIT_NAMES if len(dataset.split(s))]).float()
    lo, hi = x.min(dim=0).values.numpy(), x.max(dim=0).values.numpy()
    span = np.where(hi > lo, hi - lo, 1.0)  # a constant feature still gets a visible range
    lo, hi = lo - padding * span, hi + padding * span
    return tuple(np.linspace(lo[d], hi[d], resolution) for d in range(2))  # type: ignore[return-value]


def _forward(model: nn.Module, points: torch.Tensor) -> torch.Tensor:
    """One batched pass in eval mode; returns the outputs on the CPU, (M, outputs)."""
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            out = model(points.to(device))
    finally:
        for module, training in modes.items():
            module.training = training
    return out.float().reshape(len(points), -1).cpu()  # reporting point: the one host copy


def _interpret(out: torch.Tensor, dataset: Dataset) -> tuple[np.ndarray, GridKind]:
    if dataset.task == "regression":
        value = out[:, 0] * dataset.target_std + dataset.target_mean
        return value.numpy().astype(np.float64), "value"
    if dataset.task == "binary":
        prob = torch.sigmoid(out[:, 0]) if out.shape[1] == 1 else torch.softmax(out, dim=1)[:, 1]
        return prob.numpy().astype(np.float64), "probability"
    return out.argmax(dim=1).numpy().astype(np.int64), "class"
