"""Fairness charts and attribution by group: the traces each chart must have (one ROC curve
per group, error bars when intervals exist, the threshold line, small groups kept and
marked) and escaped group and feature names."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from playground.charts import ORANGE
from playground.charts import fairness as charts
from playground.data import load_dataset
from playground.explain.base import Attribution
from playground.fairness import (
    audit_data,
    audit_model,
    audit_predictions,
    disparity_sweep,
    group_roc,
    threshold_sweep,
)
from playground.fairness.proxies import PROXY_FLAG
from playground.fairness.reliance import attribution_by_group, reliance_summary

HTML_GROUP = "<b>A</b>"
ESCAPED_GROUP = "&lt;b&gt;A&lt;/b&gt;"


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """400 people in three groups, 'C' small (about 20), with informative scores."""
    rng = np.random.default_rng(0)
    n = 400
    groups = pd.Series(rng.choice([HTML_GROUP, "B", "C"], n, p=[0.5, 0.45, 0.05]), name="grp")
    y = rng.integers(0, 2, n)
    scores = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    return y, scores, groups


def _figure_text(fig) -> str:
    return fig.to_json()


def test_group_rates_chart_has_error_bars_marks_small_groups_and_escapes(scored) -> None:
    y, scores, groups = scored
    audit = audit_model(y, scores, groups, 0.5, n_boot=40)
    assert audit.small_groups == ["C"]
    fig = charts.group_rates_chart(audit)
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 3  # selection rate, TPR, FPR
    order = list(audit.by_group.index)
    for bar, metric in zip(bars, ("selection_rate", "tpr", "fpr"), strict=True):
        assert bar.error_y.array is not None and len(bar.error_y.array) == len(order)
        low = audit.by_group[f"{metric}_ci_low"].to_numpy()
        np.testing.assert_allclose(
            np.asarray(bar.y) - np.asarray(bar.error_y.arrayminus), low, atol=1e-9
        )
        shapes = list(bar.marker.pattern.shape)
        assert shapes[order.index("C")] == "/" and shapes[order.index("B")] == ""
    ticks = list(bars[0].x)
    assert any(ESCAPED_GROUP in t for t in ticks) and not any(HTML_GROUP in t for t in ticks)
    assert "small" in ticks[order.index("C")]
    assert HTML_GROUP not in _figure_text(fig)

    plain_audit = audit_model(y, scores, groups, 0.5, n_boot=0)
    no_ci = charts.group_rates_chart(plain_audit, metrics=("selection_rate",))
    assert len(no_ci.data) == 1 and no_ci.data[0].error_y.array is None


def test_group_roc_chart_has_one_curve_per_group_with_auc_and_operating_points(scored) -> None:
    y, scores, groups = scored
    audit = audit_model(y, scores, groups, 0.4, n_boot=0)
    rocs = group_roc(y, scores, groups)
    points = charts.operating_points(audit)
    fig = charts.group_roc_chart(rocs, points)
    curves = [t for t in fig.data if t.meta == "roc"]
    dots = [t for t in fig.data if t.meta == "point"]
    assert len(curves) == len(rocs) == 3
    for curve, roc in zip(curves, rocs.values(), strict=True):
        assert f"AUC {roc.auc:.3f}" in curve.name
        np.testing.assert_allclose(curve.x, roc.fpr)
    assert len(dots) == 3
    b = list(rocs).index("B")
    assert dots[b].x[0] == pytest.approx(audit.by_group.loc["B", "fpr"])
    assert dots[b].y[0] == pytest.approx(audit.by_group.loc["B", "tpr"])
    assert any(ESCAPED_GROUP in c.name for c in curves)
    assert HTML_GROUP not in _figure_text(fig)

    # A group with one label value has no curve, and the legend says so.
    one_label = group_roc(
        np.array([0, 1, 0, 0]), np.array([0.1, 0.9, 0.2, 0.3]), ["x", "x", "y", "y"]
    )
    names = [t.name for t in charts.group_roc_chart(one_label).data if t.meta == "roc"]
    assert len(names) == 2 and "one label only" in names[1]


def test_disparity_sweep_chart_draws_each_disparity_and_the_threshold_line(scored) -> None:
    y, scores, groups = scored
    sweep = disparity_sweep(threshold_sweep(y, scores, groups))
    fig = charts.disparity_sweep_chart(sweep, 0.37)
    assert len(fig.data) == 5
    assert {t.name for t in fig.data} == set(charts.DISPARITY_TITLES.values())
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 1 and lines[0].x0 == lines[0].x1 == pytest.approx(0.37)
    dashed = {t.name for t in fig.data if t.line.dash == "dash"}
    assert dashed == {"demographic parity ratio", "equalized odds ratio"}


@pytest.fixture(scope="module")
def hiring_audit():
    return audit_data(load_dataset("hiring", n_samples=400), "gender & age")


def test_base_rates_chart_shows_sizes_and_base_rates_with_small_groups_hatched(
    hiring_audit,
) -> None:
    fig = charts.base_rates_chart(hiring_audit)
    sizes, rates = fig.data
    g = hiring_audit.groups
    assert list(sizes.y) == list(g["count"])
    np.testing.assert_allclose(rates.y, g["base_rate"])
    assert g["small"].any()
    hatched = [s == "/" for s in sizes.marker.pattern.shape]
    assert hatched == list(g["small"])
    overall = g["positives"].sum() / g["count"].sum()
    assert any(s.y0 == pytest.approx(overall) for s in fig.layout.shapes)


def test_proxies_chart_highlights_flagged_features_and_escapes_names() -> None:
    proxies = pd.DataFrame(
        {
            "feature": ["<i>zip</i>", "income", "height"],
            "kind": ["categorical", "numeric", "numeric"],
            "measure": ["cramers_v", "correlation_ratio", "correlation_ratio"],
            "association": [0.7, 0.35, 0.1],
            "flagged": [True, True, False],
        }
    )
    fig = charts.proxies_chart(proxies)
    (bar,) = fig.data
    assert list(bar.y) == ["&lt;i&gt;zip&lt;/i&gt;", "income", "height"]
    assert list(bar.marker.color) == [ORANGE, ORANGE, charts.GREY]
    assert fig.layout.shapes[0].x0 == pytest.approx(PROXY_FLAG)
    assert len(charts.proxies_chart(proxies, top=2).data[0].y) == 2


def test_tradeoff_chart_labels_variants_marks_the_original_and_skips_unfinished() -> None:
    table = pd.DataFrame(
        {
            "run": ["r0", "r1", "r2", "r3"],
            "variant": [
                "original",
                "trained with reweighing",
                "<b>custom</b>",
                "trained without the attribute",
            ],
            "status": ["completed", "completed", "completed", "running"],
            "accuracy": [0.85, 0.83, 0.80, np.nan],
            "demographic_parity_difference": [0.25, 0.12, 0.05, np.nan],
        }
    )
    fig = charts.tradeoff_chart(table)
    assert len(fig.data) == 3
    original = [t for t in fig.data if t.meta == "original"]
    assert len(original) == 1 and original[0].marker.symbol == "star"
    assert original[0].x[0] == 0.25 and original[0].y[0] == 0.85
    assert [t.text[0] for t in fig.data][2] == "&lt;b&gt;custom&lt;/b&gt;"
    assert any("not finished" in a.text for a in fig.layout.annotations)
    assert charts.tradeoff_chart(table.iloc[0:0]).data == ()


def _attribution() -> Attribution:
    # 4 rows, features: age, colour (one-hot red/blue), gender (one-hot f/m).
    values = np.array(
        [
            [1.0, 0.5, -0.25, 2.0, 0.0],
            [-3.0, 0.0, 1.0, 0.0, -1.0],
            [0.5, 0.5, 0.5, 1.0, 0.0],
            [1.5, -2.0, 0.0, 0.0, 3.0],
        ],
        dtype=np.float32,
    )
    names = ["age", "colour=red", "colour=blue", "gender=f", "gender=m"]
    zeros = np.zeros(4)
    return Attribution(
        method="integrated_gradients",
        title="Integrated Gradients",
        values=values,
        inputs=np.zeros_like(values),
        sample_indices=np.array([10, 11, 12, 13]),
        targets=zeros,
        outputs=zeros,
        labels=zeros,
        feature_names=names,
        data_kind="tabular",
    )


FEATURE_GROUPS = {
    "age": "age",
    "colour=red": "colour",
    "colour=blue": "colour",
    "gender=f": "gender",
    "gender=m": "gender",
}


def test_attribution_by_group_merges_one_hot_columns_and_averages_per_group() -> None:
    groups = pd.Series(["f", "m", "f", "m"], index=[10, 11, 12, 13])
    table = attribution_by_group(_attribution(), groups, FEATURE_GROUPS)
    assert list(table.columns) == ["feature", "overall", "f", "m"]
    rows = table.set_index("feature")
    # colour per row: |0.25|, |1.0|, |1.0|, |-2.0| (one-hot parts summed before |.|).
    assert rows.loc["colour", "overall"] == pytest.approx((0.25 + 1 + 1 + 2) / 4)
    assert rows.loc["colour", "f"] == pytest.approx((0.25 + 1) / 2)
    assert rows.loc["age", "m"] == pytest.approx((3 + 1.5) / 2)
    assert rows.loc["gender", "overall"] == pytest.approx((2 + 1 + 1 + 3) / 4)
    assert list(table["overall"]) == sorted(table["overall"], reverse=True)
    assert table.attrs["group_counts"] == {"f": 2, "m": 2}
    unmerged = attribution_by_group(_attribution(), groups)
    assert len(unmerged) == 5

    sentences = reliance_summary(
        table,
        "gender",
        pd.DataFrame({"feature": ["colour", "age"], "flagged": [True, False]}),
    )
    # Overall: gender 1.75, age 1.5, colour 1.0625.
    assert sentences[0].startswith("'gender' is the model's most relied-on feature of 3")
    assert "'colour' (3rd)" in sentences[1]
    assert "use of 'age' differs most" in sentences[-1] and "2.25 for 'm'" in sentences[-1]
    second = reliance_summary(table, "age", pd.DataFrame({"feature": [], "flagged": []}))
    assert second[0].startswith("'age' is the model's 2nd most relied-on feature of 3")
    dropped = reliance_summary(table, "race", pd.DataFrame({"feature": [], "flagged": []}))
    assert "'race' is not a model feature" in dropped[0]

    with pytest.raises(Exception, match="group labels"):
        attribution_by_group(_attribution(), groups.iloc[:3], FEATURE_GROUPS)


def test_attribution_by_group_chart_has_everyone_and_one_trace_per_group() -> None:
    groups = pd.Series([HTML_GROUP, "m", HTML_GROUP, "m"])
    table = attribution_by_group(_attribution(), groups, FEATURE_GROUPS)
    fig = charts.attribution_by_group_chart(table, top=2)
    assert [t.name for t in fig.data] == ["everyone", f"{ESCAPED_GROUP} (n=2)", "m (n=2)"]
    assert all(len(t.y) == 2 for t in fig.data)
    assert HTML_GROUP not in _figure_text(fig)


def test_intersection_chart_keeps_and_flags_small_groups(scored) -> None:
    y, scores, groups = scored
    rng = np.random.default_rng(1)
    band = pd.Series(rng.choice(["young", "old"], len(y)), name="band")
    both = (groups + " & " + band).rename("grp & band")
    audit = audit_model(y, scores, both, 0.5, n_boot=30)
    fig = charts.intersection_chart(audit)
    (bar,) = fig.data
    assert len(bar.y) == len(audit.by_group) == 6  # every group drawn, small ones too
    small = audit.by_group["small"].to_numpy()
    assert small.any()
    assert [s == "/" for s in bar.marker.pattern.shape] == list(small)
    assert all(("small" in t) == s for t, s in zip(bar.y, small, strict=True))
    assert all(f"n={n}" in t for t, n in zip(bar.y, audit.by_group["count"], strict=True))
    assert bar.error_x.array is not None
    assert any(ESCAPED_GROUP in label for label in bar.y)
    overall = audit.overall["selection_rate"]
    assert fig.layout.shapes[0].x0 == pytest.approx(overall)


def _title_lines(fig) -> list[str]:
    return fig.layout.title.text.split("<br>")


def _title(fig) -> str:
    """The title as read: its wrapped lines joined."""
    return " ".join(_title_lines(fig))


def test_titles_and_axes_say_which_split_the_rates_come_from(scored, hiring_audit) -> None:
    y, scores, groups = scored
    audit = audit_model(y, scores, groups, 0.5, n_boot=0)
    assert "split" not in _title(charts.group_rates_chart(audit))  # rows unknown
    audit.split = "test"
    rates = charts.group_rates_chart(audit)
    assert "Rates by grp on the test split" in _title(rates)
    assert rates.layout.yaxis.title.text == "rate on the test split"
    both = audit_model(y, scores, (groups + " & x").rename("grp & x"), 0.5, n_boot=0)
    both.split = "test"
    assert "on the test split" in _title(charts.intersection_chart(both))
    # A post-processed audit (no single threshold) says its thresholds come from validation.
    post = audit_predictions(y, scores > 0.5, groups, n_boot=0)
    post.split = "test"
    text = _title(charts.group_rates_chart(post))
    assert "on the test split" in text and "fitted on the validation split" in text
    roc = charts.group_roc_chart(group_roc(y, scores, groups), None, "test")
    sweep = charts.disparity_sweep_chart(
        disparity_sweep(threshold_sweep(y, scores, groups)), 0.5, "val"
    )
    assert "on the test split" in _title(roc)
    assert "on the validation split" in _title(sweep)
    data = _title(charts.base_rates_chart(hiring_audit))
    assert "all rows: train, validation and test splits together" in data
    table = pd.DataFrame(
        {
            "variant": ["original", "x"],
            "accuracy": [0.8, 0.7],
            "demographic_parity_difference": [0.2, 0.1],
        }
    )
    trade = charts.tradeoff_chart(table)
    assert trade.layout.xaxis.title.text == "demographic parity difference (test split)"
    assert trade.layout.yaxis.title.text == "accuracy (test split)"


LONG = ["Married-civ-spouse & Amer-Indian-Eskimo", "Married-civ-spouse & Asian-Pac-Islander"]


def test_long_names_are_shortened_on_axes_with_the_full_name_in_the_hover() -> None:
    rng = np.random.default_rng(0)
    groups = pd.Series(rng.choice([*LONG, "Other"], 300), name="marital & race")
    y = rng.integers(0, 2, 300)
    audit = audit_model(y, rng.random(300), groups, 0.5, n_boot=0)
    fig = charts.group_rates_chart(audit)
    names = [html.unescape(tick.split("<br>")[0]) for tick in fig.data[0].x]
    assert all(len(n) <= charts.TICK_CHARS for n in names)
    assert len(set(names)) == 3  # still one category per group
    full = sorted(html.unescape(n) for n in fig.data[0].customdata)
    assert full == sorted([*LONG, "Other"])  # the hover has the full names
    assert "…" in names[0] and names[0].endswith("Eskimo")  # both ends stay readable
    assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin
    bars = charts.intersection_chart(audit).data[0]
    assert all(len(html.unescape(y.split(" · ")[0])) <= charts.LABEL_CHARS for y in bars.y)
    # Names that would be the same once shortened are kept whole (they would merge).
    twins = ["Group number 1 with a long tail", "Group number 2 with a long tail"]
    assert charts.short_names(twins) == twins
    assert charts.short_names(["short"]) == ["short"]


def test_titles_wrap_instead_of_running_out_of_a_half_width_chart(scored) -> None:
    y, scores, groups = scored
    sweep = disparity_sweep(threshold_sweep(y, scores, groups))
    for fig in (
        charts.disparity_sweep_chart(sweep, 0.5, "test"),
        charts.group_roc_chart(group_roc(y, scores, groups), None, "test"),
    ):
        lines = _title_lines(fig)
        assert len(lines) == 2 and all(len(line) <= charts.TITLE_CHARS for line in lines)
        # The title is pinned to the top and the margin holds both lines.
        assert fig.layout.title.yanchor == "top"
        assert fig.layout.margin.t >= charts.TITLE_LINE_PIXELS * len(lines)
        assert fig.layout.legend.y < 0  # the legend under the plot, not beside it


def test_a_group_without_a_curve_keeps_its_legend_entry() -> None:
    # Plotly drops a trace without points from the legend; the reason would then be hidden.
    one_label = group_roc(
        np.array([0, 1, 0, 0]), np.array([0.1, 0.9, 0.2, 0.3]), ["x", "x", "y", "y"]
    )
    curves = [t for t in charts.group_roc_chart(one_label).data if t.meta == "roc"]
    assert len(curves[0].x) > 1 and curves[0].hoverinfo is None
    assert list(curves[1].x) == [0.0] and curves[1].hoverinfo == "skip"
    assert "one label only" in curves[1].name
