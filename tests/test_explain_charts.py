"""Explanation charts: each function returns a Figure whose traces carry the data; user text
(feature, method, sample names) stays inert; signed maps are centred on a symmetric range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from playground.charts import BLUE, ORANGE
from playground.charts.explain import (
    attribution_2d,
    beeswarm,
    completeness_chart,
    dependence_scatter,
    image_overlay,
    importance_bars,
    method_rankings,
    rank_correlation_heatmap,
    time_step_attribution,
    waterfall,
)

EVIL = "<b>x</b>"
EVIL_ESCAPED = "&lt;b&gt;x&lt;/b&gt;"


def tabular(n: int = 60, f: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Attributions whose mean |value| grows with the column index (feature 4 matters most)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, f))
    values = features * np.arange(1, f + 1)  # linear model: attribution = w * x
    return values, features, [f"f{j}" for j in range(f)]


def test_importance_bars_most_important_on_top_with_names_escaped() -> None:
    table = pd.DataFrame({"feature": ["a", EVIL, "c", "d"], "importance": [0.1, 0.9, 0.5, 0.3]})
    fig = importance_bars(table, title="Global <i>importance</i>", top=3)
    bar = fig.data[0]
    assert isinstance(bar, go.Bar) and bar.orientation == "h"
    assert list(bar.y) == [EVIL_ESCAPED, "c", "d"]  # sorted, cut to top 3
    assert list(bar.x) == pytest.approx([0.9, 0.5, 0.3])
    assert fig.layout.yaxis.autorange == "reversed"  # first bar drawn at the top
    assert fig.layout.title.text == "Global &lt;i&gt;importance&lt;/i&gt;"
    assert fig.layout.annotations[0].text == "top 3 of 4 features"
    # Signed scores: ranked by magnitude, coloured by sign; features may be the index.
    signed = pd.DataFrame({"score": [0.2, -0.7]}, index=["p", "q"])
    bar = importance_bars(signed, "s").data[0]
    assert list(bar.y) == ["q", "p"] and list(bar.marker.color) == [ORANGE, BLUE]


def test_beeswarm_one_row_per_feature_ordered_by_mean_abs_with_unit_colours() -> None:
    values, features, names = tabular()
    names[4] = EVIL
    fig = beeswarm(values, features, names, top=3)
    assert len(fig.data) == 3
    assert list(fig.layout.yaxis.ticktext) == [EVIL_ESCAPED, "f3", "f2"]
    assert list(fig.layout.yaxis.tickvals) == [0, 1, 2]
    for row, (trace, j) in enumerate(zip(fig.data, [4, 3, 2], strict=True)):
        y = np.asarray(trace.y)
        assert np.all(np.abs(y - row) <= 0.4 + 1e-9)  # jitter stays inside its own row
        assert np.ptp(y) > 0  # and points are actually spread
        assert np.asarray(trace.x) == pytest.approx(values[:, j])
        colour = np.asarray(trace.marker.color)
        assert colour.min() >= 0.0 and colour.max() <= 1.0
        # Colour follows the feature's value: the highest value gets the reddest colour.
        assert colour[np.argmax(features[:, j])] == 1.0 and colour[np.argmin(features[:, j])] == 0.0
    assert fig.layout.coloraxis.colorbar.title.text == "feature value"
    assert fig.data[0].text[0].startswith(EVIL_ESCAPED + " = ")
    again = beeswarm(values, features, names, top=3)  # seeded: the same picture every time
    assert np.asarray(again.data[1].y) == pytest.approx(np.asarray(fig.data[1].y))


def test_waterfall_steps_sum_to_output_minus_base_with_other_features_collapsed() -> None:
    values = np.array([0.5, -2.0, 0.1, 1.0, 0.05])
    base, output = 1.0, 1.0 + values.sum()
    fig = waterfall(values, ["a", "b", EVIL, "d", "e"], base, output, np.arange(5.0), top=2)
    trace = fig.data[0]
    assert isinstance(trace, go.Waterfall)
    labels = list(trace.y)
    assert labels == ["base value", "b = 1", "d = 3", "3 other features", "output f(x)"]
    assert list(trace.measure) == ["absolute", "relative", "relative", "relative", "total"]
    steps = np.asarray(trace.x[1:-1], dtype=float)
    assert steps.sum() == pytest.approx(output - base)
    assert steps[-1] == pytest.approx(0.5 + 0.1 + 0.05)  # the collapsed rest
    # Attributions that do not add up (no completeness) get an explicit "not attributed" step.
    short = waterfall(values, list("abcde"), base, output + 0.7, None, top=10).data[0]
    assert list(short.y)[-2] == "not attributed"
    assert np.asarray(short.x[1:-1], dtype=float).sum() == pytest.approx(output + 0.7 - base)
    full = waterfall(values, [*"abcd", EVIL], base, output, None, top=10).data[0]
    assert EVIL_ESCAPED in list(full.y) and "other" not in " ".join(full.y)


def test_dependence_scatter_plots_a_feature_against_its_attribution() -> None:
    values, features, names = tabular()
    names[1] = EVIL
    fig = dependence_scatter(values, features, names, "f2", color_by=EVIL)
    trace = fig.data[0]
    assert np.asarray(trace.x) == pytest.approx(features[:, 2])
    assert np.asarray(trace.y) == pytest.approx(values[:, 2])
    assert np.asarray(trace.marker.color) == pytest.approx(features[:, 1])
    assert trace.marker.colorbar.title.text == EVIL_ESCAPED
    assert fig.layout.xaxis.title.text == "f2"
    assert dependence_scatter(values, features, names, "f0").data[0].marker.color == BLUE
    with pytest.raises(ValueError, match="No feature named"):
        dependence_scatter(values, features, names, "missing")


def test_image_overlay_three_panels_per_image_with_a_symmetric_signed_range() -> None:
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(3, 1, 8, 8))
    maps = rng.normal(size=(3, 1, 8, 8))
    maps[1, 0, 2, 3] = -5.0  # the largest magnitude is negative
    fig = image_overlay(images, maps, titles=[EVIL, "b", "c"], max_images=2)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [EVIL_ESCAPED, "attribution", "overlay", "b", "attribution", "overlay"]
    assert len(fig.data) == 2 * 4  # image, map, image + overlay per sample
    assert len({t.xaxis for t in fig.data}) == 2 * 3
    attribution = [t for t in fig.data if t.name in ("attribution", "overlay")]
    assert all(t.zmin == -5.0 and t.zmax == 5.0 for t in attribution)
    assert np.asarray(fig.data[1].z) == pytest.approx(maps[0, 0])  # channels summed
    assert np.asarray(fig.data[0].z) == pytest.approx(images[0, 0])
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 of the image on top


def test_image_overlay_uses_a_sequential_scale_for_non_negative_gradcam_maps() -> None:
    rng = np.random.default_rng(2)
    # Shaped like a Grad-CAM `Attribution`: values (N, H, W) >= 0 upsampled to inputs (N, C, H, W).
    inputs = rng.uniform(size=(2, 1, 8, 8)).astype(np.float32)
    values = rng.uniform(0, 2, size=(2, 8, 8)).astype(np.float32)
    fig = image_overlay(inputs, values)
    heat = fig.data[1]
    assert heat.zmin == 0.0 and heat.zmax == pytest.approx(float(values.max()))
    assert heat.colorscale[0][1] != heat.colorscale[-1][1] and len(heat.colorscale) == 2
    with pytest.raises(ValueError, match="same"):
        image_overlay(inputs, values[:, :4, :4])


def test_time_step_attribution_bars_for_one_sample_heatmap_for_several() -> None:
    steps = np.array([[0.5, -1.0, 0.0, 2.0]])
    one = time_step_attribution(steps, inputs=np.array([[1.0, 2.0, 3.0, 4.0]]), titles=[EVIL])
    line, bars = one.data
    assert line.name == EVIL_ESCAPED and list(line.y) == [1.0, 2.0, 3.0, 4.0]
    assert list(bars.y) == [0.5, -1.0, 0.0, 2.0]
    assert list(bars.marker.color) == [BLUE, ORANGE, BLUE, BLUE]
    assert bars.xaxis == "x2" and one.layout.xaxis.matches == "x2"  # shared time axis
    # Several samples of one-hot tokens: the input is the token index, attributions a heatmap.
    tokens = np.eye(3)[[[0, 2, 1, 1], [2, 2, 0, 1]]]
    multi = time_step_attribution(np.array([[0.1, -0.3, 0.2, 0.0], [1.0, 0.0, -0.5, 0.2]]), tokens)
    heat = multi.data[-1]
    assert isinstance(heat, go.Heatmap) and heat.zmin == -1.0 and heat.zmax == 1.0
    assert list(multi.data[0].y) == [0, 2, 1, 1] and multi.layout.yaxis.title.text == "token"
    bare = time_step_attribution(np.ones((2, 5)))
    assert len(bare.data) == 1 and bare.data[0].zmin == -1.0


def test_method_rankings_rank_each_method_best_feature_on_top() -> None:
    importance = pd.DataFrame(
        {"saliency": [0.1, 0.9, 0.5, 0.2], EVIL: [0.2, 0.8, 0.1, 0.6]},
        index=["a", "b", "c", "d"],
    )
    fig = method_rankings(importance, top=3)
    heat = fig.data[0]
    assert list(heat.x) == ["saliency", EVIL_ESCAPED]
    # b is first for both; then d (ranks 3, 2: mean 2.5) before c (2, 4: mean 3); a is cut.
    assert list(fig.layout.yaxis.ticktext) == ["b", "d", "c"]
    assert np.asarray(heat.z).tolist() == [[1, 1], [3, 2], [2, 4]]
    assert list(heat.text[2]) == ["2", "4"]
    assert heat.zmin == 1.0 and heat.zmax == 4.0
    ranks = method_rankings(importance.rank(ascending=False), values="rank")
    assert np.asarray(ranks.data[0].z).tolist() == [*np.asarray(heat.z).tolist(), [4, 3]]


def test_rank_correlation_heatmap_fixed_range_and_annotated() -> None:
    corr = pd.DataFrame([[1.0, 0.4], [0.4, 1.0]], index=["ig", EVIL], columns=["ig", EVIL])
    heat = rank_correlation_heatmap(corr).data[0]
    assert heat.zmin == -1.0 and heat.zmax == 1.0
    assert heat.texttemplate == "%{z:.2f}"
    assert list(heat.x) == ["ig", EVIL_ESCAPED] and list(heat.y) == ["ig", EVIL_ESCAPED]
    assert np.asarray(heat.z) == pytest.approx(corr.to_numpy())


def test_completeness_chart_highlights_samples_beyond_tolerance() -> None:
    diff = np.array([0.0, 1.0, 2.0, 3.0])
    sums = diff + np.array([0.0, 0.05, 0.5, -0.2])
    fig = completeness_chart(sums, diff, tolerance=0.1, labels=["s0", "s1", EVIL, "s3"])
    identity, _band, within, beyond = fig.data
    assert list(identity.x) == list(identity.y)  # the y = x line
    assert list(within.x) == [0.0, 1.0] and beyond.name == "beyond tolerance (2)"
    assert list(beyond.y) == pytest.approx([2.5, 2.8]) and beyond.marker.color == ORANGE
    assert list(beyond.text) == [EVIL_ESCAPED, "s3"]
    assert fig.layout.title.text.startswith("2 of 4")


def test_attribution_2d_arrows_point_along_the_attribution() -> None:
    points = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    values = np.array([[1.0, 0.0], [0.0, -2.0], [0.5, 0.5]])
    fig = attribution_2d(points, values, names=[EVIL, "y"])
    arrows, dots = fig.data
    x, y = np.asarray(arrows.x, dtype=float), np.asarray(arrows.y, dtype=float)
    # Segment 2 goes straight down from (1, 1): a2 < 0, a1 = 0; the longest arrow is 8% of 2.
    assert (x[3], y[3], x[4]) == (1.0, 1.0, 1.0) and y[4] == pytest.approx(1.0 - 0.16)
    assert x[1] > 0 and y[1] == 0.0
    assert np.asarray(dots.marker.color) == pytest.approx([1.0, -2.0, 1.0])
    assert fig.layout.coloraxis.cmin == -2.0 and fig.layout.coloraxis.cmax == 2.0
    assert fig.layout.xaxis.title.text == EVIL_ESCAPED


def test_every_chart_serialises_to_json() -> None:
    values, features, names = tabular(n=10, f=3)
    figures = [
        importance_bars(pd.DataFrame({"feature": names, "importance": [1.0, 2.0, 3.0]}), "t"),
        beeswarm(values, features, names),
        beeswarm(values, None, names),
        waterfall(values[0], names, 0.0, float(values[0].sum())),
        dependence_scatter(values, features, names, "f0"),
        image_overlay(np.zeros((1, 4, 4)), np.zeros((1, 4, 4))),  # all-zero map: range still valid
        time_step_attribution(values, features[:, :, None]),
        attribution_2d(features[:, :2], values[:, :2]),
        completeness_chart(values.sum(1), values.sum(1), 0.01),
    ]
    for fig in figures:
        assert isinstance(fig, go.Figure) and fig.to_json().startswith("{")
    assert figures[5].data[1].zmax > figures[5].data[1].zmin
