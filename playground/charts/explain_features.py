"""Per-feature explanation charts for tabular and 2-D data: global importance bars, the SHAP-style
beeswarm summary, one sample's waterfall, and a dependence scatter.

Inputs are plain arrays: `values` (N, F) attributions in output units, `features` (N, F) the
explained inputs, `names` the F feature names. Feature names are user text and go through `plain`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from playground.charts import BLUE, ORANGE, TEMPLATE, plain, top_note
from playground.charts.explain_style import (
    FEATURE_VALUE_SCALE,
    OTHER_GREY,
    normalise_per_feature,
    sign_colours,
    top_by_magnitude,
)

ROW_PIXELS = 26  # screen height per feature row in bar / beeswarm / waterfall charts
SWARM_HALF_WIDTH = 0.4  # vertical spread of a beeswarm row, in row units (rows are 1 apart)
SWARM_BINS = 40  # x bins within which points are stacked


def importance_bars(importance: pd.DataFrame, title: str, top: int = 20) -> go.Figure:
    """Horizontal bars of global importance, most important on top. `importance` has columns
    `feature` and `importance` (or the features as its index and one numeric column). Signed
    scores are ranked by magnitude and coloured by sign."""
    names, scores = _importance_columns(importance)
    order = top_by_magnitude(scores, top)
    x = scores[order]
    colours = sign_colours(x) if (x < 0).any() else BLUE
    fig = go.Figure(
        go.Bar(
            x=x,
            y=_unique([plain(names[i]) for i in order]),
            orientation="h",
            marker_color=colours,
            hovertemplate="%{y}: %{x:.3g}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title=plain(title),
        xaxis_title="importance",
        yaxis={"autorange": "reversed", "type": "category"},
        height=120 + ROW_PIXELS * max(len(order), 1),
        margin={"t": 50, "l": 10},
    )
    top_note(fig, len(order), len(scores))
    return fig


def beeswarm(
    values: np.ndarray,
    features: np.ndarray | None,
    names: Sequence[str],
    top: int = 15,
    seed: int = 0,
    value_text: np.ndarray | None = None,
) -> go.Figure:
    """SHAP-style summary: one row per feature (the `top` by mean |attribution|, most important
    on top, row r at y = r), one point per sample at x = its attribution, stacked vertically
    where points crowd (seeded, so the same data always looks the same), coloured by the
    sample's feature value scaled per feature to [0, 1] (low blue -> high red). `value_text`
    (N, F) strings are the values the hover shows (e.g. "female" where the colour has none)."""
    values = _as_2d(values, "values")
    n, f = values.shape
    _check_names(names, f)
    if features is not None:
        features = _as_2d(features, "features")
        if features.shape != values.shape:
            raise ValueError(f"features {features.shape} must match values {values.shape}.")
    order = top_by_magnitude(np.nanmean(np.abs(values), axis=0) if n else np.zeros(f), top)
    colour = normalise_per_feature(features) if features is not None else None
    rng = np.random.default_rng(seed)
    fig = go.Figure()
    for row, j in enumerate(order):
        name = plain(names[j])
        marker: dict = {"size": 5, "opacity": 0.8}
        text = [name] * n
        if colour is not None and features is not None:
            marker.update(color=colour[:, j], coloraxis="coloraxis")
            text = [plain(f"{names[j]} = {v:.4g}") for v in features[:, j]]
        else:
            marker.update(color=BLUE)
        if value_text is not None:
            text = [plain(f"{names[j]} = {v}") for v in value_text[:, j]]
        fig.add_trace(
            go.Scatter(
                x=values[:, j],
                y=row + _swarm_offsets(values[:, j], rng),
                mode="markers",
                name=name,
                showlegend=False,
                marker=marker,
                text=text,
                hovertemplate="%{text}<br>attribution %{x:.3g}<extra></extra>",
            )
        )
    fig.add_vline(x=0.0, line={"color": OTHER_GREY, "width": 1})
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="attribution (effect on the output)",
        yaxis={
            "tickvals": list(range(len(order))),
            "ticktext": [plain(names[j]) for j in order],
            "autorange": "reversed",
            "zeroline": False,
            "showgrid": False,
        },
        height=120 + 2 * ROW_PIXELS * max(len(order), 1),
        margin={"t": 30, "l": 10},
    )
    if colour is not None:
        fig.update_layout(
            coloraxis={
                "colorscale": FEATURE_VALUE_SCALE,
                "cmin": 0.0,
                "cmax": 1.0,
                "colorbar": {
                    "title": {"text": "feature value", "side": "right"},
                    "tickvals": [0, 1],
                    "ticktext": ["low", "high"],
                },
            }
        )
    return fig


def waterfall(
    values: np.ndarray,
    names: Sequence[str],
    base_value: float,
    output: float,
    feature_values: np.ndarray | None = None,
    top: int = 12,
) -> go.Figure:
    """One sample's attributions (F,) as a waterfall from `base_value` (f(baseline) or E[f(x)])
    down the `top` features by |attribution| to `output` f(x). The remaining features are one
    "N other features" step; when the attributions do not add up to output - base (methods
    without completeness, e.g. saliency), the gap is shown as its own "not attributed" step,
    so the steps always sum to output - base. Labels read "name = value"."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64).ravel())
    _check_names(names, v.size)
    shown = feature_values is not None
    fv = np.asarray(feature_values).ravel() if shown else None
    if fv is not None and fv.size != v.size:
        raise ValueError(f"feature_values has {fv.size} entries; expected {v.size}.")
    order = top_by_magnitude(v, top)
    labels = [_name_value(names[i], fv[i] if fv is not None else None) for i in order]
    steps = list(v[order])
    rest = np.delete(v, order)
    if rest.size:
        labels.append(f"{rest.size} other features")
        steps.append(float(rest.sum()))
    gap = float(output) - float(base_value) - float(v.sum())
    if abs(gap) > 1e-6 * max(1.0, abs(float(output)), abs(float(base_value))):
        labels.append("not attributed")
        steps.append(gap)
    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            measure=["absolute"] + ["relative"] * len(steps) + ["total"],
            y=["base value", *_unique(labels), "output f(x)"],
            x=[float(base_value), *steps, float(output)],
            text=[f"{base_value:.3g}", *[f"{s:+.3g}" for s in steps], f"{output:.3g}"],
            textposition="outside",
            increasing={"marker": {"color": BLUE}},
            decreasing={"marker": {"color": ORANGE}},
            totals={"marker": {"color": OTHER_GREY}},
            connector={"line": {"color": OTHER_GREY, "width": 1}},
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="model output",
        yaxis={"autorange": "reversed", "type": "category"},
        height=140 + ROW_PIXELS * (len(steps) + 2),
        margin={"t": 30, "l": 10},
        showlegend=False,
    )
    return fig


