"""'Mirror the encoder': a decoder stack that undoes an encoder's dense layers in reverse, the
usual first try for an autoencoder (encoder 64 -> 16 -> latent gives decoder 16 -> 64 -> out)."""

from __future__ import annotations

from typing import Any

from playground.model.output_layer import output_layer_index

# Layers that only reshape or regularise the input side; a decoder of flat codes has no use
# for them (a decoder's output is flat and reshaped by the mode).
_SKIPPED = {"flatten", "conv1d", "conv2d", "maxpool1d", "maxpool2d", "avgpool1d", "avgpool2d"}


def mirror_layers(encoder: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The decoder for `encoder`: its hidden linear widths in reverse, each followed by the
    activation that followed it in the encoder, then an output layer sized by the mode."""
    kinds = [layer["kind"] for layer in encoder]
    out = output_layer_index(kinds)
    hidden = encoder[:out] if out is not None else encoder
    blocks: list[list[dict[str, Any]]] = []
    for layer in hidden:
        if layer["kind"] in _SKIPPED:
            continue
        if layer["kind"] == "linear":
            blocks.append([dict(layer)])
        elif blocks:
            blocks[-1].append(dict(layer))  # an activation, norm or dropout after a linear
    mirrored = [layer for block in reversed(blocks) for layer in block]
    return [*mirrored, {"kind": "linear", "out_features": None}]
