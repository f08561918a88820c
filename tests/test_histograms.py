"""Weight/gradient histograms over training: bounded recording, exact counts, the store table."""

from __future__ import annotations

import sqlite3

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from playground.charts.inspect import histogram_heatmap
from playground.errors import PlaygroundError
from playground.inspect import histogram_history, histogram_layers
from playground.model.shorthand import parse_layers
from playground.store import RunStore
from playground.store.runs import SCHEMA
from playground.train import HistogramRecorder, HistogramRow, StepHistogramRecorder, Trainer
from playground.train.config import TrainConfig
from playground.train.histograms import layer_histograms
from tests.conftest import make_xor
from tests.run_helpers import train_stored

SPEC = parse_layers("linear:8 relu residual[linear:8 relu linear:8] linear")


def layer_sizes(model: nn.Module) -> dict[str, int]:
    """Parameter count per layer key, summed over its tensors ("3.0" inside a residual)."""
    from playground.train.callbacks import layer_key

    sizes: dict[str, int] = {}
    for name, p in model.named_parameters():
        sizes[layer_key(name)] = sizes.get(layer_key(name), 0) + p.numel()
    return sizes


def train(epochs: int, recorder: HistogramRecorder, batch_size: int = 400) -> Trainer:
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=0.05, seed=0, device="cpu")
    trainer = Trainer(make_xor(), SPEC, config, callbacks=[recorder])
    assert trainer.run().status == "completed"
    return trainer


def test_snapshots_stay_bounded_and_evenly_spaced_over_many_epochs() -> None:
    recorder = HistogramRecorder(max_snapshots=6)
    train(42, recorder)
    epochs = sorted({rows[0].epoch for rows in recorder.snapshots.values()})
    assert len(recorder.snapshots) <= 6
    # By epoch 40 the interval grew 1 -> 8 (epochs 0, 8, ..., 40); the final state (42) is
    # always kept, off the grid, and made one thinning more.
    assert recorder.interval == 16
    assert epochs == [0, 16, 32, 42]


def test_counts_cover_every_parameter_and_match_numpy_histograms() -> None:
    recorder = HistogramRecorder(bins=40)
    trainer = train(3, recorder)
    sizes = layer_sizes(trainer.model)
    assert set(sizes) == {"0", "2.0", "2.2", "3"}
    final = recorder.snapshots[trainer.state.step]
    for row in final:
        assert len(row.counts) == 40 and len(row.edges) == 41
        assert sum(row.counts) == sizes[row.layer]
    # The last snapshot holds the model's current weights and the last batch's gradients.
    for kind in ("weight", "grad"):
        row = next(r for r in final if r.layer == "3" and r.kind == kind)
        params = trainer.model[3].parameters()
        values = torch.cat(
            [(p if kind == "weight" else p.grad).detach().reshape(-1) for p in params]
        )
        assert row.edges[0] == pytest.approx(float(values.min()))
        assert row.edges[-1] == pytest.approx(float(values.max()))
        expected, _ = np.histogram(values.numpy(), bins=np.asarray(row.edges))
        assert np.abs(np.asarray(row.counts) - expected).sum() <= 2  # float rounding at edges
    initial = recorder.snapshots[0]
    assert {r.kind for r in initial} == {"weight"}  # no gradients before the first step