def dependence_scatter(
    values: np.ndarray,
    features: np.ndarray,
    names: Sequence[str],
    feature: str,
    color_by: str | None = None,
) -> go.Figure:
    """How one feature's attribution depends on its value: x = the feature's value (N,), y = its
    attribution, optionally coloured by another feature's value (its own colour bar)."""
    values, features = _as_2d(values, "values"), _as_2d(features, "features")
    if features.shape != values.shape:
        raise ValueError(f"features {features.shape} must match values {values.shape}.")
    _check_names(names, values.shape[1])
    j = _index_of(names, feature)
    marker: dict = {"size": 6, "opacity": 0.8, "color": BLUE}
    text = None
    if color_by is not None:
        c = _index_of(names, color_by)
        marker.update(
            color=features[:, c],
            colorscale=FEATURE_VALUE_SCALE,
            colorbar={"title": {"text": plain(color_by), "side": "right"}},
        )
        text = [plain(f"{color_by} = {v:.4g}") for v in features[:, c]]
    fig = go.Figure(
        go.Scatter(
            x=features[:, j],
            y=values[:, j],
            mode="markers",
            marker=marker,
            text=text,
            hovertemplate="value %{x:.4g}<br>attribution %{y:.3g}"
            + ("<br>%{text}" if text else "")
            + "<extra></extra>",
        )
    )
    fig.add_hline(y=0.0, line={"color": OTHER_GREY, "width": 1})
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=plain(feature),
        yaxis_title=plain(f"attribution of {feature}"),
        margin={"t": 30},
    )
    return fig


def _importance_columns(table: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """(names, scores) from a `feature`/`importance` table, or an index + one numeric column."""
    if "feature" in table.columns:
        names = [str(n) for n in table["feature"]]
        rest = table.drop(columns="feature")
    else:
        names, rest = [str(n) for n in table.index], table
    column = "importance" if "importance" in rest.columns else None
    if column is None:
        numeric = rest.select_dtypes("number").columns
        if not len(numeric):
            raise ValueError("The importance table needs a numeric 'importance' column.")
        column = numeric[0]
    return names, rest[column].to_numpy(dtype=np.float64)


def _swarm_offsets(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Vertical offsets that stack points sharing an x bin: 0, +1, -1, +2, ... slots, in a
    seeded random order (so colour does not form stripes), scaled so the densest bin spans
    +-SWARM_HALF_WIDTH."""
    offsets = np.zeros(len(x))
    ok = np.flatnonzero(np.isfinite(x))
    if ok.size < 2:
        return offsets
    lo, hi = float(x[ok].min()), float(x[ok].max())
    span = hi - lo if hi > lo else 1.0
    bins = np.minimum(((x[ok] - lo) / span * SWARM_BINS).astype(np.int64), SWARM_BINS - 1)
    slots = np.zeros(ok.size)
    for b in np.unique(bins):
        members = rng.permutation(np.flatnonzero(bins == b))
        i = np.arange(members.size)
        slots[members] = (i + 1) // 2 * np.where(i % 2 == 1, 1.0, -1.0)
    widest = float(np.abs(slots).max())
    if widest > 0:
        offsets[ok] = slots / widest * SWARM_HALF_WIDTH
    return offsets


def _name_value(name: str, value: object) -> str:
    if value is None:
        return plain(name)
    if isinstance(value, (float, np.floating)):
        value = f"{float(value):.4g}"
    return plain(f"{name} = {value}")


def _unique(labels: list[str]) -> list[str]:
    """Category axes merge equal labels; number repeats ("a", "a (2)") so every bar stays."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _index_of(names: Sequence[str], feature: str) -> int:
    try:
        return list(names).index(feature)
    except ValueError:
        raise ValueError(f"No feature named {feature!r}; features are {list(names)}.") from None


def _as_2d(array: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(array, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{what} must be (samples, features); got shape {a.shape}.")
    return a


def _check_names(names: Sequence[str], count: int) -> None:
    if len(names) != count:
        raise ValueError(f"Got {len(names)} feature names for {count} features.")
