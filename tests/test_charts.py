"""Charts: each function returns a Figure with the expected traces; user text stays inert."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest
from torch import nn

from playground.analysis.boundary import BoundaryGrid, decision_grid
from playground.analysis.health import gradient_warnings, labels_of
from playground.charts import plain
from playground.charts.architecture import architecture_dot, architecture_figure, dot_escape
from playground.charts.data import class_balance_chart, image_grid, scatter_2d, sequence_plot
from playground.charts.training import (
    compare_runs,
    dead_relu_chart,
    decision_boundary,
    gradient_norms,
    learning_rate_curve,
    thin_rows,
    training_curves,
)
from playground.data import load_dataset
from playground.model.build import build_model
from playground.model.shorthand import parse_layers
from playground.train import TrainConfig, Trainer
from tests.conftest import make_xor


def epoch_rows(n: int = 3) -> list[dict]:
    return [
        {
            "epoch": e + 1,
            "step": 10 * (e + 1),
            "train_loss": 1.0 / (e + 1),
            "val_loss": 1.2 / (e + 1),
            "train_acc": 0.5 + 0.1 * e,
            "val_acc": 0.45 + 0.1 * e,
            "lr": 0.01 * 0.5**e,
            "grad_norms": {"0": 0.5, "2": 1e-7 * (e + 1), "10": 0.2},
            "dead_relu": {"1": 0.1 * e, "3": 0.0},
        }
        for e in range(n)
    ]


def step_records(n: int = 5) -> list[dict]:
    return [
        {"step": 20 * s, "epoch": 1, "loss": 1.0, "lr": 0.01, "grad_norms": {"0": 0.5, "2": 0.0}}
        for s in range(n)
    ]


def test_plain_escapes_markup_so_plotly_shows_it_verbatim() -> None:
    assert plain("<b>a</b> & b") == "&lt;b&gt;a&lt;/b&gt; &amp; b"
    assert plain("class 1") == "class 1"


def test_training_curves_have_loss_and_score_panels() -> None:
    fig = training_curves(epoch_rows(), "acc")
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names == ["train", "validation", "train", "validation"]
    assert [t.showlegend for t in fig.data] == [True, True, False, False]
    assert fig.layout.annotations[1].text == "Accuracy"  # the score panel's title
    assert [t.xaxis for t in fig.data] == ["x", "x", "x2", "x2"]
    assert list(fig.data[1].y) == pytest.approx([1.2, 0.6, 0.4])
    assert list(fig.data[3].x) == [1, 2, 3]
    r2 = training_curves([{"epoch": 1, "train_loss": 1.0, "train_r2": 0.3}], "r2")
    assert r2.layout.annotations[1].text == "R²" and list(r2.data[3].y) == [None]


def test_learning_rate_curve_by_epoch_or_step() -> None:
    fig = learning_rate_curve(epoch_rows())
    assert len(fig.data) == 1 and list(fig.data[0].y) == pytest.approx([0.01, 0.005, 0.0025])
    assert fig.layout.xaxis.title.text == "epoch"
    assert learning_rate_curve(step_records()).layout.xaxis.title.text == "step"
    assert fig.layout.title.text is None  # a changing rate keeps plotly's own axis


def test_a_constant_learning_rate_is_drawn_on_an_axis_that_shows_it() -> None:
    rows = [{"epoch": e, "lr": 0.003} for e in range(1, 6)]
    fig = learning_rate_curve(rows)
    low, high = fig.layout.yaxis.range
    assert low == 0.0 and low < 0.003 < high <= 0.006  # not a -1..1 axis around it
    assert fig.layout.title.text == "constant learning rate 0.003"


def test_gradient_norms_one_line_per_layer_in_model_order_on_a_log_axis() -> None:
    fig = gradient_norms(epoch_rows(), {"0": "Linear(32)", "2": "Linear(32)"})
    assert fig.layout.yaxis.type == "log"
    assert [t.name for t in fig.data] == ["0 Linear(32)", "2 Linear(32)", "layer 10"]
    assert list(fig.data[1].y) == pytest.approx([1e-7, 2e-7, 3e-7])
    steps = gradient_norms(step_records())
    assert steps.layout.xaxis.title.text == "step"
    # A zero norm cannot sit on a log axis: drawn at the floor, true value kept for hover.
    assert min(steps.data[1].y) > 0 and list(steps.data[1].customdata) == [0.0] * 5


def test_dead_relu_chart_one_line_per_relu_layer() -> None:
    fig = dead_relu_chart(epoch_rows(), {"1": "ReLU"})
    assert [t.name for t in fig.data] == ["1 ReLU", "layer 3"]
    assert list(fig.data[0].y) == pytest.approx([0.0, 0.1, 0.2])
    assert fig.layout.yaxis.tickformat == ".0%"


def test_compare_runs_one_line_per_run_with_escaped_labels() -> None:
    histories = {"baseline": epoch_rows(2), "<b>wide</b>": epoch_rows(3)}
    fig = compare_runs(histories, "val_loss")
    assert [t.name for t in fig.data] == ["baseline", "&lt;b&gt;wide&lt;/b&gt;"]
    assert len(fig.data[1].x) == 3
    assert fig.layout.yaxis.title.text == "validation loss"


def test_decision_boundary_heatmap_and_point_traces() -> None:
    data = make_xor(n=80)
    grid = decision_grid(nn.Linear(2, 2), data, resolution=30)
    fig = decision_boundary(grid, data, ["neg <i>", "pos"])
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap) and np.asarray(heat.z).shape == (30, 30)
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    names = [t.name for t in fig.data[1:]]
    assert names == ["train: neg &lt;i&gt;", "train: pos", "test: neg &lt;i&gt;", "test: pos"]
    train, test = fig.data[1], fig.data[3]
    assert train.marker.symbol != test.marker.symbol
    assert train.marker.line.color != test.marker.line.color
    assert sum(len(t.x) for t in fig.data[1:3]) == len(data.train)


def test_a_live_boundary_draws_a_bounded_stable_subset_of_the_points() -> None:
    data = make_xor(n=400)  # 400 train + 100 test points
    grid = decision_grid(nn.Linear(2, 2), data, resolution=10)
    full = decision_boundary(grid, data)
    live = decision_boundary(grid, data, max_points=100)
    shown = sum(len(t.x) for t in live.data[1:])
    assert 95 <= shown <= 100 and sum(len(t.x) for t in full.data[1:]) == 500
    assert live.layout.title.text == f"{shown} of 500 points shown while training"
    assert full.layout.title.text is None
    # Both splits keep their share, each point keeps its class colour and position.
    train_live = sum(len(t.x) for t in live.data[1:3])
    assert 75 <= train_live <= 80
    points = {
        (round(x, 6), round(y, 6)) for t in full.data[1:] for x, y in zip(t.x, t.y, strict=True)
    }
    assert all(
        (round(x, 6), round(y, 6)) in points
        for t in live.data[1:]
        for x, y in zip(t.x, t.y, strict=True)
    )
    again = decision_boundary(grid, data, max_points=100)  # the same subset every second
    assert [list(t.x) for t in again.data[1:]] == [list(t.x) for t in live.data[1:]]


def test_thin_rows_keeps_the_ends_and_bounds_the_count() -> None:
    rows = [{"epoch": i} for i in range(1, 1001)]
    thin = thin_rows(rows, 300)
    assert len(thin) == 300 and thin[0] == rows[0] and thin[-1] == rows[-1]
    epochs = [r["epoch"] for r in thin]
    assert epochs == sorted(set(epochs))  # in order, no repeats
    assert max(b - a for a, b in itertools.pairwise(epochs)) <= 4  # evenly spread
    assert thin_rows(rows[:50], 300) == rows[:50]


def test_decision_boundary_for_classes_and_values() -> None:
    data = make_xor(n=40)
    data.task, data.class_names = "multiclass", ["a", "b", "c"]
    values = np.tile(np.array([0, 1, 2, 2]), (4, 1))
    grid = BoundaryGrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 4), values, "class")
    fig = decision_boundary(grid, data)
    assert list(fig.data[0].colorbar.ticktext) == ["a", "b", "c"]
    assert fig.data[0].text[0][3] == "c"

    plane = load_dataset("plane", n_samples=60)
    grid = BoundaryGrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5), np.zeros((5, 5)), "value")
    fig = decision_boundary(grid, plane)
    assert [t.name for t in fig.data[1:]] == ["train", "test"]
    assert fig.data[1].marker.coloraxis == fig.data[0].coloraxis == "coloraxis"


def test_scatter_2d_spiral_shows_every_split_and_class() -> None:
    spiral = load_dataset("spiral", n_samples=200)
    fig = scatter_2d(spiral)
    assert len(fig.data) == 6  # 3 splits x 2 classes
    assert sum(len(t.x) for t in fig.data) == 200
    assert fig.data[0].name == "train: arm A"
    with pytest.raises(ValueError):
        scatter_2d(load_dataset("iris"))


def test_image_grid_digits_is_one_mosaic_with_a_label_per_image() -> None:
    digits = load_dataset("digits")
    fig = image_grid(digits, n=10)
    assert len(fig.data) == 1 and isinstance(fig.data[0], go.Heatmap)
    assert len(fig.layout.annotations) == 10
    labels = [a.text for a in fig.layout.annotations]
    assert labels == [digits.class_names[int(c)] for c in digits.train.y[:10]]
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (2 * 11, 8 * 9)  # 2 rows of 8 tiles: 3 label rows + 8 pixels, 8 + 1 gap
    assert np.nanmax(z) <= 1.0 and np.isnan(z).any()


def test_sequence_plots_for_sine_and_long_memory() -> None:
    sine = load_dataset("sine", n_samples=40, seq_len=16)
    fig = sequence_plot(sine, n=3)
    assert len(fig.data) == 3 and len(fig.data[0].y) == 17  # 16 steps, then the target
    assert list(fig.data[0].y[:16]) == pytest.approx(sine.train.x[0, :, 0].tolist())
    target = sine.train.y[0] * sine.target_std + sine.target_mean
    assert fig.data[0].y[16] == pytest.approx(float(target), rel=1e-5)

    memory = load_dataset("long_memory", n_samples=40, seq_len=10)
    fig = sequence_plot(memory, n=4)
    assert len(fig.data) == 4
    assert list(fig.data[1].y) == memory.train.x[1].argmax(dim=1).tolist()
    assert list(fig.layout.yaxis.ticktext)[-1] == "#"  # the marker token
    assert fig.data[0].name.endswith(memory.class_names[int(memory.train.y[0])])
    tokens = load_dataset("long_memory", n_samples=40, seq_len=10, encoding="tokens")
    assert list(sequence_plot(tokens, n=1).data[0].y) == tokens.train.x[0].tolist()


def test_class_balance_chart_bars_per_split_or_target_histograms() -> None:
    spiral = load_dataset("spiral", n_samples=200)
    fig = class_balance_chart(spiral)
    assert [t.name for t in fig.data] == ["train", "validation", "test"]
    assert list(fig.data[0].y) == [70, 70] and list(fig.data[0].x) == ["arm A", "arm B"]
    sine = class_balance_chart(load_dataset("sine", n_samples=40))
    assert all(isinstance(t, go.Histogram) for t in sine.data) and len(sine.data) == 3


SPEC = parse_layers("linear:8 relu residual[linear:8 tanh] linear")


def test_architecture_dot_names_every_layer_and_escapes_labels() -> None:
    built = build_model(SPEC, make_xor(n=40))
    built.rows[1].label = 'evil "name" <b>\nx\\y {a|b}'
    dot = architecture_dot(built, input_label='my "data"')
    for row in built.rows:
        assert f'"n{row.index.replace(".", "_")}"' in dot or row.kind == "residual"
        assert f"{row.index}  " in dot
    assert 'evil \\"name\\" \\<b\\>\\nx\\\\y \\{a\\|b\\}' in dot
    assert 'label="my \\"data\\"\\n(B, 2)"' in dot
    assert 'subgraph "cluster_n2"' in dot and '"n1" -> "n2_add" [style=dashed' in dot
    # Every line is one statement: no raw newline from a label leaks into the source.
    assert all(line.count('"') % 2 == 0 for line in dot.replace('\\"', "").splitlines())
    assert dot_escape("a&b") == "a&amp;b"


def test_architecture_figure_draws_a_box_per_layer_plus_input_and_add() -> None:
    built = build_model(SPEC, make_xor(n=40))
    fig = architecture_figure(built)
    texts = list(fig.data[0].text)
    assert len(texts) == len(built.rows) + 2  # input box and the residual's add box
    assert texts[0].startswith("input") and texts[-1].startswith("3  Linear")
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == len(texts)
    assert sum(s.type == "path" for s in fig.layout.shapes) == 1  # one skip arrow


def test_real_training_rows_feed_charts_and_health_checks() -> None:
    data = load_dataset("spiral", n_samples=200)
    config = TrainConfig(epochs=2, lr=0.01, batch_size=32, record_every=2, device="cpu")
    trainer = Trainer(data, parse_layers("linear:8 relu linear:8 relu linear"), config)
    state = trainer.run()
    assert state.status == "completed"
    labels = labels_of(trainer.built)
    assert len(training_curves(state.history, "acc").data) == 4
    assert [t.name for t in gradient_norms(state.records, labels).data] == [
        "0 Linear(8)",
        "2 Linear(8)",
        "4 Linear(auto)",
    ]
    assert len(dead_relu_chart(state.history, labels).data) == 2
    kinds = {w.kind for w in gradient_warnings(state.history[-1], labels)}
    assert not kinds & {"vanishing", "exploding"}  # a small healthy MLP
    grid = decision_grid(trainer.model, data, resolution=20)
    assert decision_boundary(grid, data, data.class_names).data[0].z.shape == (20, 20)