def test_constant_and_non_finite_values_are_binned_safely() -> None:
    layer = nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 2.0, float("nan")], [3.0, 4.0, 5.0]]))
        layer.bias.zero_()
    rows = layer_histograms(nn.Sequential(layer), epoch=0, step=0, bins=4)
    (row,) = rows  # one layer, no gradients
    assert row.edges[0] == pytest.approx(0.0) and row.edges[-1] == pytest.approx(5.0)
    assert sum(row.counts) == 7  # 8 values, the NaN left out
    assert row.counts[0] == 3  # the two zero biases and 1.0 in [0, 1.25)
    only = nn.Sequential(nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        only[0].weight.fill_(0.3)  # one repeated value: a unit range around it
    (flat,) = layer_histograms(only, 0, 0, bins=10)
    assert flat.edges[0] == pytest.approx(-0.2) and flat.edges[-1] == pytest.approx(0.8)
    assert sum(flat.counts) == 4 and flat.counts[5] == 4


def test_step_recorder_thins_on_a_step_grid() -> None:
    recorder = StepHistogramRecorder(every=2, max_snapshots=6)
    trainer = train(10, recorder, batch_size=40)  # 10 steps per epoch, 100 steps
    steps = sorted(recorder.snapshots)
    assert len(steps) <= 6 and steps[0] == 0 and steps[-1] == trainer.state.step == 100
    assert all(s % recorder.interval == 0 for s in steps[:-1])  # the final one is always kept


def test_runs_store_their_histograms_and_delete_them_with_the_run(store: RunStore) -> None:
    outcome, trainer = train_stored(
        "xor", {"n_samples": 200}, SPEC, {"epochs": 60, "batch_size": 200}, store
    )
    assert outcome.state.status == "completed"
    recorder = next(c for c in trainer.callbacks if isinstance(c, HistogramRecorder))
    stored = store.histograms(outcome.run_id)
    # Thinned snapshots were deleted from the store as well: the two hold the same rows.
    assert len({r.step for r in stored}) == len(recorder.snapshots) <= 50
    assert stored == recorder.rows
    assert all(isinstance(r, HistogramRow) for r in stored)
    store.delete_run(outcome.run_id)
    with sqlite3.connect(store.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM histograms").fetchone()[0] == 0


def test_a_store_made_before_the_histogram_table_still_opens(tmp_path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    with sqlite3.connect(root / "runs.sqlite") as db:
        db.executescript(SCHEMA)
        db.execute(
            "INSERT INTO runs (id, status, created_at, updated_at, dataset, dataset_params, spec,"
            " config) VALUES ('old-run', 'completed', 0, 0, 'xor', '{}', '{}', '{}')"
        )
        assert "histograms" not in {
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    store = RunStore(root)
    assert store.get_run("old-run").status == "completed"
    assert store.histograms("old-run") == []
    row = HistogramRow(1, 10, "0", "grad", [0.0, 0.5, 1.0], [2, 3])
    store.add_histograms("old-run", [row])
    assert store.histograms("old-run") == [row]


def test_history_rebins_onto_shared_edges_and_draws_a_heatmap() -> None:
    rows = [
        HistogramRow(0, 0, "1", "weight", [-1.0, 0.0, 1.0], [5, 5]),
        HistogramRow(1, 10, "1", "weight", [0.0, 0.5], [4]),
        HistogramRow(2, 20, "1", "weight", [-3.0, 3.0], [6]),
        HistogramRow(1, 10, "1", "grad", [0.0, 1.0], [1]),
    ]
    assert histogram_layers(rows) == ["1"]
    history = histogram_history(rows, "1", "weight", bins=6)
    assert history.axis == "epoch" and list(history.positions) == [0, 1, 2]
    assert history.edges[0] == -3.0 and history.edges[-1] == 3.0
    assert history.counts.sum(axis=1) == pytest.approx([10, 4, 6])  # nothing lost
    assert history.counts[0] == pytest.approx([0, 0, 5, 5, 0, 0])  # [-1, 1] -> bins 2 and 3
    assert history.counts[2] == pytest.approx([1] * 6)  # spread evenly over its range
    fig = histogram_heatmap(history)
    assert isinstance(fig.data[0], go.Heatmap) and np.asarray(fig.data[0].z).shape == (3, 6)
    assert len(fig.data) == 3  # heatmap plus each snapshot's min and max
    with pytest.raises(PlaygroundError, match="No grad histograms"):
        histogram_history(rows, "7", "grad")
