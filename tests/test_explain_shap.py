"""SHAP methods: they find the one feature that decides the label, add up to the output
(exactly for Deep and Permutation, approximately for GradientExplainer), fall back on
layers DeepExplainer cannot handle, honour the background size, and stop when cancelled.

Note: the first PermutationExplainer call in a process compiles shap's numba kernels
(several seconds); everything after is fast.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground.data import load_dataset
from playground.data.dataset import Dataset, Split
from playground.errors import PlaygroundError
from playground.explain.api import explain
from playground.explain.base import METHODS, Cancelled, ExplainRequest
from playground.explain.context import ExplainContext
from playground.explain.summary import global_importance
from playground.explain.trust import completeness_shap
from playground.model.presets import PRESETS
from playground.model.shorthand import parse_layers
from playground.train import TrainConfig, Trainer
from tests.conftest import make_xor

SHAP_METHODS = ("shap_gradient", "shap_deep", "shap_permutation")
EXACT_METHODS = ("shap_deep", "shap_permutation")
# Deep SHAP and permutation SHAP: float32 rounding only.
EXACT_TOL = 1e-3
# GradientExplainer with 200 samples on the XOR MLP: the mean per-sample gap, as a share of
# the largest |f(x) - E[f]|. Measured about 0.05; a broken estimator gives ~1.
SAMPLED_MEAN_TOL = 0.2


def one_feature_dataset(n: int = 300, seed: int = 0) -> Dataset:
    """5 standard-normal features; the label is feature x2 > 0, the others are noise."""
    g = torch.Generator().manual_seed(seed)

    def split(m: int) -> Split:
        x = torch.randn(m, 5, generator=g)
        return Split(x, (x[:, 2] > 0).long())

    return Dataset(
        name="one_feature",
        params={},
        task="binary",
        kind="tabular",
        input_shape=(5,),
        feature_names=[f"x{i}" for i in range(5)],
        train=split(n),
        val=split(n // 4),
        test=split(n // 4),
        class_names=["no", "yes"],
    )


def context(dataset: Dataset, layers: str, epochs: int) -> ExplainContext:
    trainer = Trainer(dataset, parse_layers(layers), TrainConfig(epochs=epochs, lr=0.02, seed=0))
    trainer.run()
    return ExplainContext.of("test", dataset, trainer.built)


@pytest.fixture(scope="module")
def decisive() -> ExplainContext:
    return context(one_feature_dataset(), "linear:16 relu linear", epochs=15)


@pytest.fixture(scope="module", params=[2, 1], ids=["two-logits", "one-logit"])
def xor_mlp(request) -> ExplainContext:
    """A trained XOR MLP with one logit per class, or a single (sigmoid) logit."""
    last = "linear" if request.param == 2 else "linear:1"
    ctx = context(make_xor(400), f"linear:16 relu linear:16 relu {last}", epochs=15)
    assert ctx.output_width == request.param
    return ctx


@pytest.mark.parametrize("method", SHAP_METHODS)
def test_each_method_ranks_the_deciding_feature_first(decisive, method):
    req = ExplainRequest(method, sample_indices=tuple(range(40)), background_size=50)
    attr = explain(decisive, req)
    top = global_importance(attr).iloc[0]
    assert top["feature"] == "x2", global_importance(attr)
    assert attr.values.shape == (40, 5)
    assert attr.expected_value.shape == (40,)


@pytest.mark.parametrize("method", EXACT_METHODS)
def test_exact_methods_add_up_to_the_output(xor_mlp, method):
    req = ExplainRequest(method, sample_indices=tuple(range(30)), background_size=40)
    attr = explain(xor_mlp, req)
    gap = attr.values.sum(axis=1) + attr.expected_value - attr.outputs
    assert np.abs(gap).max() < EXACT_TOL
    check = completeness_shap(attr)
    assert check["passed"] and check["exact"], check["detail"]
    # outputs are the explained column of the real model output
    x = torch.as_tensor(attr.inputs)
    logits = xor_mlp.outputs(x).numpy()
    np.testing.assert_allclose(attr.outputs, logits[np.arange(30), attr.targets], rtol=1e-5)
    if xor_mlp.output_width == 1:
        assert (attr.targets == 0).all()
    else:
        np.testing.assert_array_equal(attr.targets, logits.argmax(axis=1))


def test_gradient_explainer_adds_up_only_approximately(xor_mlp):
    req = ExplainRequest("shap_gradient", sample_indices=tuple(range(30)), n_samples=200)
    attr = explain(xor_mlp, req)
    gap = np.abs(attr.values.sum(axis=1) + attr.expected_value - attr.outputs)
    spread = np.abs(attr.outputs - attr.expected_value).max()
    assert gap.mean() < SAMPLED_MEAN_TOL * spread
    check = completeness_shap(attr)
    assert not check["exact"] and check["passed"], check["detail"]


def test_chosen_target_class_is_explained(decisive):
    attr = explain(decisive, ExplainRequest("shap_deep", sample_indices=(0, 1, 2), target=1))
    assert (attr.targets == 1).all()
    gap = attr.values.sum(axis=1) + attr.expected_value - attr.outputs
    assert np.abs(gap).max() < EXACT_TOL


@pytest.mark.parametrize("method", SHAP_METHODS)
def test_background_size_is_honoured(decisive, method):
    req = ExplainRequest(method, sample_indices=(0, 1, 2), background_size=7, seed=3)
    attr = explain(decisive, req)
    assert attr.params["background_size"] == 7
    background = decisive.background(7, seed=3)
    mean = decisive.outputs(background).mean(dim=0).numpy()
    np.testing.assert_allclose(attr.expected_value, mean[attr.targets], rtol=1e-4, atol=1e-5)


def test_same_request_gives_the_same_values(decisive):
    req = ExplainRequest("shap_gradient", sample_indices=(0, 1, 2, 3), n_samples=10, seed=1)
    first, second = explain(decisive, req), explain(decisive, req)
    np.testing.assert_array_equal(first.values, second.values)


@pytest.fixture(scope="module")
def lstm() -> ExplainContext:
    data = load_dataset("long_memory", n_samples=200, seq_len=8)
    trainer = Trainer(data, PRESETS["lstm"].spec(), TrainConfig(epochs=1, seed=0))
    return ExplainContext.of("lstm", data, trainer.built)


def test_deep_explainer_on_lstm_falls_back_with_a_note(lstm):
    seen: list[float] = []
    req = ExplainRequest("shap_deep", sample_indices=tuple(range(30)), background_size=20)
    attr = explain(lstm, req, lambda fraction, message: seen.append(fraction))
    assert seen == sorted(seen) and seen[-1] == 1.0  # the fallback continues, never restarts
    assert attr.params["explainer"] == "GradientExplainer"
    assert attr.values.shape == (30, 8, 8)
    note = attr.notes[0]
    assert "lstm" in note and "GradientExplainer" in note
    assert not completeness_shap(attr)["exact"]


def test_token_model_is_explained_through_its_embedding():
    data = load_dataset("long_memory", n_samples=200, seq_len=8, encoding="tokens")
    ctx = ExplainContext.of(
        "tok", data, Trainer(data, PRESETS["lstm_tokens"].spec(), TrainConfig(epochs=1)).built
    )
    attr = explain(ctx, ExplainRequest("shap_gradient", sample_indices=(0, 1), background_size=10))
    assert attr.values.shape == (2, 8)  # one value per token
    assert attr.inputs.dtype == np.int64
    assert any("Embedding" in n for n in attr.notes)


def test_permutation_refuses_sequences(lstm):
    with pytest.raises(PlaygroundError, match="tabular"):
        METHODS["shap_permutation"].fn(lstm, ExplainRequest("shap_permutation"), None)


@pytest.mark.parametrize("method", SHAP_METHODS)
def test_cancel_stops_the_method(decisive, method):
    calls = []

    def progress(fraction: float, message: str) -> None:
        calls.append(fraction)
        if len(calls) == 2:
            raise Cancelled

    req = ExplainRequest(method, sample_indices=tuple(range(40)), background_size=10)
    with pytest.raises(Cancelled):
        explain(decisive, req, progress)
    assert calls == sorted(calls)  # progress only moves forward
