"""A dataset with a known answer for explanation methods: one feature decides the label, and
a second can be made a shortcut (a column that copies the label in most rows without causing
it, like a hospital's scanner model predicting a diagnosis)."""

from __future__ import annotations

import numpy as np

from playground.data.dataset import Dataset
from playground.data.registry import register_dataset
from playground.data.splitting import check_n_samples, dataset_from_arrays
from playground.errors import DatasetError

FEATURES = ["signal", "shortcut", "noise_1", "noise_2"]
SHORTCUT_TEXT = (
    "Four columns. The label is 1 exactly when `signal` is above 0. `shortcut` is +1 or -1: "
    "with `shortcut` = 0 it is a coin flip; with `shortcut` = 0.9 it copies the label in 90% "
    "of rows (a coin flip in the rest), so it predicts the label without deciding it. "
    "`noise_1` and `noise_2` are unrelated to the label."
)


def shortcut_arrays(n_samples: int, shortcut: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x (N, 4) float32 in FEATURES order and y (N,) int64."""
    rng = np.random.default_rng(seed)
    signal = rng.uniform(-1.0, 1.0, n_samples)
    y = (signal > 0).astype(np.int64)
    coin = rng.choice([-1.0, 1.0], n_samples)
    copies = rng.random(n_samples) < shortcut
    shortcut_col = np.where(copies, 2.0 * y - 1.0, coin)
    noise = rng.uniform(-1.0, 1.0, (n_samples, 2))
    x = np.column_stack([signal, shortcut_col, noise]).astype(np.float32)
    return x, y


@register_dataset(
    "shortcut",
    title="Signal and shortcut (explanations)",
    kind="tabular",
    task="binary",
    description=SHORTCUT_TEXT,
)
def shortcut(n_samples: int = 1000, shortcut: float = 0.0, seed: int = 0) -> Dataset:
    check_n_samples(n_samples)
    if not 0.0 <= shortcut <= 1.0:
        raise DatasetError(
            f"shortcut={shortcut} is outside 0..1.",
            "Use 0 for no shortcut, 0.9 for a column that copies the label in 90% of rows.",
        )
    x, y = shortcut_arrays(n_samples, shortcut, seed)
    return dataset_from_arrays(
        name="shortcut",
        params={"n_samples": n_samples, "shortcut": shortcut, "seed": seed},
        x=x,
        y=y,
        task="binary",
        kind="tabular",
        feature_names=FEATURES,
        seed=seed,
        class_names=["signal below 0", "signal above 0"],
        description=SHORTCUT_TEXT,
    )
