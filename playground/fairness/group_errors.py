"""Group metrics for runs that make no yes/no decision: regression and multiclass.

    regression   each group's mean absolute error and root mean squared error (in the
                 target's own units), its mean error (prediction - truth: who is over- or
                 under-estimated), with bootstrap intervals for the MAE; the gaps between
                 groups.
    multiclass   each group's share of rows predicted as each class (per-class selection
                 rates), its accuracy and per-class recall; the largest gap per class.

Selection-rate and error-rate parity have the same meaning here as for a binary decision,
one class at a time; what they cannot say (biased labels, small groups) is the same too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from playground.errors import PlaygroundError
from playground.fairness.bootstrap import percentile_interval
from playground.fairness.groups import groups_for_split, sort_groups
from playground.fairness.metrics import MIN_GROUP, as_groups
from playground.runner import LoadedRun, predict_logits


@dataclass
class GroupErrors:
    """`table`: one row per group (index = groups). Regression: count, mae, mae_ci_low,
    mae_ci_high, rmse, mean_error, mean_target, mean_prediction. Multiclass: count,
    accuracy, then `selection_<class>` and `recall_<class>` per class. `gaps`: largest
    difference between groups of each headline number; `notes`: what to read it with."""

    task: str
    attribute: str
    table: pd.DataFrame
    gaps: dict[str, float]
    class_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    split: str = ""


def regression_by_group(
    y_true: np.ndarray,
    predictions: np.ndarray,
    groups: pd.Series,
    n_boot: int = 200,
    seed: int = 0,
    ci_level: float = 0.95,
) -> GroupErrors:
    """Errors by group for targets and predictions (N,) in the same units."""
    y = np.asarray(y_true, dtype=np.float64).reshape(-1)
    p = np.asarray(predictions, dtype=np.float64).reshape(-1)
    labels = as_groups(groups)
    g = labels.to_numpy()
    rng = np.random.default_rng(seed)
    rows = []
    for group in sort_groups(g):
        at = g == group
        err = p[at] - y[at]
        n = int(at.sum())
        row = {
            "group": group,
            "count": n,
            "mae": float(np.abs(err).mean()),
            "rmse": float(np.sqrt(np.square(err).mean())),
            "mean_error": float(err.mean()),
            "mean_target": float(y[at].mean()),
            "mean_prediction": float(p[at].mean()),
        }
        if n_boot > 0:
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)  # (B, n)
            low, high = percentile_interval(counts @ np.abs(err) / n, ci_level)
            row["mae_ci_low"], row["mae_ci_high"] = float(low), float(high)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("group").rename_axis(labels.name)
    gaps = {k: float(table[k].max() - table[k].min()) for k in ("mae", "rmse", "mean_error")}
    notes = _small(table)
    return GroupErrors("regression", str(labels.name), table, gaps, [], notes)


def multiclass_by_group(
    y_true: np.ndarray, predictions: np.ndarray, groups: pd.Series, class_names: list[str]
) -> GroupErrors:
    """Per-class selection rates, recall and accuracy by group for class indices (N,)."""
    y = np.asarray(y_true).reshape(-1).astype(np.int64)
    p = np.asarray(predictions).reshape(-1).astype(np.int64)
    labels = as_groups(groups)
    g = labels.to_numpy()
    k = len(class_names)
    rows = []
    for group in sort_groups(g):
        at = g == group
        row: dict[str, object] = {"group": group, "count": int(at.sum())}
        row["accuracy"] = float((p[at] == y[at]).mean())
        chosen = np.bincount(p[at], minlength=k) / max(int(at.sum()), 1)
        for c, name in enumerate(class_names):
            row[f"selection_{name}"] = float(chosen[c])
            actual = at & (y == c)
            row[f"recall_{name}"] = float((p[actual] == c).mean()) if actual.any() else np.nan
        rows.append(row)
    table = pd.DataFrame(rows).set_index("group").rename_axis(labels.name)
    gaps = {"accuracy": float(table["accuracy"].max() - table["accuracy"].min())}
    for name in class_names:
        column = table[f"selection_{name}"]
        gaps[f"selection_{name}"] = float(column.max() - column.min())
    return GroupErrors(
        "multiclass", str(labels.name), table, gaps, list(class_names), _small(table)
    )


def _small(table: pd.DataFrame) -> list[str]:
    small = [str(g) for g, n in table["count"].items() if n < MIN_GROUP]
    if not small:
        return []
    return [
        f"Fewer than {MIN_GROUP} rows in: {', '.join(small)}. Their numbers move a lot from "
        "sample to sample; read their intervals, not their values."
    ]


def group_errors_for_run(
    run: LoadedRun, attribute: str, split: str = "test", n_boot: int = 200
) -> GroupErrors:
    """Group metrics of a regression or multiclass run on one split."""
    dataset = run.dataset
    data = dataset.split(split)
    groups = groups_for_split(dataset, split, attribute)
    out = predict_logits(run.model, data.x).float()
    if dataset.task == "regression":
        # Targets are standardised for training: errors are reported in the target's units.
        scale, shift = dataset.target_std, dataset.target_mean
        pred = out.reshape(len(data), -1)[:, 0].numpy() * scale + shift
        truth = data.y.numpy().astype(np.float64) * scale + shift
        result = regression_by_group(truth, pred, groups, n_boot=n_boot)
    elif dataset.task == "multiclass":
        result = multiclass_by_group(
            data.y.numpy(), out.argmax(-1).numpy(), groups, list(dataset.class_names or [])
        )
    else:
        raise PlaygroundError(
            "This view is for regression and multiclass runs.",
            "A binary run has the full audit on the other tabs.",
        )
    result.split = split
    return result
