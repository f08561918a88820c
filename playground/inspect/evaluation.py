"""How a model does on a split: predictions, confusion matrix, per-class scores, and the
examples it gets most wrong (or, for regression, its largest errors).

Probabilities follow the trainer's rule (`playground.train.objectives.Objective`): one output
is a binary logit read through a sigmoid, C outputs a softmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.inspect.hooks import capture, select_rows
from playground.model.build import BuiltModel
from playground.train.objectives import Objective

DEFAULT_WORST = 12


@dataclass
class Predictions:
    """A model's predictions on every row of a split.

    Classification: `y_true`/`y_pred` int class indices (N,), `proba` (N, classes).
    Regression: float targets and predictions (N,) in the target's original units, `proba` None.
    """

    split: str
    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    class_names: list[str]

    @property
    def is_classification(self) -> bool:
        return self.proba is not None


def predict_split(built: BuiltModel, dataset: Dataset, split: str = "test") -> Predictions:
    """Run the whole split through the model (batched, eval mode)."""
    _, x, y = select_rows(dataset, split, None, len(dataset.split(split)))
    _, out = capture(built, x, [])
    out = out.reshape(len(out), -1)
    if dataset.task == "regression":
        scale, shift = dataset.target_std, dataset.target_mean
        pred = out[:, 0].numpy().astype(np.float64) * scale + shift
        true = y.float().numpy().astype(np.float64) * scale + shift
        return Predictions(split, dataset.task, true, pred, None, [])
    objective = Objective(dataset.task, "auto", out.shape[1], None)
    proba = objective.probabilities(out).numpy().astype(np.float64)
    names = list(dataset.class_names or [])
    names += [f"class {k}" for k in range(len(names), proba.shape[1])]
    return Predictions(
        split, dataset.task, y.numpy(), proba.argmax(axis=1), proba, names[: proba.shape[1]]
    )


@dataclass
class Confusion:
    """`counts[i, j]`: examples of true class i predicted as j; `normalised` divides each row
    by its total (a class absent from the split keeps a row of zeros)."""

    counts: np.ndarray
    normalised: np.ndarray
    class_names: list[str]


def confusion(pred: Predictions) -> Confusion:
    """The confusion matrix of classification predictions (classes x classes)."""
    _need_classes(pred)
    labels = list(range(len(pred.class_names)))
    counts = confusion_matrix(pred.y_true, pred.y_pred, labels=labels)
    totals = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    return Confusion(counts.astype(np.int64), normalised, pred.class_names)


def class_report(pred: Predictions) -> pd.DataFrame:
    """One row per class: class, precision, recall, f1, support (0 where undefined)."""
    _need_classes(pred)
    labels = list(range(len(pred.class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        pred.y_true, pred.y_pred, labels=labels, zero_division=0
    )
    return pd.DataFrame(
        {
            "class": pred.class_names,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support.astype(np.int64),
        }
    )


@dataclass
class Misclassified:
    """The most confidently wrong examples, worst first.

    `table` has columns row (position in the split), true, predicted, p_predicted, p_true, and
    for tabular and 2-D data the (encoded) feature values, one column per feature name.
    `inputs` are those examples' inputs (k, *input_shape) for drawing images or sequences.
    """

    split: str
    kind: str
    table: pd.DataFrame
    inputs: np.ndarray


def worst_misclassified(
    pred: Predictions, dataset: Dataset, n: int = DEFAULT_WORST
) -> Misclassified:
    """Up to `n` wrong predictions with the highest probability of the wrong class."""
    _need_classes(pred)
    assert pred.proba is not None
    wrong = np.flatnonzero(pred.y_pred != pred.y_true)
    confidence = pred.proba[wrong, pred.y_pred[wrong]]
    worst = wrong[np.argsort(-confidence, kind="stable")][:n]
    names = pred.class_names
    table = pd.DataFrame(
        {
            "row": worst,
            "true": [names[k] for k in pred.y_true[worst]],
            "predicted": [names[k] for k in pred.y_pred[worst]],
            "p_predicted": pred.proba[worst, pred.y_pred[worst]],
            "p_true": pred.proba[worst, pred.y_true[worst]],
        }
    )
    inputs = dataset.split(pred.split).x[worst].numpy()
    features = _with_features(table, inputs, dataset, pred.split)
    return Misclassified(pred.split, dataset.kind, features, inputs)


def worst_errors(pred: Predictions, dataset: Dataset, n: int = DEFAULT_WORST) -> pd.DataFrame:
    """Regression: the `n` largest absolute errors, worst first, with columns row, true,
    predicted, error (predicted - true) and abs_error, plus feature values for tabular and
    2-D data."""
    if pred.is_classification:
        raise PlaygroundError(
            "Residuals are for regression runs.", "Use the confusion matrix for classification."
        )
    error = pred.y_pred - pred.y_true
    worst = np.argsort(-np.abs(error), kind="stable")[:n]
    table = pd.DataFrame(
        {
            "row": worst,
            "true": pred.y_true[worst],
            "predicted": pred.y_pred[worst],
            "error": error[worst],
            "abs_error": np.abs(error[worst]),
        }
    )
    return _with_features(table, dataset.split(pred.split).x[worst].numpy(), dataset, pred.split)


def _with_features(
    table: pd.DataFrame, inputs: np.ndarray, dataset: Dataset, split: str
) -> pd.DataFrame:
    """Add the rows' features for flat tabular and 2-D inputs: the values as the user gave
    them (age 22, gender "female") where the dataset keeps them, else one column per input."""
    if dataset.kind not in ("tabular", "toy2d") or inputs.ndim != 2:
        return table
    raw = dataset.split(split).raw
    if raw is not None:
        given = raw.iloc[table["row"].to_numpy()].reset_index(drop=True)
        given.columns = _unique([str(c) for c in given.columns], set(table.columns))
        return pd.concat([table.reset_index(drop=True), given], axis=1)
    names = list(dataset.feature_names)[: inputs.shape[1]]
    names += [f"x{k}" for k in range(len(names), inputs.shape[1])]
    features = pd.DataFrame(inputs, columns=_unique(names, set(table.columns)))
    return pd.concat([table.reset_index(drop=True), features], axis=1)


def _unique(names: list[str], taken: set[str]) -> list[str]:
    """Feature names that do not clash with the table's own columns ('row', 'true', ...)."""
    out = []
    for name in names:
        candidate = name
        while candidate in taken:
            candidate = f"{candidate} (feature)"
        taken.add(candidate)
        out.append(candidate)
    return out


def _need_classes(pred: Predictions) -> None:
    if not pred.is_classification:
        raise PlaygroundError(
            "This is a regression run: it has no classes.",
            "Look at the largest errors (residuals) instead.",
        )
