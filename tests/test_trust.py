"""Trust checks: rank agreement between methods, Captum infidelity / sensitivity, and the
SHAP additivity check."""

from __future__ import annotations

import numpy as np
import pytest

from playground.errors import PlaygroundError
from playground.explain.base import Attribution, ExplainRequest
from playground.explain.context import ExplainContext
from playground.explain.trust import (
    completeness_shap,
    importance_table,
    infidelity_and_sensitivity,
    rank_agreement,
)
from playground.model.shorthand import parse_layers
from playground.train import TrainConfig, Trainer
from tests.conftest import make_xor

NAMES = ["a", "b", "c", "d"]


def attribution(values, method: str = "m", names=NAMES, **extra) -> Attribution:
    """A hand-made tabular Attribution (N, F) for the pure checks."""
    values = np.asarray(values, dtype=np.float32)
    n = values.shape[0]
    fields = {
        "inputs": np.zeros_like(values),
        "sample_indices": np.arange(n),
        "targets": np.zeros(n, dtype=np.int64),
        "outputs": np.zeros(n, dtype=np.float32),
        "labels": np.zeros(n, dtype=np.int64),
        **extra,
    }
    return Attribution(
        method, method, values, feature_names=list(names), data_kind="tabular", **fields
    )


def test_a_method_agrees_perfectly_with_itself():
    rng = np.random.default_rng(0)
    attr = attribution(rng.normal(size=(20, 4)) * [4, 3, 2, 1], "ig")
    rankings, corr = rank_agreement([attr, attr])
    assert list(corr.columns) == ["ig", "ig #2"]
    np.testing.assert_allclose(corr.to_numpy(), 1.0)
    assert list(rankings.index) == NAMES  # a has the largest spread, ranked 1
    assert rankings.loc["a", "ig"] == 1 and rankings.loc["d", "ig"] == 4


def test_opposite_orderings_correlate_minus_one():
    up = attribution(np.tile([1.0, 2.0, 3.0, 4.0], (5, 1)), "up")
    down = attribution(np.tile([-4.0, 3.0, -2.0, 1.0], (5, 1)), "down")  # |.| reversed
    rankings, corr = rank_agreement([up, down])
    assert corr.loc["up", "down"] == pytest.approx(-1.0)
    assert rankings.loc["d", "up"] == 1 and rankings.loc["d", "down"] == 4


def test_one_hot_groups_are_ranked_as_one_feature():
    names = ["age", "color=red", "color=blue"]
    groups = {"age": "age", "color=red": "color", "color=blue": "color"}
    attr = attribution([[1.0, 0.7, 0.6], [1.0, 0.7, 0.6]], names=names)
    table = importance_table([attr], groups)
    assert list(table.index) == ["color", "age"]  # 0.7 + 0.6 > 1.0
    assert table.loc["color", "m"] == pytest.approx(1.3)


def test_explanations_of_different_features_are_refused():
    with pytest.raises(PlaygroundError, match="same features"):
        rank_agreement(
            [attribution(np.ones((2, 4))), attribution(np.ones((2, 2)), names=["a", "x"])]
        )


def test_completeness_shap_passes_exact_sums_and_catches_a_gap():
    values = np.array([[1.0, 2.0, -0.5, 0.0], [0.1, 0.2, 0.3, 0.4]])
    expected = np.array([0.5, -1.0], dtype=np.float32)
    outputs = (values.sum(axis=1) + expected).astype(np.float32)
    good = attribution(values, outputs=outputs, expected_value=expected, params={"exact": True})
    check = completeness_shap(good)
    assert check["passed"] and check["max_abs_error"] < 1e-6
    assert {"check", "max_abs_error", "tolerance", "passed", "detail"} <= set(check)
    shifted = outputs + np.array([0.0, 0.1], dtype=np.float32)
    bad = attribution(values, outputs=shifted, expected_value=expected)
    check = completeness_shap(bad)
    assert not check["passed"] and check["max_abs_error"] == pytest.approx(0.1, rel=1e-5)
    assert "0.1" in check["detail"]


def test_completeness_shap_needs_an_expected_value():
    with pytest.raises(PlaygroundError, match="expected value"):
        completeness_shap(attribution(np.ones((2, 4))))


def trained(layers: str, epochs: int) -> ExplainContext:
    data = make_xor(300)
    trainer = Trainer(data, parse_layers(layers), TrainConfig(epochs=epochs, lr=0.02, seed=0))
    trainer.run()
    return ExplainContext.of("xor", data, trainer.built)


@pytest.fixture(scope="module")
def mlp() -> ExplainContext:
    return trained("linear:16 relu linear:16 relu linear", epochs=10)


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "feature_ablation"])
def test_infidelity_and_sensitivity_are_finite_and_non_negative(mlp, method):
    req = ExplainRequest(method, sample_indices=tuple(range(12)), n_steps=20)
    result = infidelity_and_sensitivity(mlp, req, n_perturb=5)
    assert result["available"]
    for key in ("infidelity", "sensitivity"):
        values = result[key]
        assert values.shape == (12,)
        assert np.isfinite(values).all() and (values >= 0).all()
        assert result[f"{key}_mean"] == pytest.approx(values.mean())
    assert "lower is better" in result["interpretation"].lower()


def test_integrated_gradients_on_a_linear_model_is_stable_and_faithful():
    linear = trained("linear", epochs=3)
    req = ExplainRequest("integrated_gradients", sample_indices=tuple(range(12)), n_steps=20)
    result = infidelity_and_sensitivity(linear, req, n_perturb=5, radius=0.02)
    # IG of a linear model is w * (x - baseline): a 0.02 nudge moves it by ~2% of |x|.
    assert result["sensitivity_mean"] < 0.1
    assert result["infidelity_mean"] < 1e-6  # exactly linear: attributions predict changes


def test_shap_methods_are_reported_as_not_available(mlp):
    result = infidelity_and_sensitivity(mlp, ExplainRequest("shap_deep"))
    assert result["available"] is False and "SHAP" in result["reason"]
