"""Error analysis: the error tree finds a region planted with label noise as its worst leaf,
describes it in the user's own values, and the heat map and cohort rows agree with it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playground.fairness.error_analysis import cohort_rows, error_heatmap, error_tree


def planted(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows with two numbers and a text column; a model that is right except for 3% random
    errors everywhere and 40% label noise where experience > 7 and team is 'night'."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "experience": rng.uniform(0, 10, n).round(1),
            "age": rng.integers(20, 65, n),
            "team": rng.choice(["day", "night", "weekend"], n),
        }
    )
    region = (frame["experience"] > 7).to_numpy() & (frame["team"] == "night").to_numpy()
    noise = np.where(region, 0.4, 0.03)
    errors = rng.random(n) < noise
    return frame, errors, region


def test_the_tree_finds_the_planted_region_as_its_worst_leaf() -> None:
    frame, errors, region = planted()
    tree = error_tree(frame, errors, max_depth=3)
    worst = tree.worst
    rows = cohort_rows(tree, worst.node)
    inside = region[rows].mean()
    assert inside >= 0.9  # the worst cohort is the planted region...
    assert region[rows].sum() / region.sum() >= 0.9  # ...and holds most of it
    assert worst.error_rate > 0.3 and worst.error_rate > 5 * tree.error_rate / 2
    # In the user's words: the team's value and a threshold near 7 on experience.
    assert "team is night" in worst.rule and "experience >" in worst.rule
    threshold = float(worst.rule.split("experience > ")[1].split()[0])
    assert threshold == pytest.approx(7.0, abs=0.3)
    # Cohorts partition the rows; sizes and error counts add up.
    assert sum(c.size for c in tree.cohorts) == len(frame)
    assert sum(c.errors for c in tree.cohorts) == int(errors.sum())
    assert worst.error_share == pytest.approx(worst.errors / errors.sum())


def test_the_heat_map_shows_the_region_in_its_cell() -> None:
    frame, errors, _ = planted()
    rates, counts = error_heatmap(frame, errors, "experience", "team", bins=4)
    assert list(rates.columns) == ["day", "night", "weekend"]
    top_band = rates.index[-1]  # the highest experience band (7.5 to 10)
    assert rates.loc[top_band, "night"] == rates.max().max() > 0.3
    assert int(counts.to_numpy().sum()) == len(frame)
    assert rates.loc[rates.index[0], "day"] < 0.06
