"""Influential training examples (Captum's TracInCP on checkpoints of a rerun): with 5% of
the training labels flipped on purpose, the rows with the highest self-influence are mostly
the flipped ones; proponents of a prediction share its label; checkpoints are reused."""

from __future__ import annotations

import numpy as np
import pytest

from playground.explain import context_for_run
from playground.explain.influence import checkpoint_epochs, run_checkpoints, tracin
from playground.model.shorthand import parse_layers
from playground.store import RunStore
from tests.run_helpers import train_stored

PRECISION_AT_K = 0.6  # share of the top-k self-influence rows that were flipped (measured 0.83)


def write_flipped_csv(path, n: int = 600, seed: int = 0) -> None:
    """The label is f2 > 0, except for ~5% of rows whose label is flipped."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    y = (x[:, 2] > 0).astype(int)
    flip = rng.random(n) < 0.05
    y[flip] = 1 - y[flip]
    lines = ["f0,f1,f2,f3,f4,label"]
    lines += [",".join(f"{v:.4f}" for v in r) + f",{label}" for r, label in zip(x, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def flipped_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("influence")
    write_flipped_csv(root / "flipped.csv")
    store = RunStore(root / "data")
    outcome, _ = train_stored(
        "csv",
        {"path": str(root / "flipped.csv"), "target": "label"},
        parse_layers("linear:16 relu linear"),
        {"epochs": 10, "batch_size": 32, "lr": 0.01, "seed": 0},
        store,
    )
    return store, outcome.run_id


def test_checkpoint_epochs_are_evenly_spaced() -> None:
    assert checkpoint_epochs(10, 5) == [2, 4, 6, 8, 10]
    assert checkpoint_epochs(3, 5) == [1, 2, 3]
    assert checkpoint_epochs(7, 1) == [7]


def test_self_influence_finds_flipped_labels(flipped_run) -> None:
    store, run_id = flipped_run
    ctx = context_for_run(run_id, store)
    checkpoints = run_checkpoints(run_id, store, n=5)
    assert checkpoints.epochs == [2, 4, 6, 8, 10]
    assert checkpoints.max_weight_gap < 1e-6  # the rerun repeats the stored run exactly
    result = tracin(ctx, checkpoints, [0, 1, 2], k=5)
    raw = ctx.dataset.train.raw
    flipped = ctx.dataset.train.y.numpy() != (raw["f2"].to_numpy() > 0)
    k = int(flipped.sum())
    assert 15 <= k <= 35  # about 5% of the ~480 training rows
    precision = flipped[result.top_self_influence(k)].mean()
    assert precision > PRECISION_AT_K, precision
    # Proponents are ordered by score and share the prediction's label.
    assert (np.diff(result.proponent_scores, axis=1) <= 1e-9).all()
    labels = ctx.dataset.train.y.numpy()[result.proponents]
    assert (labels == result.predicted[:, None]).mean() > 0.8
    assert (result.opponent_scores[:, 0] < 0).all()


def test_checkpoints_are_reused(flipped_run) -> None:
    store, run_id = flipped_run
    first = run_checkpoints(run_id, store, n=5)
    again = run_checkpoints(run_id, store, n=5)
    assert again.paths == first.paths and again.seconds == 0.0
