"""The data audit: who is in the data, how often each group has the positive label, what is
missing for whom, and which features could stand in for the sensitive attribute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from playground.data.dataset import Dataset
from playground.data.tabular import MISSING as ENCODED_MISSING
from playground.fairness.groups import (
    attribute_columns,
    groups_for_split,
    sensitive_frame,
    sort_groups,
)
from playground.fairness.metrics import MIN_GROUP
from playground.fairness.proxies import PROXY_FLAG, proxy_scores

MISSING_NOTE = (
    "Missing values are counted from the raw sensitive columns and from categorical features' "
    "'(missing)' category. Numeric features had missing values filled with the training median "
    "before encoding, so they cannot be counted here."
)


@dataclass
class DataAudit:
    """A dataset seen through one sensitive attribute (rows of all `splits` together).

    `groups`: index = group label; columns count, share, small (< min_group rows), then for a
    binary task positives and base_rate (share with the positive class), for multiclass one
    `share_<class>` per class, for regression mean_target (original units).
    `missing`: index = group label; one column per column with countable missing values
    (share of the group's rows missing it); may have no columns. `proxies`: see
    `proxies.proxy_scores`. `attribute_features`: the attribute's own columns that are also
    model features (the model can use them directly).
    """

    attribute: str
    splits: tuple[str, ...]
    groups: pd.DataFrame
    missing: pd.DataFrame
    missing_note: str
    proxies: pd.DataFrame
    attribute_features: list[str]
    min_group: int
    positive_class: str | None
    cautions: list[str] = field(default_factory=list)


def audit_data(
    dataset: Dataset,
    attribute: str,
    splits: Sequence[str] = ("train", "val", "test"),
    min_group: int = MIN_GROUP,
    proxy_flag: float = PROXY_FLAG,
) -> DataAudit:
    """Audit `dataset` for `attribute` (a sensitive column, or "a & b" for an intersection)."""
    from playground.fairness.caution_text import data_cautions

    splits = tuple(splits)
    groups = pd.concat([groups_for_split(dataset, s, attribute) for s in splits], ignore_index=True)
    y = np.concatenate([dataset.split(s).y.numpy() for s in splits])
    table = _group_table(dataset, groups, y, min_group)
    proxies = proxy_scores(dataset, attribute, splits, proxy_flag)
    own = attribute_columns(attribute, dataset.sensitive_attributes)
    used = {dataset.feature_groups.get(f, f) for f in dataset.feature_names}
    audit = DataAudit(
        attribute=attribute,
        splits=splits,
        groups=table,
        missing=_missing_table(dataset, groups, splits),
        missing_note=MISSING_NOTE,
        proxies=proxies,
        attribute_features=[c for c in own if c in used],
        min_group=min_group,
        positive_class=(dataset.class_names or [None, None])[1]
        if dataset.task == "binary"
        else None,
    )
    audit.cautions = data_cautions(audit)
    return audit


def _group_table(
    dataset: Dataset, groups: pd.Series, y: np.ndarray, min_group: int
) -> pd.DataFrame:
    frame = pd.DataFrame({"group": groups.to_numpy(), "y": y})
    by = frame.groupby("group", sort=True)["y"]
    table = pd.DataFrame({"count": by.size()})
    table["share"] = table["count"] / len(frame)
    table["small"] = table["count"] < min_group
    if dataset.task == "binary":
        table["positives"] = by.sum().astype(np.int64)
        table["base_rate"] = by.mean()
    elif dataset.task == "multiclass":
        for k, name in enumerate(dataset.class_names or []):
            table[f"share_{name}"] = by.apply(lambda v, k=k: float((v == k).mean()))
    else:
        table["mean_target"] = by.mean() * dataset.target_std + dataset.target_mean
    table.index = table.index.astype(str)
    return table.reindex(sort_groups(table.index)).rename_axis(groups.name)


def _missing_table(dataset: Dataset, groups: pd.Series, splits: tuple[str, ...]) -> pd.DataFrame:
    """Share of each group's rows missing a value, per column where that can be counted."""
    columns: dict[str, np.ndarray] = {}
    raw = sensitive_frame(dataset, splits)
    for col in raw.columns:
        columns[col] = raw[col].isna().to_numpy()
    suffix = f"={ENCODED_MISSING}"
    x = None
    for j, name in enumerate(dataset.feature_names):
        if name.endswith(suffix):
            if x is None:
                x = np.concatenate([dataset.split(s).x.numpy() for s in splits])
            columns[name.removesuffix(suffix)] = x[:, j] > 0.5
    frame = pd.DataFrame(columns).astype(float)
    frame["group"] = groups.to_numpy()
    table = frame.groupby("group", sort=True).mean()
    table.index = table.index.astype(str)
    return table.reindex(sort_groups(table.index)).rename_axis(groups.name)
