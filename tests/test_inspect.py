"""Inspecting a model: activations, neuron thumbnails, evaluation, the penultimate projection,
and the charts that draw them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from sklearn.metrics import confusion_matrix
from torch import nn

from playground.charts.inspect import (
    activation_distributions,
    class_scores_chart,
    confusion_matrix_chart,
    dead_fraction_chart,
    feature_map_grid,
    misclassified_gallery,
    neuron_thumbnails,
    projection_scatter,
    residual_chart,
)
from playground.data import load_dataset
from playground.data.dataset import Dataset, Split
from playground.errors import PlaygroundError
from playground.inspect import (
    class_report,
    confusion,
    feature_map_rows,
    layer_activations,
    neuron_maps,
    penultimate_projection,
    predict_split,
    worst_errors,
    worst_misclassified,
)
from playground.model.build import BuiltModel, build_model
from playground.model.lookup import module_for_row
from playground.model.presets import PRESETS
from playground.model.shorthand import parse_layers
from playground.runner import load_run, predict_logits
from playground.store import RunStore
from tests.conftest import make_xor
from tests.run_helpers import train_stored


def built_for(layers: str, dataset: Dataset, seed: int = 0) -> BuiltModel:
    torch.manual_seed(seed)
    return build_model(parse_layers(layers), dataset)


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits")


def half_plane(task: str = "multiclass") -> Dataset:
    """Class 1 exactly where x1 > 0 (no point on the boundary); regression target 2 * x1."""
    g = torch.Generator().manual_seed(1)
    x = torch.rand(200, 2, generator=g) * 2 - 1
    x[:, 0] = torch.where(x[:, 0].abs() < 0.05, 0.5, x[:, 0])
    y = 2 * x[:, 0] if task == "regression" else (x[:, 0] > 0).long()
    split = Split(x, y)
    return Dataset(
        name="half_plane",
        params={},
        task=task,  # type: ignore[arg-type]
        kind="toy2d",
        input_shape=(2,),
        feature_names=["x1", "x2"],
        train=split,
        val=split,
        test=split,
        class_names=None if task == "regression" else ["left", "right"],
        target_mean=1.0 if task == "regression" else 0.0,
        target_std=3.0 if task == "regression" else 1.0,
    )


def set_linear(built: BuiltModel, row: str, weight: list[list[float]], bias: list[float]) -> None:
    layer = module_for_row(built, row)
    assert isinstance(layer, nn.Linear)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))


# -- activations ----------------------------------------------------------------------------
def test_every_row_is_captured_with_its_output_shape_in_one_eval_pass() -> None:
    data = make_xor()
    built = built_for(
        "linear:6 relu dropout:0.5 residual[linear:6 tanh linear:6] identity linear", data
    )
    built.module.train()
    acts = layer_activations(built, data, max_rows=50, max_values=100)
    assert [a.index for a in acts.layers] == [r.index for r in built.rows]
    assert "3.1" in [a.index for a in acts.layers]  # residual sub-layers too
    for layer, row in zip(acts.layers, built.rows, strict=True):
        assert layer.output_shape == row.output_shape
        assert len(layer.values) == min(100, 50 * int(np.prod(row.output_shape)))
        assert layer.feature_maps is None
    assert list(acts.rows) == list(range(50))
    assert built.module.training and built.module[2].training  # modes restored
    # Dropout is off: its output equals its input (the ReLU's).
    relu, dropout = acts.layer("1"), acts.layer("2")
    assert dropout.mean == pytest.approx(relu.mean) and dropout.std == pytest.approx(relu.std)


def test_dead_fraction_is_one_for_a_dead_relu_zero_for_a_live_one_and_none_elsewhere() -> None:
    data = make_xor()
    built = built_for("linear:4 relu linear:3 relu identity linear", data)
    set_linear(built, "0", [[0.1, 0.1]] * 4, [-100.0] * 4)  # never positive: all dead
    set_linear(built, "2", [[0.0] * 4] * 3, [5.0] * 3)  # always 5: none dead
    acts = layer_activations(built, data)
    assert acts.layer("1").dead_fraction == 1.0
    assert acts.layer("3").dead_fraction == 0.0
    assert acts.layer("4").dead_fraction is None and acts.layer("0").dead_fraction is None
    fig = dead_fraction_chart(acts)
    assert len(fig.data) == 1 and list(fig.data[0].y) == [1.0, 0.0]
    violins = activation_distributions(acts)
    assert len(violins.data) == len(built.rows)
    assert all(isinstance(t, go.Violin) for t in violins.data)


def test_cnn_feature_maps_are_the_chosen_images_channels(digits: Dataset) -> None:
    built = built_for(PRESETS["cnn"].layers, digits)
    acts = layer_activations(built, digits, indices=[5, 9, 11], example=1)
    assert list(acts.rows) == [5, 9, 11]
    conv = acts.layer("0")
    assert conv.feature_maps is not None and conv.feature_maps.shape == (16, 8, 8)
    first_conv = built.module[0].eval()
    with torch.no_grad():
        expected = first_conv(digits.test.x[9:10])[0].numpy()
    assert np.allclose(conv.feature_maps, expected, atol=1e-5)
    assert acts.layer("6").feature_maps is None  # flatten: a vector, no maps
    fig = feature_map_grid(acts.layer("3"), max_channels=20)
    assert len(fig.data) == 20 and all(isinstance(t, go.Heatmap) for t in fig.data)
    with pytest.raises(ValueError, match="feature maps"):
        feature_map_grid(acts.layer("7"))
    with pytest.raises(PlaygroundError, match="do not exist"):
        layer_activations(built, digits, indices=[10_000])


def _own_square_axes(fig: go.Figure) -> list[str]:
    """The x axis each trace's y axis keeps its scale with; asserts it is the trace's own."""
    anchors = []
    for trace in fig.data:
        suffix = (trace.xaxis or "x").removeprefix("x")
        y = fig.layout[f"yaxis{suffix}"]
        assert y.scaleanchor == f"x{suffix}" and y.constrain == "domain"
        assert fig.layout[f"xaxis{suffix}"].constrain == "domain"
        anchors.append(y.scaleanchor)
    return anchors


def test_feature_maps_come_after_their_input_image_on_one_shared_scale(digits: Dataset) -> None:
    built = built_for(PRESETS["cnn"].layers, digits)
    assert [r.index for r in feature_map_rows(built)] == ["0", "1", "2", "3", "4", "5"]
    assert feature_map_rows(built_for("linear:4 relu linear", make_xor())) == []
    acts = layer_activations(built, digits, indices=[9], split="test")
    assert acts.example_input is not None
    assert np.array_equal(acts.example_input, digits.test.x[9].numpy())
    conv = acts.layer("0")
    fig = feature_map_grid(conv, image=acts.example_input, sample="test row 9, class 3")
    assert len(fig.data) == 1 + 16
    first = fig.data[0]
    assert first.name == "input" and first.coloraxis is None
    assert np.array_equal(np.asarray(first.z), digits.test.x[9, 0].numpy())  # the pixels
    for c, trace in enumerate(fig.data[1:]):
        assert trace.coloraxis == "coloraxis"
        assert np.array_equal(np.asarray(trace.z), conv.feature_maps[c])
    assert fig.layout.coloraxis.colorbar.title.text == "activation"
    assert "test row 9, class 3" in fig.layout.title.text
    # The input sits left of every map, and is bigger than one map (two rows of 8 maps).
    input_x, map_xs = fig.layout.xaxis.domain, [fig.layout[f"xaxis{n}"].domain for n in (2, 17)]
    assert all(input_x[1] < x[0] for x in map_xs)
    assert input_x[1] - input_x[0] > map_xs[0][1] - map_xs[0][0]
    assert len(set(_own_square_axes(fig))) == 17
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == ["input", "ch 0", "ch 1"]
    # Without an image the maps start at the left edge.
    plain_maps = feature_map_grid(conv)
    assert len(plain_maps.data) == 16 and plain_maps.layout.xaxis.domain[0] == 0.0


# -- neurons over the plane -----------------------------------------------------------------
def test_neuron_thumbnails_hold_every_hidden_neuron_as_the_model_computes_it() -> None:
    data = make_xor()
    built = built_for("linear:4 tanh linear:3 relu linear", data)
    maps = neuron_maps(built, data, resolution=12)
    assert [layer.index for layer in maps.layers] == ["1", "3"]
    assert maps.total_units == 4 + 3
    assert maps.layers[0].maps.shape == (4, 12, 12)
    model = built.module.eval()
    for i, j in [(0, 0), (3, 7), (11, 5)]:
        point = torch.tensor([[maps.xs[j], maps.ys[i]]], dtype=torch.float32)
        with torch.no_grad():
            first, second = model[:2](point)[0], model[:4](point)[0]
        assert maps.layers[0].maps[:, i, j] == pytest.approx(first.numpy(), abs=1e-5)
        assert maps.layers[1].maps[:, i, j] == pytest.approx(second.numpy(), abs=1e-5)
    fig = neuron_thumbnails(maps)
    assert len(fig.data) == 7 and all(isinstance(t, go.Heatmap) for t in fig.data)
    assert len(neuron_thumbnails(maps, max_per_layer=2).data) == 4


def test_neuron_thumbnails_have_a_colour_bar_per_layer_and_square_cells() -> None:
    data = make_xor()
    built = built_for("linear:4 tanh linear:10 relu linear", data)
    maps = neuron_maps(built, data, resolution=10)
    fig = neuron_thumbnails(maps, columns=8)
    assert len(fig.data) == 4 + 10
    layer_axes = ["coloraxis", "coloraxis2"]
    assert [t.coloraxis for t in fig.data] == ["coloraxis"] * 4 + ["coloraxis2"] * 10
    for axis, layer in zip(layer_axes, maps.layers, strict=True):
        scale = fig.layout[axis]
        bound = float(np.abs(layer.maps).max())
        assert scale.cmin == pytest.approx(-bound) and scale.cmax == pytest.approx(bound)
        assert scale.showscale is not False
        assert scale.colorbar.title.text == "activation"
        assert list(scale.colorbar.ticktext) == [f"{-bound:.2g}", "0", f"{bound:.2g}"]
    # Each layer's bar stands beside its own rows: the second layer's is lower down.
    assert fig.layout.coloraxis2.colorbar.y < fig.layout.coloraxis.colorbar.y
    headings = [a.text for a in fig.layout.annotations]
    assert headings == ["1 Tanh: 4 neurons", "3 ReLU: 10 neurons"]
    assert len(set(_own_square_axes(fig))) == 14
    # 10 neurons at 8 a row wrap onto a second row, below the first.
    ninth, first = fig.layout["yaxis13"].domain, fig.layout["yaxis5"].domain
    assert ninth[1] < first[0]
    assert fig.layout["xaxis13"].domain == fig.layout["xaxis5"].domain


def test_neuron_thumbnails_need_a_2d_dataset(digits: Dataset) -> None:
    built = built_for("flatten linear:4 relu linear", digits)
    with pytest.raises(PlaygroundError, match="2-D dataset"):
        neuron_maps(built, digits)


# -- evaluation -----------------------------------------------------------------------------
def test_confusion_matrix_and_scores_match_sklearn_and_a_perfect_model() -> None:
    data = make_xor()
    built = built_for("linear:8 relu linear", data)
    pred = predict_split(built, data)
    assert pred.proba is not None and pred.proba.shape == (len(data.test), 2)
    assert pred.proba.sum(axis=1) == pytest.approx(np.ones(len(data.test)))
    conf = confusion(pred)
    assert np.array_equal(conf.counts, confusion_matrix(pred.y_true, pred.y_pred))
    assert conf.normalised.sum(axis=1) == pytest.approx([1.0, 1.0])
    fig = confusion_matrix_chart(conf)
    assert len(fig.data) == 1 and np.asarray(fig.data[0].z).shape == (2, 2)

    plane = half_plane()
    perfect = built_for("linear", plane)
    set_linear(perfect, "0", [[0.0, 0.0], [50.0, 0.0]], [0.0, 0.0])
    report = class_report(predict_split(perfect, plane))
    assert list(report["recall"]) == [1.0, 1.0] and list(report["precision"]) == [1.0, 1.0]
    assert report["support"].sum() == len(plane.test)
    assert len(class_scores_chart(report).data) == 3
    assert worst_misclassified(predict_split(perfect, plane), plane).table.empty


def test_single_logit_models_read_probabilities_through_a_sigmoid() -> None:
    plane = half_plane(task="binary")
    built = built_for("linear:1", plane)
    set_linear(built, "0", [[3.0, 0.0]], [0.5])
    pred = predict_split(built, plane)
    assert pred.proba is not None
    expected = torch.sigmoid(3.0 * plane.test.x[:, 0] + 0.5).numpy()
    assert pred.proba[:, 1] == pytest.approx(expected, abs=1e-6)
    assert np.array_equal(pred.y_pred, (expected > 0.5).astype(int))


def test_worst_mistakes_come_most_confident_first_with_their_features() -> None:
    plane = half_plane(task="binary")
    built = built_for("linear", plane)
    set_linear(built, "0", [[0.0, 0.0], [0.0, 4.0]], [0.0, 0.0])  # looks at the wrong feature
    pred = predict_split(built, plane)
    mis = worst_misclassified(pred, plane, n=5)
    table = mis.table
    assert len(table) == 5 and list(table.columns[:5]) == [
        "row",
        "true",
        "predicted",
        "p_predicted",
        "p_true",
    ]
    assert list(table.columns[5:]) == ["x1", "x2"]
    assert (table["true"] != table["predicted"]).all()
    assert list(table["p_predicted"]) == sorted(table["p_predicted"], reverse=True)
    wrong = pred.y_pred != pred.y_true
    assert table["p_predicted"].iloc[0] == pytest.approx(pred.proba[wrong].max())
    assert np.allclose(table[["x1", "x2"]].to_numpy(), plane.test.x[table["row"]].numpy())
    fig = misclassified_gallery(mis, plane)
    assert len(fig.data) == 1 and isinstance(fig.data[0], go.Table)


def test_regression_reports_its_largest_errors_in_original_units() -> None:
    plane = half_plane(task="regression")
    built = built_for("linear", plane)
    pred = predict_split(built, plane)
    assert pred.proba is None
    logits = predict_logits(built.module, plane.test.x)[:, 0].numpy()
    assert pred.y_pred == pytest.approx(logits * 3.0 + 1.0, abs=1e-5)
    assert pred.y_true == pytest.approx(plane.test.y.numpy() * 3.0 + 1.0, abs=1e-5)
    worst = worst_errors(pred, plane, n=4)
    assert list(worst["abs_error"]) == sorted(worst["abs_error"], reverse=True)
    assert worst["abs_error"].iloc[0] == pytest.approx(np.abs(pred.y_pred - pred.y_true).max())
    assert len(residual_chart(pred, worst).data) == 3
    with pytest.raises(PlaygroundError, match="regression"):
        confusion(pred)


def test_image_mistakes_are_drawn_as_titled_images(digits: Dataset) -> None:
    built = built_for(PRESETS["cnn"].layers, digits)  # untrained: mostly wrong
    mis = worst_misclassified(predict_split(built, digits), digits, n=4)
    assert mis.inputs.shape == (4, 1, 8, 8) and list(mis.table.columns) == [
        "row",
        "true",
        "predicted",
        "p_predicted",
        "p_true",
    ]
    fig = misclassified_gallery(mis, digits)
    assert len(fig.data) == 4 and all(isinstance(t, go.Heatmap) for t in fig.data)
    assert fig.layout.yaxis2.scaleanchor == "x2" and fig.layout.yaxis4.scaleanchor == "x4"
    titles = [a.text for a in fig.layout.annotations]
    first = mis.table.iloc[0]
    assert (
        titles[0]
        == f"true {first['true']}, pred {first['predicted']} (p={first['p_predicted']:.2f})"
    )


# -- penultimate projection -----------------------------------------------------------------
def test_projection_is_n_by_2_with_variance_ratios_in_range(digits: Dataset) -> None:
    built = built_for(PRESETS["cnn"].layers, digits)
    proj = penultimate_projection(built, digits, max_rows=120)
    assert proj.points.shape == (120, 2) and proj.width == 64
    assert proj.layer_index == "9"  # the last Linear reads the 64 ReLU outputs
    ratio = proj.explained_variance_ratio
    assert ((ratio >= 0) & (ratio <= 1)).all() and ratio.sum() <= 1 + 1e-9 and ratio[0] >= ratio[1]
    fig = projection_scatter(proj)
    assert len(fig.data) == len(set(proj.labels.tolist()))
    narrow = penultimate_projection(built_for("linear:1 relu linear", make_xor()), make_xor())
    assert narrow.points.shape == (100, 2) and narrow.explained_variance_ratio[1] == 0.0


# -- sequences and stored runs --------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "preset"), [({}, "lstm"), ({"encoding": "tokens"}, "lstm_tokens")]
)
def test_sequence_models_including_token_inputs_can_be_inspected(params, preset) -> None:
    data = load_dataset("long_memory", n_samples=200, **params)
    built = built_for(PRESETS[preset].layers, data)
    acts = layer_activations(built, data, max_rows=16)
    assert [a.index for a in acts.layers] == [r.index for r in built.rows]
    pred = predict_split(built, data)
    mis = worst_misclassified(pred, data, n=3)
    fig = misclassified_gallery(mis, data)
    assert len(fig.data) == len(mis.table) and all(isinstance(t, go.Scatter) for t in fig.data)
    assert penultimate_projection(built, data).points.shape == (len(data.test), 2)


def test_a_stored_residual_run_is_inspected_after_loading(store: RunStore) -> None:
    outcome, _ = train_stored(
        "moons", {"n_samples": 200}, PRESETS["residual_mlp"].spec(), {"epochs": 3}, store
    )
    assert outcome.state.status == "completed"
    loaded = load_run(outcome.run_id, store)
    acts = layer_activations(loaded.built, loaded.dataset)
    assert {"2.0", "2.1", "4.2"} <= {a.index for a in acts.layers}
    pred = predict_split(loaded.built, loaded.dataset)
    accuracy = float((pred.y_true == pred.y_pred).mean())
    assert accuracy == pytest.approx(outcome.state.final_metrics["test_acc"])
    maps = neuron_maps(loaded.built, loaded.dataset, resolution=10)
    assert maps.total_units == 5 * 32  # top-level and residual ReLUs
    assert penultimate_projection(loaded.built, loaded.dataset).width == 32
