"""Fairness audit: metrics against hand-computed values, bootstrap intervals, thresholds,
groups (bands, intersections, missing), proxies, the data audit, ROC, cautions and runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import roc_auc_score

from playground.data import load_dataset
from playground.data.csv_upload import load_csv
from playground.errors import PlaygroundError
from playground.fairness import (
    audit_data,
    audit_model,
    audit_predictions,
    audit_run,
    correlation_ratio,
    cramers_v,
    disparity_sweep,
    group_labels,
    group_roc,
    groups_for_split,
    proxy_scores,
    scores_for_run,
    sort_groups,
    threshold_sweep,
)
from playground.fairness.variants import audit_any_run, derive_threshold_variant
from playground.model.shorthand import parse_layers
from playground.runner import load_run, predict_logits
from tests.run_helpers import train_stored

# A hand-made table: 12 people in two groups, with scores; at threshold 0.5:
#   A: y 1 1 1 0 0 0, predicted 1 1 0 1 0 0  ->  TP 2, FN 1, FP 1, TN 2
#   B: y 1 1 1 1 0 0, predicted 1 0 0 0 1 0  ->  TP 1, FN 3, FP 1, TN 1
GROUP = ["A"] * 6 + ["B"] * 6
Y = np.array([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0])
SCORES = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.8, 0.4, 0.3, 0.2, 0.7, 0.1])


def hand_audit(**kwargs):
    return audit_model(Y, SCORES, pd.Series(GROUP, name="group"), **kwargs)


def test_metrics_match_values_computed_by_hand() -> None:
    audit = hand_audit(n_boot=0, min_group=1)
    a, b = audit.by_group.loc["A"], audit.by_group.loc["B"]
    # Group A: TP 2, FN 1, FP 1, TN 2.
    assert a["count"] == 6
    assert a["selection_rate"] == pytest.approx(3 / 6)
    assert a["accuracy"] == pytest.approx(4 / 6)
    assert a["tpr"] == pytest.approx(2 / 3)
    assert a["fpr"] == pytest.approx(1 / 3)
    assert a["fnr"] == pytest.approx(1 / 3)
    assert a["precision"] == pytest.approx(2 / 3)
    assert a["base_rate"] == pytest.approx(3 / 6)
    # Group B: TP 1, FN 3, FP 1, TN 1.
    assert b["selection_rate"] == pytest.approx(2 / 6)
    assert b["accuracy"] == pytest.approx(2 / 6)
    assert b["tpr"] == pytest.approx(1 / 4)
    assert b["fpr"] == pytest.approx(1 / 2)
    assert b["fnr"] == pytest.approx(3 / 4)
    assert b["precision"] == pytest.approx(1 / 2)
    d = audit.disparities
    assert d["demographic_parity_difference"] == pytest.approx(1 / 2 - 1 / 3)
    assert d["demographic_parity_ratio"] == pytest.approx((1 / 3) / (1 / 2))
    # TPR gap 2/3 - 1/4 = 5/12 beats the FPR gap 1/2 - 1/3 = 1/6.
    assert d["equalized_odds_difference"] == pytest.approx(5 / 12)
    assert d["equalized_odds_ratio"] == pytest.approx(min((1 / 4) / (2 / 3), (1 / 3) / (1 / 2)))
    assert d["equal_opportunity_difference"] == pytest.approx(5 / 12)
    assert audit.overall["selection_rate"] == pytest.approx(5 / 12)
    assert audit.overall["accuracy"] == pytest.approx(6 / 12)


def test_counts_shortcut_agrees_with_fairlearn_on_every_row() -> None:
    rng = np.random.default_rng(1)
    n = 900
    groups = pd.Series(rng.choice(["x", "y", "z"], n, p=[0.5, 0.4, 0.1]), name="g")
    y = (rng.random(n) < np.where(groups == "x", 0.6, 0.3)).astype(int)
    scores = np.clip(0.4 * y + rng.random(n) * 0.7, 0, 1)
    audit = audit_model(y, scores, groups, threshold=0.55, n_boot=0)
    pred = (scores >= 0.55).astype(int)
    frame = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=groups,
    )
    for col in ("selection_rate", "tpr", "fpr"):
        np.testing.assert_allclose(audit.by_group[col], frame.by_group[col])
    kw = {"sensitive_features": groups}
    expected = {
        "demographic_parity_difference": demographic_parity_difference(y, pred, **kw),
        "demographic_parity_ratio": demographic_parity_ratio(y, pred, **kw),
        "equalized_odds_difference": equalized_odds_difference(y, pred, **kw),
        "equalized_odds_ratio": equalized_odds_ratio(y, pred, **kw),
        "equal_opportunity_difference": equal_opportunity_difference(y, pred, **kw),
    }
    for name, value in expected.items():
        assert audit.disparities[name] == pytest.approx(value), name


def test_bootstrap_interval_contains_the_estimate_narrows_with_data_and_is_seeded() -> None:
    small = hand_audit(n_boot=300, seed=0, min_group=1).by_group
    for rate in ("selection_rate", "accuracy", "tpr", "fpr", "precision"):
        assert (small[f"{rate}_ci_low"] <= small[rate]).all(), rate
        assert (small[rate] <= small[f"{rate}_ci_high"]).all(), rate
    big = audit_model(
        np.tile(Y, 20), np.tile(SCORES, 20), pd.Series(GROUP * 20, name="group"), n_boot=300
    ).by_group
    width = small["selection_rate_ci_high"] - small["selection_rate_ci_low"]
    big_width = big["selection_rate_ci_high"] - big["selection_rate_ci_low"]
    assert (big_width < width / 2).all()
    again = hand_audit(n_boot=300, seed=0, min_group=1)
    pd.testing.assert_frame_equal(again.by_group, small)
    assert "selection_rate_ci_low" not in hand_audit(n_boot=0).by_group.columns


def test_threshold_moves_rates_and_sweep_agrees_with_audit() -> None:
    everyone = hand_audit(threshold=0.0, n_boot=0)
    assert (everyone.by_group["selection_rate"] == 1.0).all()
    assert everyone.disparities["demographic_parity_difference"] == 0.0
    nobody = hand_audit(threshold=1.01, n_boot=0)
    assert (nobody.by_group["selection_rate"] == 0.0).all()
    groups = pd.Series(GROUP, name="group")
    sweep = threshold_sweep(Y, SCORES, groups, thresholds=np.array([0.25, 0.5, 0.75]))
    gaps = disparity_sweep(sweep).set_index("threshold")
    for t in (0.25, 0.5, 0.75):
        audit = hand_audit(threshold=t, n_boot=0, min_group=1)
        rows = sweep[sweep["threshold"] == t].set_index("group")
        for rate in ("selection_rate", "tpr", "fpr", "accuracy"):
            np.testing.assert_allclose(rows[rate], audit.by_group[rate])
        for name, value in audit.disparities.items():
            assert gaps.loc[t, name] == pytest.approx(value), (t, name)


def test_ages_are_banded_with_missing_as_its_own_group() -> None:
    ages = pd.DataFrame({"age": [18, 24, 25, 44, 45, 64, 65, 90, None, 30, 31, 50]})
    labels = group_labels(ages, "age")
    assert list(labels[:9]) == [
        "<25", "<25", "25-44", "25-44", "45-64", "45-64", "65+", "65+", "missing"
    ]  # fmt: skip
    assert sort_groups(labels) == ["<25", "25-44", "45-64", "65+", "missing"]
    german = load_dataset("german_credit")
    under_25 = groups_for_split(german, "test", "age")
    assert set(under_25) == {"<25", "25+"}
    assert len(under_25) == len(german.test)
    expected = np.where(german.test.sensitive["age"].to_numpy() < 25, "<25", "25+")
    assert (under_25.to_numpy() == expected).all()


def test_other_numbers_get_quartile_bands_and_codes_stay_categories() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"income": rng.normal(50, 10, 400).round(2), "flag": rng.integers(0, 2, 400)}
    )
    bands = group_labels(frame, "income")
    assert bands.nunique() == 4
    assert bands.value_counts().min() > 80  # quartiles: about 100 each
    assert set(group_labels(frame, "flag")) == {"0", "1"}


def test_intersections_count_every_pair_and_flag_small_groups_without_hiding_them() -> None:
    sensitive = pd.DataFrame(
        {
            "sex": ["Male"] * 60 + ["Female"] * 45,
            "race": ["White"] * 50 + ["Black"] * 40 + ["White"] * 15,
        }
    )
    labels = group_labels(sensitive, "sex & race")
    assert labels.name == "sex & race"
    assert labels.value_counts().to_dict() == {
        "Male & White": 50,
        "Female & Black": 30,
        "Female & White": 15,
        "Male & Black": 10,
    }
    rng = np.random.default_rng(0)
    audit = audit_model(rng.integers(0, 2, 105), rng.random(105), labels, n_boot=50)
    assert set(audit.by_group.index) == set(labels)  # shown, not hidden
    assert sorted(audit.small_groups) == ["Female & White", "Male & Black"]
    assert audit.by_group.loc["Male & Black", "small"]
    assert not audit.by_group.loc["Male & White", "small"]
    assert any("'Male & Black' (10 people)" in c for c in audit.cautions)
    assert audit.disparities_large_groups  # recomputed over the two large groups
    with pytest.raises(PlaygroundError, match="No sensitive attribute 'gender'"):
        group_labels(sensitive, "sex & gender")


def test_association_measures_on_known_cases() -> None:
    a = np.array(["x", "y"] * 50)
    assert cramers_v(a, a) == pytest.approx(1.0)
    assert cramers_v(a, np.array(["p", "p", "q", "q"] * 25)) == pytest.approx(0.0)  # independent
    assert correlation_ratio(a, (a == "x").astype(float)) == pytest.approx(1.0)
    assert correlation_ratio(a, np.ones(100)) == 0.0


def test_injected_proxy_in_hiring_ranks_first() -> None:
    hiring = load_dataset("hiring")
    proxies = proxy_scores(hiring, "gender")
    assert proxies.iloc[0]["feature"] == "referral"
    assert proxies.iloc[0]["flagged"] and proxies.iloc[0]["measure"] == "cramers_v"
    assert "gender" not in set(proxies["feature"])  # the attribute is not its own proxy
    assert proxies.set_index("feature").loc["skill", "association"] < 0.1


def test_data_audit_reports_group_sizes_base_rates_and_proxies() -> None:
    audit = audit_data(load_dataset("hiring"), "gender")
    groups = audit.groups
    assert groups["count"].sum() == 4000
    assert groups.loc["female", "base_rate"] < groups.loc["male", "base_rate"] - 0.1
    assert audit.attribute_features == ["gender"]
    assert any("referral" in c and "proxies" in c for c in audit.cautions)
    fair = audit_data(load_dataset("hiring", bias=0.0), "gender").groups
    assert abs(fair.loc["female", "base_rate"] - fair.loc["male", "base_rate"]) < 0.05


def test_csv_sensitive_columns_band_numbers_and_count_missing_values() -> None:
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "sex": rng.choice(["F", "M"], n).astype(object),
            "x": rng.normal(size=n).round(3),
            "y": rng.integers(0, 2, n),
        }
    )
    frame.loc[:19, "sex"] = None
    data = load_csv(frame.to_csv(index=False).encode(), "y", sensitive=("age", "sex"))
    audit = audit_data(data, "sex")
    assert list(audit.groups.index) == ["F", "M", "missing"]
    assert audit.groups.loc["missing", "count"] == 20
    assert audit.missing.loc["missing", "sex"] == 1.0
    assert audit.missing.loc["F", "sex"] == 0.0
    assert set(groups_for_split(data, "test", "age")) <= {"<25", "25-44", "45-64", "65+"}


def test_group_roc_matches_sklearn_and_marks_one_label_groups() -> None:
    groups = pd.Series(GROUP + ["C"] * 3, name="g")
    y = np.concatenate([Y, [1, 1, 1]])
    scores = np.concatenate([SCORES, [0.2, 0.5, 0.9]])
    curves = group_roc(y, scores, groups)
    assert list(curves) == ["A", "B", "C"]
    assert curves["A"].auc == pytest.approx(roc_auc_score(Y[:6], SCORES[:6]))
    assert curves["B"].auc == pytest.approx(roc_auc_score(Y[6:], SCORES[6:]))
    assert curves["A"].fpr[0] == 0.0 and curves["A"].tpr[-1] == 1.0
    assert np.isnan(curves["C"].auc) and len(curves["C"].fpr) == 0


def test_cautions_speak_plainly_about_conflicts_small_groups_and_verdicts() -> None:
    rng = np.random.default_rng(0)
    groups = pd.Series(["a"] * 200 + ["b"] * 200 + ["c"] * 12, name="g")
    y = (rng.random(412) < np.r_[np.full(200, 0.6), np.full(200, 0.2), np.full(12, 0.5)]).astype(
        int
    )
    audit = audit_model(y, rng.random(412) * 0.5 + 0.5 * y, groups, n_boot=100)
    text = " ".join(audit.cautions)
    assert "'c' has only 12 people" in text
    assert "base rates differ" in text and "demographic parity" in text and "equalized odds" in text
    assert "not a verdict" in audit.cautions[-1]
    preds = audit_predictions(y, np.ones(412, dtype=int), groups, n_boot=0)
    assert preds.disparities["demographic_parity_difference"] == 0.0


def test_undefined_rates_are_nan_and_left_out_of_the_gaps() -> None:
    groups = pd.Series(["a"] * 4 + ["b"] * 4 + ["c"] * 3, name="g")
    y = np.array([1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0])
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.9, 0.9, 0.9, 0.9, 0.1, 0.2, 0.3])
    audit = audit_model(y, scores, groups, n_boot=50)
    by = audit.by_group
    assert np.isnan(by.loc["c", "tpr"]) and np.isnan(by.loc["c", "fnr"])  # no positives
    assert np.isnan(by.loc["b", "fpr"])  # no negatives
    # TPR: a 0.5, b 1.0 (c undefined); FPR: a 0.5, c 0.0 (b undefined).
    assert audit.disparities["equal_opportunity_difference"] == pytest.approx(0.5)
    assert audit.disparities["equalized_odds_difference"] == pytest.approx(0.5)
    assert any("TPR is undefined for 'c'" in c for c in audit.cautions)


def test_scores_from_stored_runs_and_binary_only(store) -> None:
    params = {"n_samples": 400}
    two, _ = train_stored(
        "hiring", params, parse_layers("linear:8 relu linear"), {"epochs": 2}, store
    )
    run = load_run(two.run_id, store)
    y, scores = scores_for_run(run, "test")
    logits = predict_logits(run.model, run.dataset.test.x)
    np.testing.assert_allclose(scores, torch.softmax(logits, -1)[:, 1].numpy(), rtol=1e-6)
    assert (y == run.dataset.test.y.numpy()).all()
    audit = audit_run(run, "gender", n_boot=0)
    assert audit.by_group["count"].sum() == len(run.dataset.test)
    # An audit knows its rows, so the page can say which split each rate comes from.
    assert audit.split == "test"
    on_val = audit_run(run, "gender", split="val", n_boot=0)
    assert on_val.split == "val" and on_val.by_group["count"].sum() == len(run.dataset.val)
    assert audit_any_run(run, "gender", split="val").split == "val"
    post = load_run(derive_threshold_variant(store, two.run_id, "gender"), store)
    assert audit_any_run(post, "gender").split == "test"

    one, _ = train_stored(
        "hiring", params, parse_layers("linear:8 relu linear:1"), {"epochs": 2}, store
    )
    run1 = load_run(one.run_id, store)
    _, s1 = scores_for_run(run1, "val")
    logits1 = predict_logits(run1.model, run1.dataset.val.x)[:, 0]
    np.testing.assert_allclose(s1, torch.sigmoid(logits1).numpy(), rtol=1e-6)

    iris, _ = train_stored("iris", {}, parse_layers("linear:8 relu linear"), {"epochs": 1}, store)
    with pytest.raises(PlaygroundError, match="need a binary task"):
        scores_for_run(load_run(iris.run_id, store))


def test_hiring_is_seeded_documented_and_checks_its_parameters() -> None:
    a, b = load_dataset("hiring", n_samples=300), load_dataset("hiring", n_samples=300)
    assert torch.equal(a.train.x, b.train.x) and a.train.sensitive.equals(b.train.sensitive)
    assert not torch.equal(a.train.x, load_dataset("hiring", n_samples=300, seed=1).train.x)
    assert (a.task, a.kind, a.sensitive_attributes) == ("binary", "tabular", ["gender", "age"])
    assert a.class_names == ["not hired", "hired"]
    assert a.feature_groups["referral=agency"] == "referral"
    with pytest.raises(PlaygroundError, match="no column 'salary'"):
        load_dataset("hiring", drop_columns=("salary",))
    with pytest.raises(PlaygroundError, match="bias"):
        load_dataset("hiring", bias=-1.0)


def test_package_names_stay_functions_after_their_modules_are_imported() -> None:
    # A submodule named like an exported function replaces it on the package once imported
    # (the Fairness page once crashed after a report had been built).
    import importlib
    import types

    import playground.fairness as fairness

    for module in fairness._MODULES:
        importlib.import_module(f"playground.fairness.{module}")
    for name in fairness.__all__:
        assert not isinstance(getattr(fairness, name), types.ModuleType), name
    assert callable(fairness.cautions)
