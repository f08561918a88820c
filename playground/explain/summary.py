"""Turn an Attribution into the tables and arrays pages, charts and reports draw.

Pure numpy / pandas: no torch, no Captum, no SHAP. Shared by every method family.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from playground.errors import PlaygroundError
from playground.explain.base import Attribution

DEFAULT_TOLERANCE = 0.05  # completeness: allowed |sum - (f(x) - f(b))| / mean |f(x) - f(b)|


def _per_feature(attr: Attribution) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Attributions and inputs as (N, D) matrices with D column names.

    Tabular / 2D data: one column per input feature. Sequences with real-valued features
    (N, T, F): one column per (step, feature). Token sequences (N, T): one per step. Images:
    one per pixel (and channel). Layer maps (Grad-CAM, conductance) are not per input
    feature and are refused.
    """
    if attr.layer_map:
        raise PlaygroundError(
            f"{attr.title} gives a map over a layer, not a value per input feature.",
            "Use its map view, or an input method such as Integrated Gradients for a table.",
        )
    n = attr.n
    values = attr.values.reshape(n, -1)
    inputs = attr.inputs.reshape(n, -1)
    shape = attr.values.shape[1:]
    names = list(attr.feature_names)
    if len(names) == values.shape[1]:
        return values, inputs, names
    if attr.data_kind == "sequence" and len(shape) == 2 and len(names) == shape[1]:
        names = [f"t{t}:{name}" for t in range(shape[0]) for name in names]
    elif attr.data_kind == "sequence" and len(shape) == 1:
        names = [f"t{t}" for t in range(shape[0])]
    else:
        names = [f"x{i}" for i in range(values.shape[1])]
    return values, inputs, names


def _group_columns(table: pd.DataFrame, groups: Mapping[str, str]) -> pd.DataFrame:
    """Sum columns that come from one original column (one-hot groups), keeping order."""
    original = [groups.get(c, c) for c in table.columns]
    grouped = table.T.groupby(original, sort=False).sum().T
    grouped.index = table.index
    return grouped


