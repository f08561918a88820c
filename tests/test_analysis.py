"""Analysis: decision grids, gradient health warnings, dataset tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from playground.analysis.boundary import decision_grid
from playground.analysis.data_summary import (
    class_balance,
    column_summary,
    dataset_frame,
    missing_values,
)
from playground.analysis.health import gradient_warnings
from playground.data import load_dataset
from playground.data.dataset import Dataset, Split
from tests.conftest import make_xor


def plane_dataset(task: str = "binary", classes: int = 2) -> Dataset:
    """Points on [-1, 1]^2 (corners included, so the grid range is known)."""
    x = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [-0.5, 0.5], [0.5, -0.5]])
    y = torch.zeros(4) if task == "regression" else torch.tensor([0, 1, 0, 1])
    split = Split(x, y)
    return Dataset(
        name="plane_test",
        params={},
        task=task,  # type: ignore[arg-type]
        kind="toy2d",
        input_shape=(2,),
        feature_names=["x1", "x2"],
        train=split,
        val=split,
        test=split,
        class_names=None if task == "regression" else [f"c{k}" for k in range(classes)],
    )


def linear(weight: list[list[float]], bias: list[float] | None = None) -> nn.Linear:
    layer = nn.Linear(2, len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias or [0.0] * len(weight)))
    return layer


def test_binary_grid_is_class_1_exactly_on_the_right_half_in_one_eval_pass() -> None:
    # logit(class 1) - logit(class 0) = 4 * x1: class 1 wherever x1 > 0.
    model = nn.Sequential(linear([[0.0, 0.0], [4.0, 0.0]]), nn.Dropout(0.5))
    model.train()
    calls: list[bool] = []
    model.register_forward_hook(lambda m, _i, _o: calls.append(m[1].training))
    grid = decision_grid(model, plane_dataset(), resolution=41, padding=0.1)
    assert calls == [False]  # one batched pass, in eval mode (dropout off)
    assert model.training and model[1].training  # mode restored
    assert grid.kind == "probability"
    assert grid.values.shape == (41, 41)
    assert grid.xs[0] == pytest.approx(-1.2) and grid.xs[-1] == pytest.approx(1.2)
    right, left = grid.xs > 1e-9, grid.xs < -1e-9
    assert (grid.values[:, right] > 0.5).all()
    assert (grid.values[:, left] < 0.5).all()
    assert np.allclose(grid.values[:, grid.xs.size // 2], 0.5)  # x1 == 0 is the boundary
    # values[i, j] is the point (xs[j], ys[i]): a row is constant along y for this model.
    assert np.allclose(grid.values[0], grid.values[-1])


def test_single_logit_binary_uses_a_sigmoid_and_restores_eval_mode() -> None:
    model = linear([[0.0, 3.0]])  # class 1 where x2 > 0
    model.eval()
    grid = decision_grid(model, plane_dataset(), resolution=20)
    assert not model.training
    top = grid.ys > 0
    assert (grid.values[top] > 0.5).all() and (grid.values[~top] < 0.5).all()
    x, y = grid.xs[3], grid.ys[17]
    assert grid.values[17, 3] == pytest.approx(1 / (1 + math.exp(-3 * y)), rel=1e-5)
    assert x != y


def test_multiclass_grid_holds_class_indices_and_regression_original_units() -> None:
    three = linear([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])  # 0 left, 2 right, 1 never wins
    grid = decision_grid(three, plane_dataset("multiclass", 3), resolution=10)
    assert grid.kind == "class"
    assert set(np.unique(grid.values)) == {0, 2}
    assert (grid.values[:, grid.xs > 0] == 2).all()

    data = plane_dataset("regression")
    data.target_mean, data.target_std = 10.0, 2.0
    grid = decision_grid(linear([[1.0, 1.0]]), data, resolution=5, padding=0.0)
    assert grid.kind == "value"
    assert grid.values[0, 0] == pytest.approx(10.0 + 2.0 * (-2.0))  # (x1 + x2) at (-1, -1)
    assert grid.values[-1, -1] == pytest.approx(14.0)


def test_decision_grid_refuses_data_that_is_not_two_dimensional() -> None:
    digits = load_dataset("digits")
    with pytest.raises(ValueError, match="exactly 2 real-valued input features"):
        decision_grid(nn.Flatten(), digits)


def test_decision_grid_on_a_registry_dataset_covers_every_split() -> None:
    data = make_xor(n=80)
    grid = decision_grid(nn.Sequential(linear([[1.0, 0.0], [0.0, 1.0]])), data, resolution=8)
    all_x = torch.cat([data.train.x, data.val.x, data.test.x])
    assert grid.xs[0] < all_x[:, 0].min() and grid.xs[-1] > all_x[:, 0].max()
    assert grid.ys[0] < all_x[:, 1].min() and grid.ys[-1] > all_x[:, 1].max()


LABELS = {"0": "Linear(32)", "2": "Linear(32)", "4": "Linear(auto)", "1": "ReLU", "3": "ReLU"}


def test_healthy_row_gives_no_warnings() -> None:
    row = {"grad_norms": {"0": 0.3, "2": 0.05, "4": 0.8}, "dead_relu": {"1": 0.1, "3": 0.49}}
    assert gradient_warnings(row, LABELS) == []


def test_vanishing_gradients_name_the_layers_absolutely_and_relatively() -> None:
    row = {"grad_norms": {"0": 3e-7, "2": 2e-6, "4": 0.5}}
    (warning,) = gradient_warnings(row, LABELS)
    assert warning.kind == "vanishing" and warning.level == "warning"
    assert warning.layers == ("0", "2")
    assert "layers 0 (Linear(32)), 2 (Linear(32))" in warning.text
    assert "below 1e-05" in warning.text and "ReLU instead of Sigmoid" in warning.text
    # Above 1e-5 but 10,000x smaller than the largest layer: still vanishing.
    (relative,) = gradient_warnings({"grad_norms": {"0": 1e-4, "4": 1.0}})
    assert relative.layers == ("0",)
    assert "1000x smaller than that of layer 4" in relative.text


def test_exploding_and_non_finite_gradients() -> None:
    found = gradient_warnings({"grad_norms": {"0": 5e4, "2": float("nan"), "4": 20.0}}, LABELS)
    assert [(w.kind, w.level, w.layers) for w in found] == [
        ("exploding", "error", ("2",)),
        ("exploding", "warning", ("0",)),
    ]
    assert "not finite" in found[0].text and "layer 2 (Linear(32))" in found[0].text
    assert "above 1000" in found[1].text and "learning rate" in found[1].text


def test_dead_relu_fractions_warn_then_error() -> None:
    row = {"grad_norms": {"0": 0.2}, "dead_relu": {"1": 0.6, "3": 0.95, "5": 0.2}}
    found = gradient_warnings(row, LABELS)
    assert [(w.level, w.layers) for w in found] == [("error", ("3",)), ("warning", ("1",))]
    assert "95%" in found[0].text and "layer 3 (ReLU)" in found[0].text
    assert "LeakyReLU" in found[1].text


def test_warnings_without_labels_use_bare_indices_in_model_order() -> None:
    (warning,) = gradient_warnings({"grad_norms": {"10": 0.0, "2": 0.0, "2.1": 0.0, "3": 1.0}})
    assert warning.layers == ("2", "2.1", "10")
    assert "layers 2, 2.1, 10:" in warning.text


def test_column_summary_numbers() -> None:
    df = pd.DataFrame(
        {
            "age": [20.0, 30.0, None, 50.0],
            "city": ["Oslo", "Rome", "Oslo", None],
            "member": [True, False, True, True],
        }
    )
    table = column_summary(df).set_index("column")
    age, city, member = table.loc["age"], table.loc["city"], table.loc["member"]
    assert (age["type"], age["missing"], age["unique"]) == ("numeric", 1, 3)
    assert age["mean"] == pytest.approx(100 / 3)
    assert age["std"] == pytest.approx(np.std([20, 30, 50], ddof=1))
    assert (age["min"], age["max"]) == (20.0, 50.0)
    assert (city["type"], city["missing"], city["unique"], city["top"]) == (
        "categorical",
        1,
        2,
        "Oslo",
    )
    assert math.isnan(city["mean"])
    assert (member["type"], member["top"]) == ("categorical", "True")


def test_class_balance_counts_every_split() -> None:
    data = make_xor(n=40)
    table = class_balance(data)
    assert list(table.columns) == ["class", "train", "val", "test", "total", "share"]
    assert list(table["class"]) == data.class_names
    assert table["train"].sum() == 40 and table["val"].sum() == 10 and table["test"].sum() == 10
    assert table["share"].sum() == pytest.approx(1.0)
    assert table.loc[1, "train"] == int(data.train.y.sum())
    with pytest.raises(ValueError, match="regression"):
        class_balance(plane_dataset("regression"))


def test_dataset_frame_has_named_features_and_class_names() -> None:
    iris = load_dataset("iris")
    frame = dataset_frame(iris, "val", limit=5)
    assert list(frame.columns) == [*iris.feature_names, "class"]
    assert len(frame) == 5
    assert frame["class"].tolist() == [iris.class_names[int(c)] for c in iris.val.y[:5]]
    # Measurements in centimetres as shipped, not standardised; the encoding on request.
    assert frame.iloc[:, 0].between(4.0, 8.0).all()
    encoded = dataset_frame(iris, "val", rows=[3, 1], encoded=True)
    assert list(encoded.index) == [3, 1]
    assert encoded.iloc[0, 0] == pytest.approx(float(iris.val.x[3, 0]))
    with pytest.raises(ValueError, match="table view"):
        dataset_frame(load_dataset("sine", n_samples=40))


def test_overfitting_is_pointed_out_only_when_validation_turns_up_and_training_falls() -> None:
    from playground.analysis.overfitting import overfitting_warning

    def rows(val: list[float], train: list[float]) -> list[dict]:
        return [
            {"epoch": i + 1, "val_loss": v, "train_loss": t}
            for i, (v, t) in enumerate(zip(val, train, strict=True))
        ]

    falling = [1.0 - 0.05 * i for i in range(12)]
    overfit = rows([0.9, 0.6, 0.5, 0.52, 0.55, 0.58, 0.6, 0.63, 0.66, 0.7, 0.72, 0.75], falling)
    warning = overfitting_warning(overfit)
    assert warning is not None and warning.kind == "overfitting"
    assert "rose from 0.5 (epoch 3) to 0.75" in warning.text and "dropout" in warning.text
    # Validation still improving, a small wobble, too soon, or both losses rising: no warning.
    assert overfitting_warning(rows([1.0 - 0.04 * i for i in range(12)], falling)) is None
    wobble = [0.5, 0.45, 0.4, 0.41, 0.42, 0.41, 0.42, 0.43, 0.42, 0.41, 0.42, 0.43]
    assert overfitting_warning(rows(wobble, falling)) is None
    assert overfitting_warning(overfit[:5]) is None
    rising = [0.5 + 0.05 * i for i in range(12)]
    assert overfitting_warning(rows(rising, rising)) is None
    # A tiny validation loss that wobbles up yet stays below the training loss (seen live on
    # the spiral: 0.0056 -> 0.0062 against 0.021) is not memorising.
    below = [
        0.02,
        0.01,
        0.0056,
        0.0058,
        0.006,
        0.0059,
        0.006,
        0.0061,
        0.006,
        0.0062,
        0.0062,
        0.0062,
    ]
    assert overfitting_warning(rows(below, [t * 0.03 + 0.02 for t in falling])) is None


def test_missing_values_say_how_each_column_is_handled(tmp_path) -> None:
    rng = np.random.default_rng(0)
    age = rng.integers(18, 80, 40).astype(float)
    age[[1, 2]] = np.nan
    port = rng.choice(["S", "C"], 40, p=[0.8, 0.2]).astype(object)
    port[7] = None
    frame = pd.DataFrame({"age": age, "port": port, "y": rng.choice(["a", "b"], 40)})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    filled = missing_values(load_dataset("csv", path=str(path), target="y")).set_index("column")
    assert filled.loc["age", "missing"] == 2 and filled.loc["port", "missing"] == 1
    assert "median" in filled.loc["age", "handled"]
    assert filled.loc["port", "handled"] == "filled with the most frequent value, 'S'"
    dropped = load_dataset("csv", path=str(path), target="y", missing="drop")
    assert set(missing_values(dropped)["handled"]) == {"rows dropped"}
    assert missing_values(load_dataset("iris")).empty
