"""Sanity checks (Adebayo et al. 2018) on a trained digits CNN: Integrated Gradients' maps move
away from the trained model's once every layer is random; the similarity measures are right
on known maps; a method that ignores the model is flagged in words."""

from __future__ import annotations

import numpy as np
import pytest

from playground.explain import ExplainRequest, context_for_run
from playground.explain.sanity import cascading_randomisation, rank_correlation, ssim
from playground.model.presets import PRESETS
from playground.store import RunStore
from tests.run_helpers import train_stored

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
ROWS = tuple(range(24))
FULLY_RANDOM_BELOW = 0.6  # IG rank correlation with the trained maps once every layer is random


@pytest.fixture(scope="module")
def digits_cnn(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("sanity"))
    outcome, _ = train_stored(
        "digits", {}, PRESETS["cnn"].spec(), {"epochs": 2, "batch_size": 64, "seed": 0}, store
    )
    ctx = context_for_run(outcome.run_id, store)
    ctx.store = store  # for the report test below
    return ctx


def test_rank_correlation_and_ssim_on_known_maps() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 8, 8))
    assert np.allclose(rank_correlation(a, a), 1.0)
    assert np.allclose(rank_correlation(a, 2 * a), 1.0)  # scale does not matter
    assert np.allclose(rank_correlation(a, -a), 1.0)  # absolute values: sign does not either
    reversed_ = 1.0 / (np.abs(a) + 1e-3)  # largest |a| becomes the smallest
    assert np.all(rank_correlation(a, reversed_) < -0.99)
    assert np.all(rank_correlation(a, np.zeros_like(a)) == 0.0)  # a flat map has no ranking
    assert np.allclose(ssim(a, a), 1.0)
    noise = rng.normal(size=(3, 8, 8))
    assert np.all(ssim(a, noise) < 0.3)


def test_integrated_gradients_maps_change_once_every_layer_is_random(digits_cnn) -> None:
    request = ExplainRequest("integrated_gradients", sample_indices=ROWS, n_steps=32)
    result = cascading_randomisation(
        digits_cnn, ["integrated_gradients", "saliency"], request, random_labels=False
    )
    # trained model, then the 4 weighted layers (Linear, Linear, Conv2d, Conv2d) from the top
    assert len(result.steps) == 5 and result.steps[1].startswith("9 ")
    ig = result.rank["integrated_gradients"]
    assert ig[0] == 1.0
    assert ig[-1] < FULLY_RANDOM_BELOW, ig  # measured 0.45 on this run
    assert result.rank["saliency"][-1] < 0.3  # measured 0.05
    assert result.ssim is not None and result.ssim["saliency"][-1] < 0.5
    # Counting the background pixels (0 attribution whatever the weights) hides the change.
    assert result.rank_all["integrated_gradients"][-1] > ig[-1]
    assert "integrated_gradients" in result.passed and not result.flags


def test_a_method_that_ignores_the_model_is_flagged(digits_cnn, monkeypatch) -> None:
    """Replace saliency's values by the input itself (an "edge detector"): the check must
    flag it, since randomising the weights cannot change it."""
    from playground.explain import base

    info = base.METHODS["saliency"]

    original = info.fn

    def input_only(ctx, request, progress):
        attr = original(ctx, request, progress)
        attr.values = attr.inputs.astype(np.float32) + 1e-3
        return attr

    monkeypatch.setitem(
        base.METHODS, "saliency", base.MethodInfo(**{**info.__dict__, "fn": input_only})
    )
    from playground.explain import api

    api.clear_cache()
    request = ExplainRequest("saliency", sample_indices=ROWS[:8])
    result = cascading_randomisation(digits_cnn, ["saliency"], request, random_labels=True)
    api.clear_cache()
    assert result.final_rank("saliency") > 0.99
    assert "barely changes" in result.flags["saliency"]
    assert result.random_labels is not None and result.random_labels["saliency"] > 0.99


def test_report_section_shows_both_checks(digits_cnn) -> None:
    from playground.report.sections_explain_checks import explain_checks_section
    from playground.runner import load_run

    section = explain_checks_section(load_run(digits_cnn.run_id, digits_cnn.store))
    assert section.title == "Explanation checks"
    assert [c.title for c in section.charts] == ["Cascading randomisation", "Deletion curves"]
    table = section.tables[0].frame
    assert list(table["method"]) == [
        "Integrated Gradients",
        "Saliency (gradient)",
        "random order (mean of 3)",
    ]
    assert section.data["sanity"]["rank_correlation"]["saliency"][0] == 1.0
    assert explain_checks_section(None, asked=False).paragraphs == [
        "Explanations were not asked for."
    ]