def global_importance(attr: Attribution, groups: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Mean |attribution| per feature over the explained samples, largest first.

    With `groups` (the dataset's `feature_groups`, encoded name -> original column), one-hot
    columns are first summed per sample into their original column, so a categorical column
    is ranked once. Sequences with several features per step are ranked per feature, adding
    |attribution| over the time steps. Returns columns `feature`, `importance`.
    """
    shape = attr.values.shape[1:]
    if (
        not attr.layer_map
        and attr.data_kind == "sequence"
        and len(shape) == 2
        and len(attr.feature_names) == shape[1]
    ):
        per_feature = np.abs(attr.values).sum(axis=1)  # (N, F): summed over time
        table = pd.DataFrame(per_feature, columns=list(attr.feature_names))
        importance = table.mean(axis=0)
    else:
        table = attribution_frame(attr, groups)
        importance = table.abs().mean(axis=0)
    out = pd.DataFrame({"feature": importance.index.astype(str), "importance": importance.values})
    return out.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def attribution_frame(attr: Attribution, groups: Mapping[str, str] | None = None) -> pd.DataFrame:
    """(N, features) attributions, indexed by test row; one-hot groups summed if `groups`."""
    values, _, names = _per_feature(attr)
    table = pd.DataFrame(values, columns=names, index=pd.Index(attr.sample_indices, name="row"))
    return _group_columns(table, groups) if groups else table


def numeric_values(features: pd.DataFrame) -> np.ndarray:
    """The feature table as floats (N, features) for colouring points: numeric columns keep
    their values, category columns (strings after one-hot grouping) become NaN."""
    out = np.full(features.shape, np.nan)
    for j, column in enumerate(features.columns):
        series = features[column]
        if series.dtype.kind in "fiub":
            out[:, j] = series.to_numpy(dtype=float)
    return out


def feature_table(
    attr: Attribution,
    groups: Mapping[str, str] | None = None,
    originals: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attributions and the matching input values, both (N, features) indexed by test row,
    for beeswarm and dependence plots.

    With `groups`, one-hot columns are merged into their original column: the attribution is
    the group's sum, and the value is the category that is switched on (e.g. "red"; None
    when no column of the group is on), so that column holds strings. `originals` (the
    explained rows as the user gave them, indexed by test row, e.g. from
    `data_summary.original_features`) replaces the values of the columns it has: age 22,
    not its standardised -0.6; a missing value stays missing.
    """
    values, inputs, names = _per_feature(attr)
    index = pd.Index(attr.sample_indices, name="row")
    attributions = pd.DataFrame(values, columns=names, index=index)
    features = pd.DataFrame(inputs, columns=names, index=index)
    if groups:
        attributions, features = _merge_groups(attributions, features, groups)
    if originals is not None:
        given = originals.reindex(index)
        for column in features.columns:
            if column in given.columns:
                features[column] = given[column].to_numpy()
    return attributions, features


def _merge_groups(
    attributions: pd.DataFrame, features: pd.DataFrame, groups: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    names, index = list(features.columns), features.index
    merged: dict[str, Any] = {}
    for column in dict.fromkeys(groups.get(c, c) for c in names):
        members = [c for c in names if groups.get(c, c) == column]
        if len(members) == 1 and members[0] == column:
            merged[column] = features[column]
            continue
        block = features[members].to_numpy()
        labels = np.asarray([m.split("=", 1)[-1] for m in members], dtype=object)
        on = block.argmax(axis=1)
        merged[column] = pd.Series(
            np.where(block.max(axis=1) > 0.5, labels[on], None), index=index, dtype=object
        )
    return _group_columns(attributions, groups), pd.DataFrame(merged, index=index)


def value_text(features: pd.DataFrame) -> np.ndarray:
    """(N, features) strings for hovers and labels: numbers to 4 significant digits, text as
    is, and "(missing)" for a missing value."""
    out = np.empty(features.shape, dtype=object)
    for j, column in enumerate(features.columns):
        out[:, j] = [_one_value(v) for v in features[column]]
    return out


def _one_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(missing)"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def time_step_attribution(attr: Attribution) -> np.ndarray:
    """(N, T) attribution per time step of a sequence: summed over the features of a step
    (token attributions are already one value per step)."""
    if attr.data_kind != "sequence" or attr.layer_map:
        raise PlaygroundError(
            f"Time-step attribution needs a sequence explanation; this is {attr.data_kind} "
            f"data{' (a layer map)' if attr.layer_map else ''}.",
            "Explain a sequence dataset with an input method (e.g. Integrated Gradients).",
        )
    values = attr.values
    return values.sum(axis=2) if values.ndim == 3 else values


def image_attribution(attr: Attribution) -> np.ndarray:
    """(N, H, W) attribution per pixel: summed over channels; Grad-CAM maps are already
    (N, H, W)."""
    if attr.data_kind != "image":
        raise PlaygroundError(
            f"Image attribution needs an image explanation; this is {attr.data_kind} data.",
            "Explain an image dataset (e.g. digits).",
        )
    values = attr.values
    if values.ndim == 4:
        return values.sum(axis=1)
    if values.ndim == 3:
        return values
    raise PlaygroundError(
        f"{attr.title} values have shape {values.shape[1:]}, not an image map.",
        "Use Grad-CAM or an input method for an image map.",
    )


def completeness(attr: Attribution, tolerance: float = DEFAULT_TOLERANCE) -> dict[str, Any]:
    """Check that attributions add up to f(x) - f(baseline), per sample.

    Returns `total` (N,) sums of attributions, `expected` (N,) f(x) - f(baseline),
    `max_abs_error`, `relative_error` (max error / mean |expected|), `tolerance` (on the
    relative error) and `passed`. Needs `baseline_outputs` (IG, DeepLIFT, conductance...).
    """
    if attr.baseline_outputs is None:
        raise PlaygroundError(
            f"{attr.title} has no baseline output, so completeness cannot be checked.",
            "Use Integrated Gradients, DeepLIFT or Layer Conductance.",
        )
    total = attr.values.reshape(attr.n, -1).astype(np.float64).sum(axis=1)
    expected = attr.outputs.astype(np.float64) - attr.baseline_outputs.astype(np.float64)
    errors = np.abs(total - expected)
    max_error = float(errors.max()) if errors.size else 0.0
    scale = float(np.abs(expected).mean()) if expected.size else 0.0
    # Guard against an input equal to its baseline (expected 0): compare with a tiny floor.
    relative = max_error / max(scale, 1e-6)
    return {
        "total": total,
        "expected": expected,
        "max_abs_error": max_error,
        "relative_error": relative,
        "tolerance": tolerance,
        "passed": bool(relative <= tolerance),
    }


def layer_importance(attr: Attribution) -> pd.DataFrame:
    """For layer maps (conductance): mean |attribution| per unit of the layer, sorted desc.

    Conductance tells how much each hidden unit carries of the prediction; a conv layer's
    units are (channel, row, column) positions, named "c{channel}" after summing positions.
    """
    values = np.abs(attr.values.astype(np.float64))
    if values.ndim == 4:  # (N, C, h, w): one entry per channel
        per_unit = values.sum(axis=(2, 3)).mean(axis=0)
        names = [f"c{c}" for c in range(per_unit.shape[0])]
    else:
        per_unit = values.reshape(attr.n, -1).mean(axis=0)
        names = [f"unit {i}" for i in range(per_unit.shape[0])]
    table = pd.DataFrame({"feature": names, "importance": per_unit})
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def waterfall_inputs(
    attr: Attribution,
    position: int,
    groups: Mapping[str, str] | None = None,
    originals: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """One sample's waterfall: `values` (F,), `names`, `base_value`, `output` and
    `feature_values` (F,) as text for `charts.explain.waterfall`. The base is SHAP's expected
    value, else f(baseline), else whatever the attributions leave unexplained."""
    values, features = feature_table(attr, groups, originals)
    row = values.iloc[position].to_numpy(dtype=float)
    output = float(attr.outputs[position])
    if attr.expected_value is not None:
        base = float(attr.expected_value[position])
    elif attr.baseline_outputs is not None:
        base = float(attr.baseline_outputs[position])
    else:
        base = output - float(row.sum())
    return {
        "values": row,
        "names": list(values.columns),
        "base_value": base,
        "output": output,
        "feature_values": value_text(features.iloc[[position]])[0],
    }
