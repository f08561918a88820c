"""A sequence task for attention: one token, anywhere in the sequence, decides the label.

Each sequence is noise digits with one letter at a random position; the class is the letter.
The letter is never the last token, so a model that answers from its last position (a
Transformer with output='last') must look back at it: attention is the only way there, and
the attention maps show where it looked.
"""

from __future__ import annotations

import string
from typing import Literal

import numpy as np

from playground.data.dataset import Dataset
from playground.data.registry import register_dataset
from playground.data.sequences import check_encoding, encode_tokens
from playground.data.splitting import check_n_samples, dataset_from_arrays
from playground.errors import DatasetError

FIND_THE_LETTER = (
    "Each sequence is random digits with one letter somewhere (never last); the class is the "
    "letter. Only that one token decides the answer: a Transformer should learn to attend to it."
)


def letter_sequences(
    n_samples: int, seq_len: int, n_classes: int, n_noise: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids (N, seq_len) int64, labels (N,) and the deciding position of each row (N,).

    Ids 0..n_noise-1 are noise digits; id n_noise + c is the letter of class c.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_samples)
    x = rng.integers(0, n_noise, size=(n_samples, seq_len))
    position = rng.integers(0, seq_len - 1, n_samples)
    x[np.arange(n_samples), position] = n_noise + y
    return x.astype(np.int64), y.astype(np.int64), position.astype(np.int64)


def deciding_positions(tokens: np.ndarray, n_noise: int) -> np.ndarray:
    """(N,) position of the letter in each row of token ids (N, seq_len)."""
    return np.argmax(tokens >= n_noise, axis=1)


@register_dataset(
    "find_the_letter",
    title="Find the letter (attention)",
    kind="sequence",
    task="multiclass",
    description=FIND_THE_LETTER,
)
def find_the_letter(
    n_samples: int = 2000,
    seq_len: int = 12,
    n_classes: int = 4,
    n_noise: int = 10,
    encoding: Literal["onehot", "tokens"] = "onehot",
    seed: int = 0,
) -> Dataset:
    """One-hot input (N, seq_len, n_noise + n_classes) float32, or token ids (N, seq_len)."""
    check_n_samples(n_samples)
    if seq_len < 2:
        raise DatasetError(f"seq_len={seq_len} is too short.", "Use a seq_len of at least 2.")
    if not 2 <= n_classes <= 26 or not 1 <= n_noise <= 10:
        raise DatasetError(
            f"n_classes={n_classes}, n_noise={n_noise} do not fit.",
            "Need 2 <= n_classes <= 26 letters and 1 <= n_noise <= 10 digits.",
        )
    check_encoding(encoding)
    tokens, y, _ = letter_sequences(n_samples, seq_len, n_classes, n_noise, seed)
    letters = list(string.ascii_uppercase[:n_classes])
    names = [*string.digits[:n_noise], *letters]
    x, feature_names = encode_tokens(tokens, names, encoding)
    return dataset_from_arrays(
        name="find_the_letter",
        params={
            "n_samples": n_samples,
            "seq_len": seq_len,
            "n_classes": n_classes,
            "n_noise": n_noise,
            "encoding": encoding,
            "seed": seed,
        },
        x=x,
        y=y,
        task="multiclass",
        kind="sequence",
        feature_names=feature_names,
        seed=seed,
        class_names=letters,
        description=FIND_THE_LETTER,
        vocab_size=len(names) if encoding == "tokens" else None,
        notes=[f"Token vocabulary: {' '.join(names)} (digits are noise, the letter decides)."],
    )
