"""Captum explanations: exact on linear models, right on a one-feature rule, complete,
shaped for images / layers / sequences / tokens, cached per weights, and clear errors."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.explain import (
    METHODS,
    Cancelled,
    ExplainContext,
    ExplainRequest,
    available_methods,
    context_for_run,
    explain,
    explain_cached,
)
from playground.explain.summary import (
    completeness,
    feature_table,
    global_importance,
    image_attribution,
    numeric_values,
    time_step_attribution,
)
from playground.model import build_model
from playground.model.presets import PRESETS
from playground.model.shorthand import parse_layers
from playground.store import RunStore
from tests.conftest import make_xor
from tests.run_helpers import train_stored

# Captum's DeepLift announces every time that it hooks the activations.
pytestmark = pytest.mark.filterwarnings("ignore:Setting forward, backward hooks:UserWarning")
CAPTUM = sorted(name for name, info in METHODS.items() if info.family == "captum")
ROWS = tuple(range(24))


def untrained(dataset, layers: str, seed: int = 0) -> ExplainContext:
    torch.manual_seed(seed)
    spec = PRESETS[layers].spec() if layers in PRESETS else parse_layers(layers)
    return ExplainContext.of("untrained", dataset, build_model(spec, dataset))


def write_one_feature_csv(path, n: int = 400, seed: int = 0) -> None:
    """Five numeric features and a noise category; the label is feature f2 > 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    lines = ["f0,f1,f2,f3,f4,color,label"]
    colors = rng.choice(["red", "green", "blue"], size=n)
    for row, color in zip(x, colors, strict=True):
        lines.append(",".join(f"{v:.4f}" for v in row) + f",{color},{int(row[2] > 0)}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def one_feature(tmp_path_factory) -> tuple[RunStore, str]:
    """A small MLP trained on the one-feature CSV, stored as a run."""
    root = tmp_path_factory.mktemp("explain")
    csv = root / "one_feature.csv"
    write_one_feature_csv(csv)
    store = RunStore(root / "data")
    outcome, _ = train_stored(
        "csv",
        {"path": str(csv), "target": "label"},
        parse_layers("linear:16 relu linear:16 relu linear"),
        {"epochs": 12, "batch_size": 32, "lr": 0.01, "seed": 0},
        store,
    )
    assert outcome.state.final_metrics["test_acc"] > 0.9
    return store, outcome.run_id


@pytest.fixture(scope="module")
def one_feature_ctx(one_feature) -> ExplainContext:
    store, run_id = one_feature
    return context_for_run(run_id, store)


@pytest.fixture(scope="module")
def digits_cnn(tmp_path_factory) -> ExplainContext:
    """The "cnn" preset trained briefly on digits (1x8x8 images)."""
    store = RunStore(tmp_path_factory.mktemp("cnn"))
    outcome, _ = train_stored(
        "digits", {}, PRESETS["cnn"].spec(), {"epochs": 2, "batch_size": 64}, store
    )
    return context_for_run(outcome.run_id, store)


def test_integrated_gradients_raises_its_steps_until_the_attributions_add_up(
    one_feature_ctx: ExplainContext,
) -> None:
    few = explain(
        one_feature_ctx,
        ExplainRequest("integrated_gradients", sample_indices=tuple(range(40)), n_steps=2),
    )
    assert few.params["n_steps"] > 2
    assert completeness(few)["passed"]
    assert any(note.startswith("Raised the steps from 2 to") for note in few.notes)
    enough = explain(
        one_feature_ctx,
        ExplainRequest("integrated_gradients", sample_indices=tuple(range(40)), n_steps=200),
    )
    assert enough.params["n_steps"] == 200 and not enough.notes  # passing: left as asked


# ------------------------------------------------------------------ exactness on linear models


@pytest.mark.parametrize("layers", ["linear", "linear:1"])
def test_integrated_gradients_on_a_linear_model_is_weight_times_input(layers: str) -> None:
    ctx = untrained(make_xor(n=200), layers, seed=3)
    layer = ctx.built.module[0]
    attr = explain(ctx, ExplainRequest("integrated_gradients", sample_indices=ROWS, n_steps=8))
    x = ctx.dataset.test.x[list(ROWS)].double()
    w = layer.weight.detach().double()[torch.as_tensor(attr.targets)]
    np.testing.assert_allclose(attr.values, (w * x).numpy(), rtol=1e-5, atol=1e-6)
    # f(x) - f(0) for a linear model is exactly W x, and IG's delta says so.
    assert np.abs(attr.delta).max() < 1e-5
    assert completeness(attr, tolerance=1e-5)["passed"]
    if layers == "linear":  # two logits: the predicted class is the explained column
        logits = ctx.outputs(ctx.dataset.test.x[list(ROWS)])
        assert (attr.targets == logits.argmax(1).numpy()).all()


# ------------------------------------------------------------------ the deciding feature


@pytest.mark.parametrize("name", CAPTUM)
def test_every_per_feature_method_ranks_the_deciding_feature_first(
    name: str, one_feature_ctx: ExplainContext
) -> None:
    ctx = one_feature_ctx
    if METHODS[name] not in available_methods(ctx):
        assert name in {"grad_cam", "occlusion"}  # image / sequence only
        return
    request = ExplainRequest(name, sample_indices=tuple(range(40)), n_steps=24, n_samples=8)
    if name == "neuron_conductance":
        # The hidden unit carrying most of the output: the deciding feature must drive it.
        layer = explain(
            ctx, ExplainRequest("layer_conductance", sample_indices=request.sample_indices)
        )
        busiest = int(np.abs(layer.values).mean(axis=0).argmax())
        request = ExplainRequest(
            name, sample_indices=request.sample_indices, layer=layer.params["layer"], neuron=busiest
        )
    attr = explain(ctx, request)
    if attr.layer_map:  # layer conductance: one value per hidden unit, not per feature
        assert attr.values.shape == (40, 16)
        return
    ranking = global_importance(attr, ctx.dataset.feature_groups)
    assert ranking.loc[0, "feature"] == "f2", ranking.head(3)
    assert set(ranking["feature"]) == {"f0", "f1", "f2", "f3", "f4", "color"}


def test_one_hot_grouping_keeps_the_total(one_feature_ctx: ExplainContext) -> None:
    ctx = one_feature_ctx
    groups = ctx.dataset.feature_groups
    assert sum(1 for v in groups.values() if v == "color") == 3
    for name in ("integrated_gradients", "feature_ablation"):
        attr = explain(ctx, ExplainRequest(name, sample_indices=ROWS, baseline="mean"))
        flat, _ = feature_table(attr)
        grouped, values = feature_table(attr, groups)
        assert list(grouped.columns) == ["f0", "f1", "f2", "f3", "f4", "color"]
        np.testing.assert_allclose(grouped.sum(axis=1), flat.sum(axis=1), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            grouped["color"], flat.filter(like="color=").sum(axis=1), rtol=1e-5, atol=1e-6
        )
        assert set(values["color"]) <= {"red", "green", "blue"}
        np.testing.assert_allclose(
            values["f2"], attr.inputs[:, ctx.dataset.feature_names.index("f2")]
        )
        # What the beeswarm and dependence plot colour by: numbers stay numbers (they were
        # all NaN once), the category column has no number to show.
        colours = numeric_values(values)
        f2 = list(values.columns).index("f2")
        np.testing.assert_allclose(colours[:, f2], values["f2"].to_numpy(dtype=float))
        assert np.isnan(colours[:, list(values.columns).index("color")]).all()
        assert not np.isnan(np.delete(colours, list(values.columns).index("color"), 1)).any()


def test_feature_ablation_removes_a_whole_one_hot_group_at_once(one_feature_ctx) -> None:
    ctx = one_feature_ctx
    attr = explain(ctx, ExplainRequest("feature_ablation", sample_indices=ROWS))
    names = ctx.dataset.feature_names
    color = [names.index(n) for n in names if n.startswith("color=")]
    # The group's effect is shared evenly: its columns hold equal values per sample.
    block = attr.values[:, color]
    np.testing.assert_allclose(block, block[:, :1].repeat(len(color), axis=1), rtol=1e-6)
    assert attr.notes and "one-hot" in attr.notes[0]


# ------------------------------------------------------------------ completeness


def test_integrated_gradients_adds_up_to_the_output_difference_on_a_trained_mlp(
    one_feature_ctx: ExplainContext,
) -> None:
    attr = explain(
        one_feature_ctx,
        ExplainRequest("integrated_gradients", sample_indices=tuple(range(40)), n_steps=64),
    )
    check = completeness(attr, tolerance=0.01)  # 1% of the mean |f(x) - f(0)|
    assert check["passed"], check
    assert np.allclose(check["total"] - check["expected"], attr.delta, atol=1e-4)
    assert np.abs(check["expected"]).mean() > 0.5  # a real difference was explained


def test_layer_conductance_adds_up_and_has_the_layer_shape(one_feature_ctx) -> None:
    ctx = one_feature_ctx
    attr = explain(
        ctx, ExplainRequest("layer_conductance", sample_indices=ROWS, layer="1", n_steps=64)
    )
    assert attr.layer_map and attr.values.shape == (len(ROWS), 16)
    assert attr.feature_names[:2] == ["unit 0", "unit 1"] and len(attr.feature_names) == 16
    assert completeness(attr, tolerance=0.02)["passed"]


def test_neuron_conductance_is_input_shaped_and_checks_the_unit(one_feature_ctx) -> None:
    ctx = one_feature_ctx
    attr = explain(
        ctx, ExplainRequest("neuron_conductance", sample_indices=ROWS, layer="2", neuron=5)
    )
    assert attr.values.shape == (len(ROWS), len(ctx.dataset.feature_names))
    assert not attr.layer_map and attr.params["neuron"] == 5
    with pytest.raises(PlaygroundError) as err:
        explain(ctx, ExplainRequest("neuron_conductance", layer="2", neuron=16))
    assert "0 and 15" in err.value.hint


# ------------------------------------------------------------------ images


def test_grad_cam_on_the_digits_cnn_is_an_image_sized_map(digits_cnn: ExplainContext) -> None:
    attr = explain(digits_cnn, ExplainRequest("grad_cam", sample_indices=ROWS))
    assert attr.values.shape == (len(ROWS), 8, 8) and attr.layer_map
    assert attr.params["layer"] == "3"  # default: the last Conv2d
    assert (attr.values >= 0).all() and attr.values.max() > 0  # ReLU'd, not empty
    assert image_attribution(attr).shape == (len(ROWS), 8, 8)
    first = explain(digits_cnn, ExplainRequest("grad_cam", sample_indices=ROWS, layer="0"))
    assert first.values.shape == (len(ROWS), 8, 8)
    with pytest.raises(PlaygroundError) as err:
        explain(digits_cnn, ExplainRequest("grad_cam", layer="7"))  # a Linear layer
    assert "0 (" in err.value.hint and "3 (" in err.value.hint


def test_image_methods_keep_the_input_shape(digits_cnn: ExplainContext) -> None:
    names = [m.name for m in available_methods(digits_cnn)]
    assert "grad_cam" in names and "occlusion" in names and "feature_ablation" not in names
    occlusion = explain(digits_cnn, ExplainRequest("occlusion", sample_indices=(0, 1), window=2))
    assert occlusion.values.shape == (2, 1, 8, 8)
    conductance = explain(
        digits_cnn, ExplainRequest("layer_conductance", sample_indices=(0, 1), layer="3", n_steps=8)
    )
    assert conductance.values.shape == (2, 32, 4, 4)


# ------------------------------------------------------------------ sequences and tokens


def test_time_step_attribution_on_a_long_memory_lstm() -> None:
    data = load_dataset("long_memory", n_samples=200, seq_len=12, seed=0)
    ctx = untrained(data, "lstm")
    for name in ("integrated_gradients", "occlusion", "deeplift"):
        attr = explain(ctx, ExplainRequest(name, sample_indices=ROWS[:8], n_steps=16))
        assert attr.values.shape == (8, 12, 8)
        steps = time_step_attribution(attr)
        assert steps.shape == (8, 12)
        np.testing.assert_allclose(
            steps.sum(axis=1), attr.values.sum(axis=(1, 2)), rtol=1e-5, atol=1e-6
        )
    assert "recurrent" in attr.notes[0]  # DeepLIFT says it only approximates an LSTM
    ranking = global_importance(attr)  # per token feature, |values| added over the steps
    assert sorted(ranking["feature"]) == sorted(data.feature_names)
    per_feature = np.abs(attr.values).sum(axis=1).mean(axis=0)
    assert ranking["importance"].iloc[0] == pytest.approx(per_feature.max())


def test_token_lstm_is_explained_through_its_embedding() -> None:
    data = load_dataset("long_memory", n_samples=200, seq_len=12, encoding="tokens", seed=0)
    ctx = untrained(data, "lstm_tokens")
    attr = explain(ctx, ExplainRequest("integrated_gradients", sample_indices=ROWS[:8], n_steps=32))
    assert attr.values.shape == (8, 12) and attr.inputs.dtype == np.int64
    assert time_step_attribution(attr).shape == (8, 12)
    assert set(global_importance(attr)["feature"]) == {f"t{t}" for t in range(12)}
    # The zero-embedding baseline: attributions still add up to f(x) - f(baseline).
    assert completeness(attr, tolerance=0.01)["passed"]
    names = {m.name for m in available_methods(ctx)}
    assert {"integrated_gradients", "saliency", "occlusion", "layer_conductance"} <= names
    assert "feature_ablation" not in names and "grad_cam" not in names
    conductance = explain(ctx, ExplainRequest("layer_conductance", sample_indices=(0,)))
    assert conductance.params["layer"] == "1"  # the embedding row itself is not offered
    with pytest.raises(PlaygroundError):
        explain(ctx, ExplainRequest("layer_conductance", layer="0"))


@pytest.mark.parametrize("kind", ["tokens", "onehot"])
def test_every_sequence_method_runs_and_is_input_shaped(kind: str) -> None:
    data = load_dataset("long_memory", n_samples=200, seq_len=10, encoding=kind, seed=0)
    ctx = untrained(data, "lstm_tokens" if kind == "tokens" else "lstm")
    expected = (3, 10) if kind == "tokens" else (3, 10, 8)
    for info in available_methods(ctx):
        if info.family != "captum":
            continue
        request = ExplainRequest(
            info.name, sample_indices=(0, 1, 2), n_steps=8, n_samples=4, neuron=0
        )
        attr = explain(ctx, request)
        assert attr.values.shape == ((3, 32) if attr.layer_map else expected), info.name
        assert np.isfinite(attr.values).all(), info.name


# ------------------------------------------------------------------ api: errors, progress, cache


def test_bad_method_layer_and_kind_give_errors_with_hints(one_feature_ctx) -> None:
    ctx = one_feature_ctx
    with pytest.raises(PlaygroundError) as err:
        explain(ctx, ExplainRequest("integrated_gradient"))
    assert "integrated_gradients" in err.value.hint and "saliency" in err.value.hint
    with pytest.raises(PlaygroundError) as err:
        explain(ctx, ExplainRequest("layer_conductance", layer="9"))
    assert "Choose one of" in err.value.hint
    with pytest.raises(PlaygroundError) as err:
        explain(ctx, ExplainRequest("layer_conductance", layer="4"))  # the output layer
    assert "cannot be used" in err.value.message
    with pytest.raises(PlaygroundError) as err:
        explain(ctx, ExplainRequest("grad_cam"))
    assert "image" in err.value.hint
    with pytest.raises(PlaygroundError):
        explain(ctx, ExplainRequest("saliency", sample_indices=(10_000,)))


def test_progress_is_reported_in_chunks_and_cancel_stops(
    one_feature_ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    import playground.explain._captum_helpers as helpers

    monkeypatch.setattr(helpers, "CHUNK", 32)
    seen: list[float] = []
    request = ExplainRequest("saliency", sample_indices=tuple(range(50)))
    explain(one_feature_ctx, request, lambda f, m: seen.append(f))
    assert seen == [0.0, 32 / 50, 1.0]  # before each chunk of 32 samples, then done

    def stop_after_first(fraction: float, message: str) -> None:
        if fraction > 0:
            raise Cancelled()

    with pytest.raises(Cancelled):
        explain(one_feature_ctx, request, stop_after_first)


def test_explain_fills_seconds_and_params(one_feature_ctx) -> None:
    attr = explain(one_feature_ctx, ExplainRequest("gradient_shap", sample_indices=ROWS))
    assert attr.seconds > 0 and attr.params["method"] == "gradient_shap"
    assert attr.params["background_size"] == 100 and attr.expected_value.shape == (len(ROWS),)
    assert list(attr.sample_indices) == list(ROWS) and attr.labels.shape == (len(ROWS),)


def test_cached_results_are_instant_until_the_weights_change(one_feature) -> None:
    store, run_id = one_feature
    ctx = context_for_run(run_id, store)
    assert context_for_run(run_id, store) is ctx  # same weights file: the loaded run is kept
    request = ExplainRequest("integrated_gradients", sample_indices=tuple(range(60)), n_steps=200)
    first = explain_cached(ctx, request)
    start = time.perf_counter()
    assert explain_cached(ctx, request) is first
    assert time.perf_counter() - start < first.seconds
    # A newer checkpoint (as a still-training run writes) gives a new context and result.
    time.sleep(0.01)
    model = ctx.built.module
    with torch.no_grad():
        bumped = {k: v.clone() for k, v in model.state_dict().items()}
        model[0].weight.mul_(2.0)
        store.save_weights(run_id, model)
        model.load_state_dict(bumped)
    fresh = context_for_run(run_id, store)
    assert fresh is not ctx
    again = explain_cached(fresh, request)
    assert again is not first and not np.allclose(again.values, first.values)
