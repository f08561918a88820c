"""Sequence layers: Embedding, recurrent (RNN/LSTM/GRU) and a Transformer encoder layer.

Sequences are batch-first: (B, steps, features). Recurrent and attention layers either keep
the whole sequence or reduce it to one vector ("last" step, or "mean" for attention).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Literal

import torch
from pydantic import Field
from torch import nn

from playground.model.spec import (
    InitScheme,
    LayerBase,
    LayerProblem,
    Shape,
    init_weights,
    register_layer,
)

if TYPE_CHECKING:
    from playground.model.build import BuildContext

SEQUENCE_FIX = (
    "recurrent and attention layers need (B, steps, features): pick a sequence dataset, "
    "and keep them before any Flatten."
)


@register_layer
class EmbeddingSpec(LayerBase):
    """Maps integer tokens (B, steps) to vectors (B, steps, embedding_dim)."""

    kind: Literal["embedding"] = "embedding"
    # None: the dataset's vocabulary size.
    num_embeddings: int | None = Field(default=None, ge=1, le=1_000_000)
    embedding_dim: int = Field(default=16, ge=1, le=4096)
    init: InitScheme = "default"
    title: ClassVar[str] = "Embedding"
    expects: ClassVar[str] = "integer tokens (B, steps)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (1,)
    has_weights: ClassVar[bool] = True

    def check(self, shape: Shape, ctx: BuildContext) -> None:
        if not ctx.tokens:
            raise LayerProblem(
                "Embedding needs integer tokens but this input is real-valued.",
                expected=self.expects,
                fix="remove Embedding, or pick a token dataset (long_memory with encoding='tokens').",
            )
        super().check(shape, ctx)
        vocab = ctx.signature.vocab_size
        if self.num_embeddings is not None and vocab is not None and self.num_embeddings < vocab:
            raise LayerProblem(
                f"num_embeddings={self.num_embeddings} is smaller than the vocabulary ({vocab}).",
                fix=f"set num_embeddings to at least {vocab}, or leave it empty.",
            )
        if self.num_embeddings is None and vocab is None:
            raise LayerProblem("The dataset has no vocabulary size.", fix="set num_embeddings.")

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        layer = nn.Embedding(
            self.num_embeddings or ctx.signature.vocab_size or 1, self.embedding_dim
        )
        init_weights(layer, self.init)
        return layer

    def describe(self) -> str:
        return f"Embedding({self.embedding_dim})"


class RecurrentLayer(nn.Module):
    """Runs a batch-first RNN/LSTM/GRU and returns the whole sequence or the final state."""

    def __init__(self, rnn: nn.RNNBase, output: str) -> None:
        super().__init__()
        self.rnn = rnn
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, state = self.rnn(x)
        if self.output == "sequence":
            return out
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM returns (h, c)
        directions = 2 if self.rnn.bidirectional else 1
        # Final hidden state of the top layer, both directions side by side: (B, dirs*H).
        return h_n[-directions:].transpose(0, 1).reshape(x.shape[0], -1)


class RecurrentBase(LayerBase):
    hidden_size: int = Field(default=32, ge=1, le=4096)
    num_layers: int = Field(default=1, ge=1, le=8)
    bidirectional: bool = False
    output: Literal["last", "sequence"] = "last"
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    init: InitScheme = "default"
    expects: ClassVar[str] = "(B, steps, features)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (2,)
    has_weights: ClassVar[bool] = True
    module: ClassVar[type[nn.RNNBase]]
    # Values kept for the backward pass per hidden unit, step, layer and direction, as
    # measured on PyTorch's CPU kernels (saved_tensors_hooks): gates, states, workspace.
    kept_per_unit: ClassVar[int]

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return SEQUENCE_FIX

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        rnn = self.module(
            shape[-1],
            self.hidden_size,
            num_layers=self.num_layers,
            batch_first=True,
            bidirectional=self.bidirectional,
            dropout=self.dropout if self.num_layers > 1 else 0.0,
        )
        init_weights(rnn, self.init, nonlinearity="tanh")
        return RecurrentLayer(rnn, self.output)

    def describe(self) -> str:
        return f"{self.title}({self.hidden_size}, {self.output})"

    def activation_elements(self, shape: Shape, out_shape: Shape) -> int:
        # Backpropagation through time needs every step of every layer and direction,
        # whatever `output` returns.
        steps = shape[0]
        directions = 2 if self.bidirectional else 1
        per_step = self.num_layers * directions * self.hidden_size * self.kept_per_unit
        return steps * per_step + math.prod(out_shape)


@register_layer
class RNNSpec(RecurrentBase):
    kind: Literal["rnn"] = "rnn"
    title: ClassVar[str] = "RNN"
    module: ClassVar[type[nn.RNNBase]] = nn.RNN
    kept_per_unit: ClassVar[int] = 2


@register_layer
class LSTMSpec(RecurrentBase):
    kind: Literal["lstm"] = "lstm"
    title: ClassVar[str] = "LSTM"
    module: ClassVar[type[nn.RNNBase]] = nn.LSTM
    kept_per_unit: ClassVar[int] = 17


@register_layer
class GRUSpec(RecurrentBase):
    kind: Literal["gru"] = "gru"
    title: ClassVar[str] = "GRU"
    module: ClassVar[type[nn.RNNBase]] = nn.GRU
    kept_per_unit: ClassVar[int] = 8


class TransformerBlock(nn.Module):
    """A self-attention encoder layer with optional sinusoidal positions and pooling."""

    def __init__(
        self, layer: nn.TransformerEncoderLayer, steps: int, dim: int, positional: bool, output: str
    ):
        super().__init__()
        self.layer = layer
        self.output = output
        if positional:
            # Fixed sinusoidal positions (Vaswani et al.): attention alone ignores order.
            pos = torch.arange(steps, dtype=torch.float32).unsqueeze(1)
            freq = torch.exp(
                torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim)
            )
            table = torch.zeros(steps, dim)
            table[:, 0::2] = torch.sin(pos * freq)
            table[:, 1::2] = torch.cos(pos * freq[: dim // 2])
            self.register_buffer("positions", table, persistent=False)
        else:
            self.positions = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.positions is not None:
            x = x + self.positions
        out = self.layer(x)
        if self.output == "last":
            return out[:, -1]
        if self.output == "mean":
            return out.mean(dim=1)
        return out


@register_layer
class TransformerSpec(LayerBase):
    kind: Literal["transformer"] = "transformer"
    nhead: int = Field(default=2, ge=1, le=64)
    dim_feedforward: int = Field(default=64, ge=1, le=16384)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)
    positional: bool = True
    output: Literal["sequence", "last", "mean"] = "sequence"
    init: InitScheme = "default"
    title: ClassVar[str] = "TransformerEncoder"
    expects: ClassVar[str] = "(B, steps, features) with features divisible by nhead"
    accepted_ranks: ClassVar[tuple[int, ...]] = (2,)
    has_weights: ClassVar[bool] = True

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return SEQUENCE_FIX

    def check(self, shape: Shape, ctx: BuildContext) -> None:
        super().check(shape, ctx)
        dim = shape[-1]
        if dim % self.nhead:
            divisors = [d for d in range(1, min(dim, 16) + 1) if dim % d == 0]
            raise LayerProblem(
                f"{dim} features cannot be split evenly across nhead={self.nhead} attention heads.",
                expected=self.expects,
                fix=f"set nhead to one of {divisors}, or add Linear before it to change the width.",
            )

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        steps, dim = shape
        layer = nn.TransformerEncoderLayer(
            dim, self.nhead, self.dim_feedforward, self.dropout, batch_first=True
        )
        init_weights(layer, self.init)
        return TransformerBlock(layer, steps, dim, self.positional, self.output)

    def describe(self) -> str:
        return f"Transformer(heads={self.nhead}, {self.output})"

    def activation_elements(self, shape: Shape, out_shape: Shape) -> int:
        # What nn.TransformerEncoderLayer keeps per example, as measured on PyTorch's CPU
        # kernels: about twelve (steps, dim) tensors (q/k/v, projections, residual sums,
        # norms, dropouts), three of the feed-forward's (steps, dim_feedforward), and three
        # of the (heads, steps, steps) attention weights (softmax, dropout mask and output).
        steps, dim = shape
        per_sequence = steps * (12 * dim + 3 * self.dim_feedforward)
        attention = 3 * self.nhead * steps * steps
        return per_sequence + attention + math.prod(out_shape)
