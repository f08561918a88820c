"""Every hidden neuron's output over the plane of a 2-D dataset (TensorFlow Playground's
thumbnails), from one batched forward pass over a grid, with hooks on the hidden layers.

The grid is the decision-boundary grid (same extent and orientation as
`playground.analysis.boundary.decision_grid`): `maps[k, i, j]` is neuron k's output at
(xs[j], ys[i]).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from playground.analysis.boundary import _axes, _check_2d
from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.inspect.hooks import capture
from playground.model.build import BuiltModel, LayerRow
from playground.model.lookup import hidden_rows, row_by_index

# The outputs a neuron diagram shows: after the non-linearity.
ACTIVATION_KINDS = frozenset(
    {"relu", "leakyrelu", "elu", "gelu", "silu", "tanh", "sigmoid", "softplus", "identity"}
)
DEFAULT_RESOLUTION = 40


@dataclass
class NeuronLayer:
    """One hidden layer's neurons: `maps` (units, res, res)."""

    index: str
    label: str
    maps: np.ndarray

    @property
    def units(self) -> int:
        return int(self.maps.shape[0])


@dataclass
class NeuronMaps:
    """Thumbnails of every hidden neuron, one NeuronLayer per hidden layer in model order,
    over the grid `xs` (res,) by `ys` (res,)."""

    xs: np.ndarray
    ys: np.ndarray
    layers: list[NeuronLayer]

    @property
    def total_units(self) -> int:
        return sum(layer.units for layer in self.layers)


def neuron_layers(built: BuiltModel) -> list[LayerRow]:
    """The rows whose outputs are drawn as neurons: hidden activation layers with a vector
    output (residual sub-layers included); a model without activations shows its hidden
    Linear layers instead."""
    vectors = [r for r in hidden_rows(built) if len(r.output_shape) == 1]
    chosen = [r for r in vectors if r.kind in ACTIVATION_KINDS]
    return chosen or [r for r in vectors if r.kind == "linear"]


def neuron_maps(
    built: BuiltModel,
    dataset: Dataset,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    padding: float = 0.1,
    rows: Sequence[str] | None = None,
) -> NeuronMaps:
    """Each neuron of the hidden layers (`rows`, default `neuron_layers(built)`) evaluated
    on a resolution x resolution grid over the data, in one forward pass."""
    if dataset.kind != "toy2d":
        raise PlaygroundError(
            f"Neuron thumbnails need a 2-D dataset, but {dataset.name!r} is {dataset.kind} data.",
            "Use a 2-D dataset such as circle, xor, spiral or moons.",
        )
    try:
        _check_2d(dataset)
    except ValueError as exc:
        raise PlaygroundError(str(exc)) from None
    if resolution < 2:
        raise PlaygroundError(
            f"resolution={resolution} is too small.", "Use at least 2 points per axis."
        )
    chosen = [row_by_index(built, r) for r in rows] if rows is not None else neuron_layers(built)
    xs, ys = _axes(dataset, resolution, padding)
    grid_x, grid_y = np.meshgrid(xs, ys)  # [i, j] is the point (xs[j], ys[i])
    points = torch.from_numpy(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))
    captured, _ = capture(built, points.to(dataset.input_dtype), [r.index for r in chosen])
    layers = []
    for row in chosen:
        out = captured[row.index].reshape(len(points), -1)  # (res*res, units)
        maps = out.T.reshape(-1, resolution, resolution).numpy().astype(np.float64)
        layers.append(NeuronLayer(row.index, row.label, maps))
    return NeuronMaps(xs, ys, layers)
