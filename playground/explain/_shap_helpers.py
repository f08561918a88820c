"""Plumbing shared by the SHAP methods (`methods/shap_*.py`); nothing here is SHAP maths.

- SHAP explainers explain every output column of a model; we explain one column per sample
  (its target), so samples are grouped by target and each group is explained through a
  one-column view of the model (`TargetColumn`): no wasted work on other classes.
- Token models (an Embedding first) have no gradient w.r.t. integer ids; the gradient-based
  SHAP explainers explain the embedding output instead, and each position's vector of
  attributions is summed to one value per token (sums keep additivity).
- Explainers that reseed NumPy's global generator run inside `kept_numpy_rng()` so that an
  explanation does not change random draws elsewhere in the process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from playground.explain._captum_helpers import AfterEmbedding, embed, embedding
from playground.explain.base import Attribution, ExplainRequest, Progress
from playground.explain.context import ExplainContext

# Rows per SHAP call: between calls we report progress and the user can cancel.
CHUNK_ROWS = 16
# Exact explainers (Deep, Permutation) must satisfy |sum(values) + E[f] - f(x)| <= ATOL +
# RTOL * |f(x)|: float32 rounding only. Anything larger means an unsupported operation.
EXACT_ATOL = 1e-4
EXACT_RTOL = 1e-3


def exact_tolerance(outputs: np.ndarray) -> np.ndarray:
    """Per-sample additivity tolerance of an exact SHAP explainer, in output units."""
    return EXACT_ATOL + EXACT_RTOL * np.abs(np.asarray(outputs, dtype=np.float64))


class TargetColumn(nn.Module):
    """`model` restricted to output column `column`: (N, *input) -> (N, 1)."""

    def __init__(self, model: nn.Module, column: int) -> None:
        super().__init__()
        self.model = model
        self.column = column

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return out[:, self.column : self.column + 1]


@dataclass
class ExplainedSpace:
    """Where SHAP works: `model` maps `encode(x)` to the (N, outputs) the run explains.

    For real-valued inputs `encode` is the identity; for token ids it is the Embedding lookup
    and `model` is the rest of the network. `fold` brings values in that space back to the
    input's shape, (N, *input_shape).
    """

    model: nn.Module
    encode: Callable[[torch.Tensor], torch.Tensor]
    fold: Callable[[np.ndarray], np.ndarray]
    note: str | None = None


def explained_space(ctx: ExplainContext) -> ExplainedSpace:
    """The model and input space the gradient-based SHAP explainers work in (see module doc).

    Token models are split after the Embedding exactly as the Captum methods split them
    (`_captum_helpers.AfterEmbedding`), so both families attribute to the same vectors.
    """
    if not ctx.tokens:
        return ExplainedSpace(ctx.model, lambda x: x, lambda v: v)
    embedding(ctx)  # a clear error when a token model does not start with an Embedding

    def fold(values: np.ndarray) -> np.ndarray:
        return values.sum(axis=-1)  # (N, steps, dim) -> (N, steps)

    note = (
        "Token inputs: SHAP explained the Embedding layer's output, and each token's "
        "attribution is the sum over its embedding vector."
    )
    return ExplainedSpace(AfterEmbedding(ctx.built.module), lambda x: embed(ctx, x), fold, note)


def reporter(progress: Progress | None) -> Progress:
    """A progress callback that is always callable (a no-op when none was given)."""
    return progress if progress is not None else (lambda fraction, message: None)


def target_chunks(targets: np.ndarray, rows: int = CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """(target, positions) for consecutive chunks of at most `rows` samples sharing a target."""
    for target in np.unique(targets):
        positions = np.flatnonzero(targets == target)
        for start in range(0, len(positions), rows):
            yield int(target), positions[start : start + rows]


@contextmanager
def kept_numpy_rng() -> Iterator[None]:
    """Restore NumPy's global random state afterwards (SHAP explainers reseed it)."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


def drop_trailing_output_axis(values: np.ndarray, input_ndim: int) -> np.ndarray:
    """SHAP 0.51 returns (N, *input, outputs) even for one output: keep (N, *input)."""
    values = np.asarray(values)
    if values.ndim == input_ndim + 1:
        values = values[..., 0]
    return values


@torch.no_grad()
def target_outputs(model: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    """(N,) output of column targets[i] for row i."""
    out = model(x)
    return out.gather(1, targets.view(-1, 1).to(out.device))[:, 0].float().cpu().numpy()


def finish(
    ctx: ExplainContext,
    request: ExplainRequest,
    *,
    title: str,
    x: torch.Tensor,
    y: torch.Tensor,
    targets: torch.Tensor,
    values: np.ndarray,
    expected: np.ndarray,
    started: float,
    notes: list[str] | None = None,
    params: dict | None = None,
) -> Attribution:
    """The Attribution every SHAP method returns; `values` (N, *input_shape)."""
    return Attribution(
        method=request.method,
        title=title,
        values=np.asarray(values, dtype=np.float32),
        inputs=x.detach().cpu().numpy(),
        sample_indices=np.asarray(request.sample_indices, dtype=np.int64),
        targets=targets.cpu().numpy().astype(np.int64),
        outputs=target_outputs(ctx.model, x, targets),
        labels=y.cpu().numpy(),
        feature_names=list(ctx.dataset.feature_names),
        data_kind=ctx.dataset.kind,
        expected_value=np.asarray(expected, dtype=np.float32),
        notes=list(notes or []),
        seconds=time.perf_counter() - started,
        params=dict(params or {}),
    )
