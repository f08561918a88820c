"""Calibration by group: bins, expected calibration error and their bootstrap intervals,
checked against a hand computation on a small table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playground.fairness.calibration import (
    bin_index,
    bootstrap_ece,
    calibration_by_group,
    expected_calibration_error,
)

# Group a: 4 rows; group b: 4 rows; 4 bins of width 0.25.
SCORES = np.array([0.1, 0.2, 0.6, 0.9, 0.3, 0.4, 0.8, 1.0])
LABELS = np.array([0, 1, 1, 1, 0, 0, 0, 1])
GROUPS = pd.Series(["a", "a", "a", "a", "b", "b", "b", "b"], name="g")


def test_ece_matches_a_hand_computation() -> None:
    assert list(bin_index(SCORES, 4)) == [0, 0, 2, 3, 1, 1, 3, 3]
    # a: bin 0 {0.1, 0.2} labels {0, 1}: |1 - 0.3| = 0.7; bin 2 {0.6}: |1 - 0.6| = 0.4;
    #    bin 3 {0.9}: |1 - 0.9| = 0.1 -> (0.7 + 0.4 + 0.1) / 4 = 0.3
    # b: bin 1 {0.3, 0.4} labels {0, 0}: |0 - 0.7| = 0.7; bin 3 {0.8, 1.0} labels {0, 1}:
    #    |1 - 1.8| = 0.8 -> (0.7 + 0.8) / 4 = 0.375
    result = calibration_by_group(LABELS, SCORES, GROUPS, n_bins=4, n_boot=0)
    assert result.ece.loc["a", "ece"] == pytest.approx(0.3)
    assert result.ece.loc["b", "ece"] == pytest.approx(0.375)
    # everyone: bin 0 0.7, bin 1 0.7, bin 2 0.4, bin 3 |2 - 2.7| = 0.7 -> 2.5 / 8
    assert result.overall_ece == pytest.approx(2.5 / 8)
    assert expected_calibration_error(LABELS, SCORES, 4) == pytest.approx(0.3125)
    # The reliability diagram's points: group b's bin 3 has mean score 0.9, half positive.
    b3 = result.bins[(result.bins["group"] == "b") & (result.bins["bin"] == 3)].iloc[0]
    assert (b3["count"], b3["mean_score"], b3["positive_rate"]) == (2, pytest.approx(0.9), 0.5)
    assert len(result.bins) == 5  # only bins that hold rows


def test_a_calibrated_score_has_a_small_ece_and_an_interval_around_it() -> None:
    rng = np.random.default_rng(0)
    scores = rng.random(4000)
    labels = (rng.random(4000) < scores).astype(int)  # calibrated by construction
    shifted = np.clip(scores + 0.2, 0, 1)  # over-confident by 0.2 almost everywhere
    groups = pd.Series(np.where(np.arange(4000) % 2 == 0, "x", "y"), name="g")
    both = np.where(groups == "x", scores, shifted)
    result = calibration_by_group(labels, both, groups, n_bins=10, n_boot=200, seed=0)
    x, y = result.ece.loc["x"], result.ece.loc["y"]
    assert x["ece"] < 0.05 and y["ece"] > 0.15
    # Like a gap, an ECE is a sum of absolute values, so resamples of a calibrated group
    # sit above its own small ECE: the interval says how large it plausibly is.
    assert x["ece"] <= x["ece_ci_high"] < 0.05
    assert y["ece_ci_low"] <= y["ece"] <= y["ece_ci_high"]
    assert y["ece_ci_low"] > x["ece_ci_high"]  # the two groups' intervals do not overlap


def test_the_bootstrap_with_every_row_once_is_the_ece_itself() -> None:
    rng = np.random.default_rng(1)
    replicates = bootstrap_ece(LABELS[:4], SCORES[:4], 4, 500, rng)
    assert replicates.shape == (500,)
    assert replicates.min() >= 0 and np.median(replicates) == pytest.approx(0.3, abs=0.15)
