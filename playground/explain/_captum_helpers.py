"""What every Captum method file shares: the float input it attributes, baselines in that
space, chunked execution with progress, layer lookup, availability checks, and the step that
turns tensors into an `Attribution`.

Token inputs (an Embedding first) have no gradient, so every method works on the embedding
layer's output instead: the model is split after the Embedding, the embedded sequence
(N, T, E) is the input Captum sees, and attributions are summed over E to give (N, T). This is
what Captum's Layer* methods on the embedding compute, and it lets every method (including
Occlusion and NoiseTunnel) run unchanged. The "zeros" baseline is then the zero embedding
vector, the usual choice for text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from playground.errors import PlaygroundError
from playground.explain.base import METHODS, Attribution, ExplainRequest, MethodInfo, Progress
from playground.explain.context import ExplainContext
from playground.model.build import LayerRow
from playground.model.lookup import hidden_rows, module_for_row, row_by_index

CHUNK = 256  # samples per Captum call: progress (and cancel) is checked between chunks;
# smaller chunks cost time (Captum recomputes its step sizes per call: +25% at 32 rows)
INTERNAL_BATCH = 1024  # rows per forward pass inside path methods (IG, conductance)

# ---------------------------------------------------------------- availability checks

# A check raises PlaygroundError (what is missing, what to do) when a method cannot run on a
# context; `available_methods` lists only methods whose checks pass.
Check = Callable[[ExplainContext], None]
REQUIREMENTS: dict[str, tuple[Check, ...]] = {}


def requires(name: str, *checks: Check) -> None:
    """Record extra conditions (beyond the data kind) for method `name`."""
    REQUIREMENTS[name] = REQUIREMENTS.get(name, ()) + checks


def check_method(ctx: ExplainContext, info: MethodInfo) -> None:
    """Raise PlaygroundError if `info` cannot explain this run (data kind, layers, tokens)."""
    kind = ctx.dataset.kind
    if kind not in info.data_kinds:
        raise PlaygroundError(
            f"{info.title} does not apply to {kind} data.",
            f"It works on {', '.join(info.data_kinds)} data; choose another method.",
        )
    if info.needs_layer:
        layer_rows(ctx)  # raises when the model has no hidden layer to pick
    for check in REQUIREMENTS.get(info.name, ()):
        check(ctx)


def not_tokens(ctx: ExplainContext) -> None:
    if ctx.tokens:
        raise PlaygroundError(
            "This method cannot explain token inputs.",
            "Use Integrated Gradients or Occlusion, or the one-hot encoding of the dataset.",
        )


def has_conv2d(ctx: ExplainContext) -> None:
    if not hidden_rows(ctx.built, ("conv2d",)):
        raise PlaygroundError(
            "Grad-CAM needs a Conv2d layer and this model has none.",
            "Train a CNN (preset 'cnn') on image data, or use Integrated Gradients.",
        )


# ---------------------------------------------------------------- the attributed input


class AfterEmbedding(nn.Module):
    """The model from its second module on: embedded tokens (N, T, E) -> (N, outputs).

    It holds the same module objects, so layer hooks on any later row still apply.
    """

    def __init__(self, stack: nn.Sequential) -> None:
        super().__init__()
        self.stack = stack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in list(self.stack)[1:]:
            x = module(x)
        return x.reshape(x.shape[0], -1)


@dataclass
class Prepared:
    """The samples of one request, ready for Captum."""

    forward: nn.Module  # float input -> (N, outputs)
    inputs: torch.Tensor  # (N, *input_shape) float, or (N, T, E) embedded tokens
    raw: torch.Tensor  # (N, *input_shape) as the dataset holds them (token ids for tokens)
    labels: torch.Tensor  # (N,)
    targets: torch.Tensor  # (N,) output column explained
    tokens: bool

    @property
    def n(self) -> int:
        return int(self.inputs.shape[0])


def embedding(ctx: ExplainContext) -> nn.Embedding:
    first = ctx.built.module[0]
    if not isinstance(first, nn.Embedding):
        raise PlaygroundError(
            "Token inputs need the model to start with an Embedding layer.",
            "Start the model with Embedding (preset 'lstm_tokens').",
        )
    return first


@torch.no_grad()
def embed(ctx: ExplainContext, tokens: torch.Tensor) -> torch.Tensor:
    """Token ids (N, T) -> embedded vectors (N, T, E), detached."""
    return embedding(ctx)(tokens.to(ctx.device)).detach()


def prepare(ctx: ExplainContext, request: ExplainRequest) -> Prepared:
    raw, labels = ctx.samples(request)
    targets = ctx.targets(raw, request)
    # A leaf that already requires grad: Captum then does not warn that it had to set it.
    if ctx.tokens:
        inputs = embed(ctx, raw).requires_grad_()
        return Prepared(AfterEmbedding(ctx.built.module), inputs, raw, labels, targets, True)
    inputs = raw.float().detach().clone().requires_grad_()
    return Prepared(ctx.model, inputs, raw, labels, targets, False)


def baseline_for(ctx: ExplainContext, prepared: Prepared, request: ExplainRequest) -> torch.Tensor:
    """A baseline shaped like `prepared.inputs`, in the attributed (maybe embedded) space."""
    if not prepared.tokens:
        return ctx.baseline(prepared.raw, request).float()
    if request.baseline == "zeros":
        return torch.zeros_like(prepared.inputs)
    if request.baseline == "mean":
        # The average embedded training sequence, position by position.
        mean = embed(ctx, ctx.dataset.train.x).mean(dim=0, keepdim=True)
        return mean.expand_as(prepared.inputs).clone()
    return embed(ctx, ctx.baseline(prepared.raw, request))


def background_for(ctx: ExplainContext, request: ExplainRequest) -> torch.Tensor:
    """Training rows (the baseline distribution), in the attributed space."""
    rows = ctx.background(request.background_size, request.seed)
    return embed(ctx, rows) if ctx.tokens else rows.float()


@torch.no_grad()
def target_outputs(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N,) output of column targets[i] for row i, in chunks."""
    outs = []
    for sl in chunks(len(x), INTERNAL_BATCH):
        out = forward(x[sl])
        outs.append(out.gather(1, targets[sl].reshape(-1, 1)).reshape(-1))
    return torch.cat(outs) if outs else torch.zeros(0)


