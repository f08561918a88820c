"""Faithfulness curves and the surrogate methods on a dataset where one feature (f2) decides
the label: Integrated Gradients' deletion curve falls faster than a random order's (lower
area), insertion rises faster; LIME, Kernel SHAP and LRP rank f2 first."""

from __future__ import annotations

import pytest

from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.explain import ExplainRequest, context_for_run, explain
from playground.explain.faithfulness import RANDOM, faithfulness_curves, unit_masks
from playground.explain.methods.captum_lrp import unsupported_layers
from playground.explain.summary import global_importance
from playground.model.shorthand import parse_layers
from playground.store import RunStore
from tests.run_helpers import train_stored
from tests.test_explain_captum import untrained, write_one_feature_csv

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
ROWS = tuple(range(60))


@pytest.fixture(scope="module")
def one_feature(tmp_path_factory):
    root = tmp_path_factory.mktemp("faith")
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
    return context_for_run(outcome.run_id, store)


def test_ig_deletion_falls_faster_than_random(one_feature) -> None:
    request = ExplainRequest("integrated_gradients", sample_indices=ROWS, baseline="zeros")
    ig = explain(one_feature, request)
    result = faithfulness_curves(one_feature, [ig], request, n_random=5)
    # 5 numbers + one categorical column (its one-hot group is one unit)
    assert result.n_units == 6 and result.unit == "feature"
    assert result.fractions[0] == 0.0 and result.fractions[-1] == 1.0
    d, r = result.deletion["integrated_gradients"], result.deletion[RANDOM]
    assert d[0] == pytest.approx(r[0])  # both start at the model's own output
    assert d[-1] == pytest.approx(r[-1])  # and end at the baseline's
    # Removing f2 first takes the explained logit most of the way down at once.
    assert result.deletion_auc["integrated_gradients"] < result.deletion_auc[RANDOM] - 0.5
    assert result.insertion_auc["integrated_gradients"] > result.insertion_auc[RANDOM] + 0.5
    assert d[1] < 0.5 * d[0]


def test_image_units_are_pixels_or_patches() -> None:
    ctx = untrained(load_dataset("digits"), "cnn")
    pixels, unit = unit_masks(ctx, "pixel")
    assert unit == "pixel" and pixels.shape == (64, 64) and (pixels.sum(dim=1) == 1).all()
    patches, unit = unit_masks(ctx, "patch", 2)
    assert unit == "2x2 patch" and patches.shape == (16, 64) and (patches.sum(dim=1) == 4).all()


@pytest.mark.parametrize("method", ["lime", "kernel_shap", "lrp"])
def test_surrogates_and_lrp_rank_the_deciding_feature_first(one_feature, method) -> None:
    attr = explain(one_feature, ExplainRequest(method, sample_indices=ROWS[:40], n_samples=60))
    table = global_importance(attr, one_feature.dataset.feature_groups)
    assert table.iloc[0]["feature"] == "f2", table
    # f2 carries most of the importance, well above the runner-up
    assert table.iloc[0]["importance"] > 2 * table.iloc[1]["importance"]


def test_kernel_shap_adds_up_to_output_minus_baseline(one_feature) -> None:
    from playground.explain.summary import completeness

    attr = explain(
        one_feature, ExplainRequest("kernel_shap", sample_indices=ROWS[:20], n_samples=200)
    )
    assert completeness(attr)["relative_error"] < 0.05


def test_lrp_says_which_layers_it_cannot_handle() -> None:
    ctx = untrained(load_dataset("digits"), "flatten linear:8 sigmoid linear")
    assert unsupported_layers(ctx.built.module) == ["2 (Sigmoid)"]
    with pytest.raises(PlaygroundError, match="Sigmoid"):
        explain(ctx, ExplainRequest("lrp", sample_indices=(0,)))
