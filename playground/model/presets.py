"""Starting points for common data: one registry entry per preset."""

from __future__ import annotations

from dataclasses import dataclass

from playground.model.shorthand import parse_layers
from playground.model.spec import ModelSpec


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    layers: str  # shorthand, see shorthand.py
    suits: str  # which data it fits

    def spec(self) -> ModelSpec:
        spec = parse_layers(self.layers)
        spec.name = self.name
        return spec


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "mlp", "Small MLP", "linear:32 relu linear:32 relu linear", "2D toys and tabular data"
        ),
        Preset(
            "residual_mlp",
            "Residual MLP",
            "linear:32 relu residual[linear:32 relu linear:32] relu residual[linear:32 relu linear:32] relu linear",
            "2D toys and tabular data",
        ),
        Preset(
            "cnn",
            "CNN for digits",
            "conv2d:16:3:padding=same relu maxpool2d conv2d:32:3:padding=same relu maxpool2d flatten linear:64 relu linear",
            "images (digits)",
        ),
        Preset(
            "lstm", "LSTM for sequences", "lstm:32 linear", "sequences (one-hot or real-valued)"
        ),
        Preset("lstm_tokens", "Embedding + LSTM", "embedding:16 lstm:32 linear", "token sequences"),
        Preset(
            "transformer",
            "Transformer encoder",
            "linear:32 transformer:4:mean linear",
            "sequences",
        ),
    ]
}