@torch.no_grad()
def mean_outputs(forward: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(outputs,) model output averaged over the rows of x, in chunks."""
    total = sum(forward(x[sl]).sum(dim=0) for sl in chunks(len(x), INTERNAL_BATCH))
    return total / len(x)


# ---------------------------------------------------------------- running in chunks


def chunks(n: int, size: int | None = None) -> list[slice]:
    size = size or CHUNK  # read at call time, so tests can make chunks small
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


@contextlib.contextmanager
def gradients(ctx: ExplainContext) -> Iterator[None]:
    """Gradients on. On CUDA, recurrent layers also go to train mode for the duration:
    cuDNN's RNN backward refuses eval mode. Their dropout is set to 0 meanwhile, so train
    mode changes nothing else (other modules stay in eval mode)."""
    on_cuda = ctx.device.type == "cuda"
    rnns = [m for m in ctx.built.module.modules() if on_cuda and isinstance(m, nn.RNNBase)]
    saved = [(m.training, m.dropout) for m in rnns]
    with torch.enable_grad():
        try:
            for rnn in rnns:
                rnn.dropout = 0.0
                rnn.train(True)
            yield
        finally:
            for rnn, (training, dropout) in zip(rnns, saved, strict=True):
                rnn.dropout = dropout
                rnn.train(training)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's random numbers (noise, baseline draws) without disturbing the caller's."""
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def run_chunked(
    ctx: ExplainContext,
    prepared: Prepared,
    progress: Progress,
    title: str,
    fn: Callable[[slice], Any],
) -> list[Any]:
    """Call fn(rows) on chunks of samples, reporting progress before each (which may raise
    Cancelled), and return the results in order."""
    parts = []
    n = prepared.n
    with gradients(ctx):
        for sl in chunks(n):
            progress(sl.start / n, f"{title}: samples {sl.start + 1}-{sl.stop} of {n}")
            parts.append(fn(sl))
    progress(1.0, f"{title}: done")
    return parts


def cat(parts: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.detach() for p in parts])


def positive(value: int, name: str) -> int:
    if value < 1:
        raise PlaygroundError(
            f"{name} must be at least 1 (got {value}).", f"Set {name} to 1 or more."
        )
    return value


# ---------------------------------------------------------------- layers


def layer_rows(ctx: ExplainContext, kinds: tuple[str, ...] | None = None) -> list[LayerRow]:
    """Rows a layer method can use: hidden rows, without the Embedding for token inputs
    (its output is the attributed input itself)."""
    rows = hidden_rows(ctx.built, kinds)
    if ctx.tokens:
        rows = [r for r in rows if r.kind != "embedding"]
    if not rows:
        raise PlaygroundError(
            "This model has no hidden layer to explain.",
            "Add a hidden layer (e.g. 'linear:32 relu linear') or choose an input method.",
        )
    return rows


def resolve_layer(
    ctx: ExplainContext,
    request: ExplainRequest,
    allowed: list[LayerRow],
    default: LayerRow,
    what: str,
) -> tuple[LayerRow, nn.Module]:
    """The shape-table row named by request.layer (else `default`) and its module."""
    if request.layer is None:
        row = default
    else:
        row = row_by_index(ctx.built, str(request.layer))  # unknown row: error listing rows
        if row.index not in {r.index for r in allowed}:
            raise PlaygroundError(
                f"Layer {row.index} ({row.label}) cannot be used for {what}.",
                f"Choose one of: {', '.join(f'{r.index} ({r.label})' for r in allowed)}.",
            )
    return row, module_for_row(ctx.built, row.index)


# ---------------------------------------------------------------- building the result


def finish(
    ctx: ExplainContext,
    prepared: Prepared,
    request: ExplainRequest,
    name: str,
    values: torch.Tensor,
    *,
    layer_map: bool = False,
    feature_names: list[str] | None = None,
    **extra: Any,
) -> Attribution:
    """Wrap attributions (N, ...) into an Attribution; token attributions (N, T, E) are
    summed over the embedding dimension to (N, T) unless `layer_map`."""
    if prepared.tokens and not layer_map:
        values = values.sum(dim=-1)
    outputs = target_outputs(prepared.forward, prepared.inputs, prepared.targets)
    arrays = {k: numpy(v) if isinstance(v, torch.Tensor) else v for k, v in extra.items()}
    return Attribution(
        method=name,
        title=METHODS[name].title,
        values=numpy(values),
        inputs=prepared.raw.detach().cpu().numpy(),
        sample_indices=np.asarray(request.sample_indices, dtype=np.int64),
        targets=prepared.targets.cpu().numpy(),
        outputs=numpy(outputs),
        labels=prepared.labels.cpu().numpy(),
        feature_names=list(
            feature_names if feature_names is not None else ctx.dataset.feature_names
        ),
        data_kind=ctx.dataset.kind,
        layer_map=layer_map,
        **arrays,
    )


def numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().float().numpy()


def unit_names(shape: tuple[int, ...]) -> list[str]:
    return [f"unit {i}" for i in range(int(np.prod(shape)))]
