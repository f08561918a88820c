"""How much the model leans on each feature, overall and group by group.

An audit says *what* the model does to each group; attributions say *which inputs* it uses.
If the sensitive attribute's own column, or a proxy of it, ranks high, the model leans on
the attribute whether or not its rates look equal.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from playground.errors import PlaygroundError
from playground.explain.base import Attribution
from playground.explain.summary import attribution_frame
from playground.fairness.groups import JOIN, sort_groups

FIXED = ("feature", "overall")  # the table's first two columns; the rest are groups


def attribution_by_group(
    attr: Attribution, groups: pd.Series, feature_groups: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Mean |attribution| per feature, over all explained rows and per group.

    `groups` (N,) holds one group label per explained row, in the order of
    `attr.sample_indices` (e.g. `groups_for_split(dataset, "test", a).iloc[attr.sample_indices]`).
    With `feature_groups` (encoded name -> original column) one-hot columns are summed per row
    before the absolute value, so a categorical column counts once. Returns columns feature,
    overall, then one per group (reading order), sorted by overall, largest first;
    `table.attrs["group_counts"]` holds how many explained rows each group has.
    """
    frame = attribution_frame(attr, feature_groups).abs()
    labels = np.asarray(groups, dtype=object).reshape(-1).astype(str)
    if len(labels) != len(frame):
        raise PlaygroundError(
            f"{len(labels)} group labels for {len(frame)} explained rows.",
            "Take the groups of the explained rows: groups.iloc[attr.sample_indices].",
        )
    order = sort_groups(labels)
    per_group = frame.groupby(labels, sort=False).mean().T.reindex(columns=order)
    per_group.columns = [_column_name(g) for g in order]
    table = pd.concat([frame.mean(axis=0).rename("overall"), per_group], axis=1)
    table = table.rename_axis("feature").reset_index()
    table["feature"] = table["feature"].astype(str)
    table = table.sort_values("overall", ascending=False, kind="stable", ignore_index=True)
    counts = pd.Series(labels).value_counts()
    table.attrs["group_counts"] = {_column_name(g): int(counts[g]) for g in order}
    return table


def _column_name(group: str) -> str:
    # A group literally named "feature" or "overall" would clash with the fixed columns.
    return f"{group} (group)" if group in FIXED else group


def group_columns(table: pd.DataFrame) -> list[str]:
    """The group columns of an `attribution_by_group` table (everything after overall)."""
    return [c for c in table.columns if c not in FIXED]


def reliance_summary(table: pd.DataFrame, attribute: str, proxies: pd.DataFrame) -> list[str]:
    """Plain sentences: where the attribute's own column(s) and its flagged proxies rank
    among the model's features (by overall mean |attribution|), and which feature the model
    uses most differently between groups. `proxies` is a `proxy_scores` table."""
    if table.empty:
        return ["No attributions to summarise."]
    ranks = {f: i + 1 for i, f in enumerate(table["feature"])}
    total = float(table["overall"].sum())
    n = len(table)
    out = []
    own = (
        [part.strip() for part in attribute.split(JOIN)] if attribute not in ranks else [attribute]
    )
    for column in own:
        if column in ranks:
            share = table.loc[ranks[column] - 1, "overall"] / total if total > 0 else 0.0
            out.append(
                f"'{column}' is the model's {_ordinal(ranks[column], ' ')}most relied-on feature "
                f"of {n} ({share:.0%} of the total mean |attribution|): the model uses the "
                "sensitive attribute directly."
            )
        else:
            out.append(
                f"'{column}' is not a model feature, so the model cannot use it directly; it "
                "can still use features that go with it."
            )
    flagged = (
        proxies.loc[proxies["flagged"].to_numpy(bool)]
        if "flagged" in proxies
        else proxies.iloc[0:0]
    )
    ranked = [(f, ranks[f]) for f in flagged["feature"] if f in ranks]
    if ranked:
        listed = ", ".join(f"'{f}' ({_ordinal(r)})" for f, r in ranked)
        out.append(
            f"Possible proxies of {attribute} and their rank among the {n} features: {listed}. "
            "A high rank means the model can lean on the attribute through them."
        )
    elif len(proxies):
        out.append(f"No feature is flagged as a strong proxy of {attribute}.")
    out += _largest_gap(table, attribute)
    return out


def _largest_gap(table: pd.DataFrame, attribute: str) -> list[str]:
    cols = group_columns(table)
    if len(cols) < 2:
        return []
    values = table[cols].astype(np.float64)
    gap = (values.max(axis=1) - values.min(axis=1)).fillna(0.0)
    if not (gap > 0).any():
        return []
    i = int(gap.to_numpy().argmax())
    hi, lo = values.iloc[i].idxmax(), values.iloc[i].idxmin()
    return [
        f"Among the groups of {attribute}, the model's use of '{table.loc[i, 'feature']}' "
        "differs most: mean "
        f"|attribution| {values.loc[i, hi]:.3g} for '{hi}' vs {values.loc[i, lo]:.3g} for "
        f"'{lo}'."
    ]


def _ordinal(n: int, space: str = "") -> str:
    """1 -> "1st" ("" when `space` is given: "the most", not "the 1st most"), 2 -> "2nd"..."""
    if space and n == 1:
        return ""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}{space}"
