"""Error analysis: a shallow decision tree over the features that predicts where the model
errs, as the Responsible AI dashboard's error tree does.

The tree is fitted on the rows as the user gave them (`Split.raw`: numbers unscaled, text as
text; sensitive columns added when they are not features), with each text column one-hot
("education is phd"), so every split reads in the user's own values. Its leaves are cohorts:
a rule, how many rows it holds, its error rate and its share of all errors. A cohort's rows
can then be audited like any rows (see `cohort_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError

DEFAULT_DEPTH = 3
MIN_LEAF_SHARE = 0.02  # a cohort holds at least 2% of the rows (and MIN_LEAF rows)
MIN_LEAF = 10
HEAT_BINS = 4
# A split must lower the tree's (row-weighted) Gini impurity by this much: below it, a split
# only cuts noise, and a real cohort would be shown as two halves of itself.
MIN_GAIN = 0.0005
_IS = " is "  # one-hot column names: "education is phd"


@dataclass
class Cohort:
    """A leaf of the error tree: `rule` (conditions joined by 'and'), `size` rows, `errors`,
    `error_rate`, `error_share` (its share of all errors), `node` (the tree's leaf id)."""

    node: int
    rule: str
    size: int
    errors: int
    error_rate: float
    error_share: float


@dataclass
class ErrorTree:
    """`nodes`: one row per tree node (node, parent, depth, condition (from its parent),
    rule, size, errors, error_rate, leaf); `cohorts`: the leaves, worst error rate first;
    `leaf_of_row`: each row's leaf (N,)."""

    nodes: pd.DataFrame
    cohorts: list[Cohort]
    leaf_of_row: np.ndarray
    error_rate: float
    features: list[str]
    split: str = ""

    @property
    def worst(self) -> Cohort:
        return self.cohorts[0]


def encode(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as they are (NaN kept: the tree learns where missing values go), text columns
    one-hot as '<column> is <value>' (0/1)."""
    parts = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            parts.append(values.astype(np.float64).rename(str(column)))
        else:
            text = values.astype(object).where(values.notna(), "missing").astype(str)
            dummies = pd.get_dummies(text, prefix=str(column), prefix_sep=_IS, dtype=np.float64)
            parts.append(dummies)
    return pd.concat(parts, axis=1)


def _condition(feature: str, threshold: float, left: bool, numbers: set[str]) -> str:
    if feature in numbers:
        return f"{feature} ≤ {threshold:.4g}" if left else f"{feature} > {threshold:.4g}"
    column, _, value = feature.partition(_IS)
    return f"{column} is not {value}" if left else f"{column} is {value}"


def error_tree(
    frame: pd.DataFrame,
    errors: np.ndarray,
    max_depth: int = DEFAULT_DEPTH,
    min_leaf: int | None = None,
    seed: int = 0,
) -> ErrorTree:
    """Fit the error tree on raw rows (N, columns) and which rows the model got wrong (N,)."""
    from sklearn.tree import DecisionTreeClassifier

    wrong = np.asarray(errors).reshape(-1).astype(bool)
    if len(frame) != len(wrong):
        raise PlaygroundError(
            f"{len(frame)} rows but {len(wrong)} error flags.", "Pass the same rows to both."
        )
    if len(frame) == 0 or frame.shape[1] == 0:
        raise PlaygroundError(
            "There are no rows or no feature columns to look for errors in.",
            "Use a tabular run with more rows in its test split.",
        )
    x = encode(frame.reset_index(drop=True))
    numbers = {str(c) for c in frame.columns if str(c) in x.columns}
    leaf_size = min_leaf or max(MIN_LEAF, int(np.ceil(MIN_LEAF_SHARE * len(frame))))
    tree = DecisionTreeClassifier(
        max_depth=max_depth,
        min_samples_leaf=leaf_size,
        min_impurity_decrease=MIN_GAIN,
        random_state=seed,
    )
    tree.fit(x.to_numpy(), wrong.astype(np.int64))
    t = tree.tree_
    leaf_of_row = tree.apply(x.to_numpy())
    node_rows = tree.decision_path(x.to_numpy()).tocsc()
    total_errors = max(int(wrong.sum()), 1)
    rows, rules = [], {0: ""}
    conditions, parents, depths = {0: ""}, {0: -1}, {0: 0}
    for node in range(t.node_count):
        left, right = t.children_left[node], t.children_right[node]
        if left != right:  # a split: name both children's conditions
            feature = str(x.columns[t.feature[node]])
            for child, is_left in ((left, True), (right, False)):
                conditions[child] = _condition(feature, float(t.threshold[node]), is_left, numbers)
                parents[child], depths[child] = node, depths[node] + 1
                rules[child] = " and ".join(p for p in (rules[node], conditions[child]) if p)
        members = node_rows[:, node].nonzero()[0]
        size, errs = len(members), int(wrong[members].sum())
        rows.append(
            {
                "node": node,
                "parent": parents[node],
                "depth": depths[node],
                "condition": conditions[node] or "all rows",
                "rule": rules[node] or "all rows",
                "size": size,
                "errors": errs,
                "error_rate": errs / size if size else float("nan"),
                "leaf": left == right,
            }
        )
    nodes = pd.DataFrame(rows)
    leaves = nodes[nodes["leaf"]].sort_values(["error_rate", "size"], ascending=[False, False])
    cohorts = [
        Cohort(
            int(r.node),
            r.rule,
            int(r.size),
            int(r.errors),
            float(r.error_rate),
            r.errors / total_errors,
        )
        for r in leaves.itertuples()
    ]
    return ErrorTree(
        nodes, cohorts, leaf_of_row, float(wrong.mean()), [str(c) for c in frame.columns]
    )


def cohort_rows(tree: ErrorTree, node: int) -> np.ndarray:
    """The row indices (into the rows the tree was fitted on) of cohort `node`."""
    return np.flatnonzero(tree.leaf_of_row == node)


def _bands(values: pd.Series, bins: int) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > bins:
        edges = np.unique(
            np.nanquantile(values.to_numpy(dtype=np.float64), np.linspace(0, 1, bins + 1))
        )
        cut = pd.cut(values, edges, include_lowest=True, duplicates="drop")
        text = cut.map(lambda iv: f"{iv.left:.4g} to {iv.right:.4g}", na_action="ignore")
        return text.astype(object).where(cut.notna(), "missing")
    return values.astype(object).where(values.notna(), "missing").astype(str)


def error_heatmap(
    frame: pd.DataFrame, errors: np.ndarray, first: str, second: str, bins: int = HEAT_BINS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Error rate and row count over two columns (numbers in quantile bands, text as is):
    (rates, counts), rows = `first`'s values, columns = `second`'s."""
    for name in (first, second):
        if name not in frame.columns:
            raise PlaygroundError(
                f"No column {name!r} in these rows.",
                f"Choose from: {', '.join(map(str, frame.columns))}.",
            )
    table = pd.DataFrame(
        {
            "a": _bands(frame[first].reset_index(drop=True), bins),
            "b": _bands(frame[second].reset_index(drop=True), bins),
            "wrong": np.asarray(errors).reshape(-1).astype(np.float64),
        }
    )
    grouped = table.groupby(["a", "b"], sort=False)["wrong"]
    rates = grouped.mean().unstack("b")
    counts = grouped.size().unstack("b").fillna(0).astype(int)
    order_a = sorted(rates.index, key=_band_key)
    order_b = sorted(rates.columns, key=_band_key)
    rates = rates.reindex(index=order_a, columns=order_b).rename_axis(index=first, columns=second)
    counts = counts.reindex(index=order_a, columns=order_b).rename_axis(index=first, columns=second)
    return rates, counts


def _band_key(label: str) -> tuple:
    head = str(label).split(" to ")[0]
    try:
        return (0, float(head), "")
    except ValueError:
        return (1 if label != "missing" else 2, 0.0, str(label))


def raw_rows(dataset: Dataset, split: str) -> pd.DataFrame:
    """The split's rows as the user gave them: its raw features, plus sensitive columns that
    are not features (a run trained without them is still looked at by them)."""
    data = dataset.split(split)
    if data.raw is None:
        raise PlaygroundError(
            f"{dataset.title} keeps no rows as they were given, so there are no columns to "
            "describe cohorts by.",
            "Error analysis works on tabular data (hiring, adult, german_credit, a CSV).",
        )
    frame = data.raw.reset_index(drop=True)
    if data.sensitive is not None:
        extra = [c for c in data.sensitive.columns if c not in frame.columns]
        frame = pd.concat([frame, data.sensitive[extra].reset_index(drop=True)], axis=1)
    return frame
