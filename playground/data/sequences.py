"""Sequence datasets for recurrent networks: sine forecasting and a long-memory classification.

Inputs are (N, seq_len, features) float32, or (N, seq_len) int64 token ids for an Embedding
layer (`Dataset.vocab_size` is then set).
"""

from __future__ import annotations

import string
from typing import Literal

import numpy as np

from playground.data.dataset import Dataset
from playground.data.registry import register_dataset
from playground.data.splitting import check_n_samples, dataset_from_arrays
from playground.errors import DatasetError

# Token names: letters, so class names read "A", "B", ...; the last token id is the marker.
_LETTERS = string.ascii_uppercase + string.ascii_lowercase
MARKER_NAME = "#"


def sine_waves(
    n_samples: int, seq_len: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sine waves, each with its own period (8..32 steps) and phase.

    Returns x (N, seq_len, 1), the first seq_len observed values, and y (N,), the observed
    (noisy) value one step later.
    """
    rng = np.random.default_rng(seed)
    period = rng.uniform(8.0, 32.0, size=(n_samples, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n_samples, 1))
    t = np.arange(seq_len + 1)[None, :]
    wave = np.sin(2 * np.pi * t / period + phase) + rng.normal(0.0, noise, (n_samples, seq_len + 1))
    return wave[:, :seq_len, None], wave[:, seq_len]


def check_encoding(encoding: str) -> None:
    if encoding not in ("onehot", "tokens"):
        raise DatasetError(f"Unknown encoding {encoding!r}.", "Use 'onehot' or 'tokens'.")


def encode_tokens(
    tokens: np.ndarray, names: list[str], encoding: str
) -> tuple[np.ndarray, list[str]]:
    """Token ids (N, T) as the model's input and its feature names: one-hot vectors over the
    vocabulary `names` ("token=A"), or the ids themselves for an Embedding layer."""
    if encoding == "onehot":
        return np.eye(len(names), dtype=np.float32)[tokens], [f"token={n}" for n in names]
    return tokens, ["token"]


def marker_sequences(
    n_samples: int, seq_len: int, n_classes: int, vocab_size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences (N, seq_len) int64 and labels (N,).

    Each sequence is random tokens 0..vocab_size-2 with one marker token (id vocab_size-1) at
    a random position; the label is the token right after the marker (one of 0..n_classes-1).
    Because the marker can sit anywhere, the gap to the end varies from 1 to seq_len-1 steps:
    short gaps give a gradient signal early on, and long ones need memory that survives many
    distractors, which gated cells (LSTM/GRU) keep and a plain RNN loses.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_samples)
    x = rng.integers(0, vocab_size - 1, size=(n_samples, seq_len))
    position = rng.integers(0, seq_len - 1, n_samples)
    rows = np.arange(n_samples)
    x[rows, position] = vocab_size - 1
    x[rows, position + 1] = y
    return x.astype(np.int64), y.astype(np.int64)


def _check_seq_len(seq_len: int) -> None:
    if seq_len < 2:
        raise DatasetError(f"seq_len={seq_len} is too short.", "Use a seq_len of at least 2.")


SINE = "Forecast the next value of a noisy sine wave (random period and phase) from the last steps."


@register_dataset(
    "sine", title="Sine forecast", kind="sequence", task="regression", description=SINE
)
def sine(n_samples: int = 1000, seq_len: int = 32, noise: float = 0.05, seed: int = 0) -> Dataset:
    check_n_samples(n_samples)
    _check_seq_len(seq_len)
    if noise < 0:
        raise DatasetError(f"noise={noise} is negative.", "Use a noise of 0 or more.")
    x, y = sine_waves(n_samples, seq_len, noise, seed)
    return dataset_from_arrays(
        name="sine",
        params={"n_samples": n_samples, "seq_len": seq_len, "noise": noise, "seed": seed},
        x=x.astype(np.float32),
        y=y,
        task="regression",
        kind="sequence",
        feature_names=["value"],
        seed=seed,
        description=SINE,
    )


LONG_MEMORY = (
    "Find the marker token '#' and remember the token right after it: that token is the class. "
    "The marker can be anywhere, so longer sequences need longer memory; a plain RNN forgets, "
    "an LSTM or GRU can remember."
)


@register_dataset(
    "long_memory",
    title="Long memory",
    kind="sequence",
    task="multiclass",
    description=LONG_MEMORY,
)
def long_memory(
    n_samples: int = 2000,
    seq_len: int = 20,
    n_classes: int = 4,
    vocab_size: int = 8,
    encoding: Literal["onehot", "tokens"] = "onehot",
    seed: int = 0,
) -> Dataset:
    """One-hot input (N, seq_len, vocab_size) float32, or token ids (N, seq_len) int64."""
    check_n_samples(n_samples)
    _check_seq_len(seq_len)
    if not 2 <= n_classes < vocab_size <= len(_LETTERS) + 1:
        raise DatasetError(
            f"n_classes={n_classes}, vocab_size={vocab_size} do not fit.",
            f"Need 2 <= n_classes < vocab_size <= {len(_LETTERS) + 1} "
            "(the last token is the marker).",
        )
    check_encoding(encoding)
    tokens, y = marker_sequences(n_samples, seq_len, n_classes, vocab_size, seed)
    names = [*_LETTERS[: vocab_size - 1], MARKER_NAME]
    x, feature_names = encode_tokens(tokens, names, encoding)
    return dataset_from_arrays(
        name="long_memory",
        params={
            "n_samples": n_samples,
            "seq_len": seq_len,
            "n_classes": n_classes,
            "vocab_size": vocab_size,
            "encoding": encoding,
            "seed": seed,
        },
        x=x,
        y=y,
        task="multiclass",
        kind="sequence",
        feature_names=feature_names,
        seed=seed,
        class_names=list(names[:n_classes]),
        description=LONG_MEMORY,
        # An Embedding layer needs the vocabulary size; one-hot input already carries it.
        vocab_size=vocab_size if encoding == "tokens" else None,
        notes=[f"Token vocabulary: {' '.join(names)} ('{MARKER_NAME}' is the marker)."],
    )
