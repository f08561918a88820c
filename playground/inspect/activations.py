"""What every layer outputs for a batch of rows: distributions, dead units, feature maps.

One forward pass with a hook on every row of the shape table (residual sub-layers included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.inspect.hooks import capture, select_rows
from playground.model.build import BuiltModel, LayerRow

# Layers after which "dead" (never positive) is meaningful: units output exactly 0 there.
RELU_LIKE = frozenset({"relu"})
DEFAULT_ROWS = 256
DEFAULT_MAX_VALUES = 20_000


@dataclass
class LayerActivation:
    """One row's output for the batch.

    `values` is a sample of at most `max_values` of its output values (flattened, float32) for
    histograms; `mean`/`std`/`min`/`max` are over all of them. `dead_fraction` is the share of
    units (output elements per example) that are <= 0 for every example of the batch, for
    ReLU layers only (None otherwise). `feature_maps` (C, H, W) are the chosen example's
    channels for 4-D outputs (convolutions, pooling), else None.
    """

    index: str
    kind: str
    label: str
    depth: int
    output_shape: tuple[int, ...]
    values: np.ndarray
    mean: float
    std: float
    min: float
    max: float
    dead_fraction: float | None
    feature_maps: np.ndarray | None


@dataclass
class Activations:
    """Activations of every layer for the rows `rows` (positions in `split`); `example` is the
    position within `rows` whose feature maps are kept, and `example_input` is that row's
    input as the model read it (`input_shape`), so its maps can be drawn beside it."""

    split: str
    rows: np.ndarray
    example: int
    layers: list[LayerActivation]
    example_input: np.ndarray | None = None

    def layer(self, index: str) -> LayerActivation:
        for layer in self.layers:
            if layer.index == index:
                return layer
        known = ", ".join(a.index for a in self.layers)
        raise PlaygroundError(f"No layer {index!r} was inspected.", f"Choose one of: {known}.")


def feature_map_rows(built: BuiltModel) -> list[LayerRow]:
    """The rows with feature maps, a (channels, height, width) output (convolutions, pooling):
    known from the shape table, so a page can offer a sample picker only where it applies."""
    return [r for r in built.rows if len(r.output_shape) == 3]


def layer_activations(
    built: BuiltModel,
    dataset: Dataset,
    indices: Sequence[int] | None = None,
    *,
    split: str = "test",
    max_rows: int = DEFAULT_ROWS,
    example: int = 0,
    max_values: int = DEFAULT_MAX_VALUES,
    seed: int = 0,
    inputs: torch.Tensor | None = None,
) -> Activations:
    """Every layer's output for `indices` of `split` (default: its first `max_rows` rows;
    pass one index to look at a single example). `example` picks which of those rows (by
    position in the batch) gives the feature maps. Values are sampled with `seed`.
    `inputs` replaces the rows for a module not fed the data (a decoder's codes, a
    generator's noise: see module_inputs)."""
    if inputs is None:
        rows, x, _ = select_rows(dataset, split, indices, max_rows)
    else:
        rows, x = torch.arange(len(inputs)), inputs
    if not 0 <= example < len(rows):
        raise PlaygroundError(
            f"Example {example} is not in the batch of {len(rows)} rows.",
            f"Choose 0..{len(rows) - 1}.",
        )
    captured, _ = capture(built, x, [r.index for r in built.rows])
    rng = np.random.default_rng(seed)
    layers = []
    for row in built.rows:
        out = captured[row.index].float()
        flat = out.reshape(-1)
        values = flat.numpy()
        if len(values) > max_values:
            values = values[np.sort(rng.choice(len(values), max_values, replace=False))]
        dead = None
        if row.kind in RELU_LIKE:
            alive = (out > 0).reshape(len(out), -1).any(dim=0)
            dead = float(1.0 - alive.float().mean())
        maps = out[example].numpy().copy() if out.dim() == 4 else None
        stats = torch.stack([flat.mean(), flat.std(), flat.min(), flat.max()]).tolist()
        if len(flat) < 2:
            stats[1] = 0.0  # std of one value is undefined; report no spread
        layers.append(
            LayerActivation(
                index=row.index,
                kind=row.kind,
                label=row.label,
                depth=row.depth,
                output_shape=tuple(out.shape[1:]),
                values=values.astype(np.float32, copy=False),
                mean=stats[0],
                std=stats[1],
                min=stats[2],
                max=stats[3],
                dead_fraction=dead,
                feature_maps=maps,
            )
        )
    return Activations(split, rows.numpy(), example, layers, x[example].numpy().copy())
