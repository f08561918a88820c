"""Attention maps: where each head of each Transformer layer looks, per query position.

PyTorch's encoder layer asks its attention for no weights (and in eval mode without autograd
runs a fused kernel that never calls it), so the weights cannot be read off the forward pass.
A forward pre-hook on each nn.TransformerEncoderLayer takes what the layer receives and runs
its own `self_attn` on it once more, with need_weights=True: the same weights the layer used,
computed beside the forward pass, which itself is left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.inspect.hooks import FORWARD_BATCH, eval_mode, model_device, select_rows
from playground.model.build import BuiltModel, LayerRow
from playground.model.lookup import module_for_row

ATTENTION_KINDS = ("transformer",)
DEFAULT_ROWS = 64


@dataclass
class AttentionLayer:
    """One Transformer layer's attention for the batch: `weights` (B, heads, T, T) float32,
    query positions along axis 2 and key positions along axis 3 (each query's row sums to 1).
    `output` is how the layer reduces its sequence ("last", "mean" or "sequence")."""

    index: str
    label: str
    output: str
    weights: np.ndarray

    @property
    def heads(self) -> int:
        return int(self.weights.shape[1])

    @property
    def steps(self) -> int:
        return int(self.weights.shape[-1])


@dataclass
class AttentionMaps:
    """Every Transformer layer's attention for `rows` (positions in `split`). `tokens` (B, T)
    are the token ids read (one-hot input argmaxed), None for real-valued sequences;
    `token_names` name the ids where the dataset names them (one-hot features)."""

    split: str
    rows: np.ndarray
    layers: list[AttentionLayer]
    tokens: np.ndarray | None
    token_names: list[str] | None

    def layer(self, index: str) -> AttentionLayer:
        for layer in self.layers:
            if layer.index == index:
                return layer
        known = ", ".join(a.index for a in self.layers)
        raise PlaygroundError(f"No attention layer {index!r}.", f"Choose one of: {known}.")

    def position_labels(self, row: int) -> list[str]:
        """'3' per position, or '3: A' / '3: id 7' where the input is tokens (unique, so a
        categorical axis keeps every position)."""
        steps = self.layers[0].steps if self.layers else 0
        if self.tokens is None or self.tokens.shape[1] != steps:
            return [str(t) for t in range(steps)]
        ids = self.tokens[row]
        if self.token_names is not None:
            return [f"{t}: {self.token_names[int(i)]}" for t, i in enumerate(ids)]
        return [f"{t}: id {int(i)}" for t, i in enumerate(ids)]


def attention_rows(built: BuiltModel) -> list[LayerRow]:
    """Rows of the shape table that hold self-attention (Transformer layers), in model order:
    known from the spec, so a page can offer the Attention view only where it applies."""
    return [r for r in built.rows if r.kind in ATTENTION_KINDS]


def _encoder_layer(built: BuiltModel, row: LayerRow) -> nn.TransformerEncoderLayer:
    module = module_for_row(built, row.index)
    for sub in module.modules():
        if isinstance(sub, nn.TransformerEncoderLayer):
            return sub
    raise PlaygroundError(
        f"Layer {row.index} ({row.label}) holds no attention module.", "Pick another layer."
    )


def _weights_of(
    layer: nn.TransformerEncoderLayer, src: torch.Tensor, kwargs: dict[str, Any]
) -> torch.Tensor:
    """(B, heads, T, T) attention weights of `layer` on its input `src`, as its forward
    computes them (the pre-norm variant normalises before attending)."""
    h = layer.norm1(src) if layer.norm_first else src
    _, weights = layer.self_attn(
        h,
        h,
        h,
        attn_mask=kwargs.get("src_mask"),
        key_padding_mask=kwargs.get("src_key_padding_mask"),
        need_weights=True,
        average_attn_weights=False,
    )
    return weights


def capture_attention(
    built: BuiltModel, x: torch.Tensor, rows: Sequence[str] | None = None
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Run `x` (N, *input_shape) through the model once, in batches of FORWARD_BATCH, in eval
    mode. Returns ({row index: weights (N, heads, T, T)}, model output (N, ...)), on the CPU as
    float32; `rows` defaults to every attention row."""
    model = built.module
    device = model_device(model)
    chosen = [r for r in attention_rows(built) if rows is None or r.index in rows]
    parts: dict[str, list[torch.Tensor]] = {r.index: [] for r in chosen}
    handles = []
    for row in chosen:
        layer = _encoder_layer(built, row)

        def hook(_m: nn.Module, args: tuple, kwargs: dict, layer=layer, index=row.index) -> None:
            src = args[0] if args else kwargs["src"]
            parts[index].append(_weights_of(layer, src, kwargs).detach())

        handles.append(layer.register_forward_pre_hook(hook, with_kwargs=True))
    outputs = []
    try:
        with eval_mode(model):
            for start in range(0, len(x), FORWARD_BATCH):
                outputs.append(model(x[start : start + FORWARD_BATCH].to(device)))
    finally:
        for handle in handles:
            handle.remove()
    # Reporting point: one copy to the host per layer.
    weights = {index: torch.cat(chunks).cpu().float() for index, chunks in parts.items()}
    return weights, torch.cat(outputs).cpu()


def token_ids(
    x: np.ndarray, feature_names: Sequence[str]
) -> tuple[np.ndarray | None, list[str] | None]:
    """(token id per step (B, T), names of the ids) of a batch of sequences: integer input
    is ids already (unnamed); one-hot input (0/1 summing to 1 per step) is argmaxed and named
    by its features ("token=A" -> "A"). Real-valued sequences have neither."""
    if not np.issubdtype(x.dtype, np.floating):
        return x.reshape(len(x), -1), None
    one_hot = x.ndim == 3 and x.shape[2] > 1
    if one_hot and np.isin(x, (0.0, 1.0)).all() and np.allclose(x.sum(axis=2), 1.0):
        names = [str(f).split("=", 1)[-1] for f in feature_names]
        return x.argmax(axis=2), names if len(names) == x.shape[2] else None
    return None, None


def attention_maps(
    built: BuiltModel,
    dataset: Dataset,
    indices: Sequence[int] | None = None,
    *,
    split: str = "test",
    max_rows: int = DEFAULT_ROWS,
) -> AttentionMaps:
    """Every Transformer layer's attention per head for `indices` of `split` (default: its
    first `max_rows` rows), from one batched forward pass."""
    if not attention_rows(built):
        raise PlaygroundError(
            "This model has no Transformer layer, so there is no attention to show.",
            "Add a Transformer layer on the Build page (a sequence dataset is needed).",
        )
    positions, x, _ = select_rows(dataset, split, indices, max_rows)
    weights, _ = capture_attention(built, x)
    specs = {r.index: r for r in attention_rows(built)}
    layers = [
        AttentionLayer(
            index,
            specs[index].label,
            str(getattr(module_for_row(built, index), "output", "sequence")),
            w.numpy(),
        )
        for index, w in weights.items()
    ]
    tokens, names = token_ids(x.numpy(), dataset.feature_names)
    return AttentionMaps(split, positions.numpy(), layers, tokens, names)


def received(weights: np.ndarray) -> np.ndarray:
    """(T,) attention each key position receives, averaged over rows, heads and query
    positions (sums to 1: an even spread gives 1/T each)."""
    return weights.mean(axis=(0, 1, 2))


def share_on(weights: np.ndarray, positions: np.ndarray, query: str = "last") -> np.ndarray:
    """(B,) share of attention on each row's key position `positions[b]`, averaged over heads:
    from the last query position (what a layer with output='last' passes on) or averaged
    over every query position ("mean")."""
    picked = weights[np.arange(len(weights)), :, :, positions]  # (B, heads, T queries)
    per_query = picked.mean(axis=1)
    return per_query[:, -1] if query == "last" else per_query.mean(axis=1)
