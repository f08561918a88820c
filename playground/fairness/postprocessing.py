"""Post-processing mitigation: Fairlearn's ThresholdOptimizer on a trained network's scores.

The network is not retrained. Per-group thresholds on its scores (randomised between two
thresholds where needed) are chosen to maximise accuracy subject to a fairness constraint.
Fit them on the validation split and judge them on the test split: fitting on test would
grade the thresholds on the rows they were tuned to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin

from playground.errors import PlaygroundError
from playground.fairness.actions import ATTRIBUTE, CONSTRAINT, DATA_PAGE, ROWS_SETTING, quote
from playground.fairness.metrics import as_groups

Constraint = Literal["demographic_parity", "equalized_odds", "true_positive_rate_parity"]
CONSTRAINTS: dict[str, str] = {
    "demographic_parity": "equal selection rates across groups",
    "equalized_odds": "equal true and false positive rates across groups",
    "true_positive_rate_parity": "equal true positive rates (equal opportunity)",
}


class ScoresAsModel(ClassifierMixin, BaseEstimator):
    """A prefit 'model' whose input is the network's score itself: X (N, 1) -> X[:, 0].

    ThresholdOptimizer asks its estimator for scores; the network's scores are computed
    once, outside, and passed in as the only feature.
    """

    def fit(self, X, y=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64)[:, 0]


@dataclass
class ThresholdPostprocessor:
    """A fitted ThresholdOptimizer plus what it needs to predict reproducibly."""

    optimizer: ThresholdOptimizer
    constraint: str
    seed: int
    groups_seen: list[str]

    def rules(self) -> dict[str, str]:
        """Each group's threshold rule in words, e.g. "positive when score [>0.62] with
        probability 100%"."""
        found = self.optimizer.interpolated_thresholder_.interpolation_dict
        return {str(g): _rule(rule) for g, rule in found.items()}

    def apply(self, scores: np.ndarray, groups: pd.Series) -> np.ndarray:
        """Post-processed 0/1 predictions (N,) for scores (N,) and group labels (N,)."""
        labels = as_groups(groups)
        unseen = sorted(set(labels) - set(self.groups_seen))
        if unseen:
            raise PlaygroundError(
                f"Group(s) {', '.join(map(repr, unseen))} did not occur in the rows the "
                "thresholds were fitted on, so they have no threshold.",
                f"Choose a {quote(ATTRIBUTE)} with larger groups (one attribute rather than "
                f"an intersection), or train on more rows ({quote(ROWS_SETTING)} on the "
                f"{quote(DATA_PAGE)} page).",
            )
        x = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
        pred = self.optimizer.predict(x, sensitive_features=labels, random_state=self.seed)
        return np.asarray(pred).astype(np.int64)


def _rule(interpolation: dict) -> str:
    """One group's randomised threshold rule in words."""
    parts = []
    for i in (0, 1):
        p = float(interpolation.get(f"p{i}", 0.0))
        if p > 0:
            parts.append(f"{interpolation[f'operation{i}']} with probability {p:.0%}")
    rule = "; ".join(parts) or "no rule"
    ignore = float(interpolation.get("p_ignore", 0.0))
    if ignore > 0:
        constant = float(interpolation.get("prediction_constant", 0.0))
        rule = f"predict {constant:g} with probability {ignore:.0%}, else: {rule}"
    return f"positive when score {rule}"


def threshold_optimizer(
    y_true: np.ndarray,
    scores: np.ndarray,
    groups: pd.Series,
    constraint: Constraint = "demographic_parity",
    seed: int = 0,
    objective: str = "accuracy_score",
) -> ThresholdPostprocessor:
    """Fit per-group thresholds on labels y_true (N,) in {0, 1}, scores (N,) (probability of
    the positive class) and group labels (N,), from the validation split, not test."""
    if constraint not in CONSTRAINTS:
        raise PlaygroundError(
            f"Unknown fairness constraint {constraint!r}.",
            f"Choose one of: {', '.join(CONSTRAINTS)}.",
        )
    labels = as_groups(groups)
    y = np.asarray(y_true).reshape(-1).astype(np.int64)
    if len(np.unique(y)) < 2:
        raise PlaygroundError(
            "The validation rows the thresholds are fitted on have only one label value.",
            f"Train on more rows ({quote(ROWS_SETTING)} on the {quote(DATA_PAGE)} page).",
        )
    x = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    optimizer = ThresholdOptimizer(
        estimator=ScoresAsModel().fit(x, y),
        constraints=constraint,
        objective=objective,
        prefit=True,
        predict_method="predict",
    )
    try:
        optimizer.fit(x, y, sensitive_features=labels)
    except ValueError as exc:
        raise PlaygroundError(
            f"Fairlearn could not fit thresholds for {constraint}: {exc}",
            f"Choose another {quote(CONSTRAINT)}, or a {quote(ATTRIBUTE)} with larger groups "
            "(one attribute rather than an intersection).",
        ) from None
    return ThresholdPostprocessor(optimizer, constraint, seed, sorted(set(labels)))


def apply(post: ThresholdPostprocessor, scores: np.ndarray, groups: pd.Series) -> np.ndarray:
    """Post-processed 0/1 predictions (N,); the same as `post.apply(scores, groups)`."""
    return post.apply(scores, groups)
