"""Fairness charts: who is in the data, how the model treats each group, how the gaps move with
the threshold, what the model leans on, and what mitigation buys.

Inputs are the plain results of `playground.fairness` (`DataAudit`, `ModelAudit`, `GroupRoc`,
sweep and comparison tables). Group, feature and variant names are user text and go through
`plain`. Small groups (fewer than `audit.min_group` people) are always drawn, hatched and
labelled "small", never hidden: the reader should see how little data they rest on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.charts import BLUE, ORANGE, TEMPLATE, class_colour, plain, top_note
from playground.fairness.proxies import PROXY_FLAG

if TYPE_CHECKING:
    from playground.fairness.data_audit import DataAudit
    from playground.fairness.metrics import ModelAudit
    from playground.fairness.roc import GroupRoc

GREY = "#9e9e9e"
SMALL_PATTERN = "/"  # hatching for groups too small to trust
ROW_PIXELS = 26  # height per bar row in horizontal charts
METRIC_TITLES = {
    "selection_rate": "selection rate",
    "base_rate": "base rate",
    "accuracy": "accuracy",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "precision": "precision",
}
METRIC_COLOURS = {"selection_rate": BLUE, "tpr": ORANGE, "fpr": class_colour(2)}
DISPARITY_TITLES = {
    "demographic_parity_difference": "demographic parity difference",
    "demographic_parity_ratio": "demographic parity ratio",
    "equalized_odds_difference": "equalized odds difference",
    "equalized_odds_ratio": "equalized odds ratio",
    "equal_opportunity_difference": "equal opportunity difference",
}


def operating_points(audit: ModelAudit) -> dict[str, tuple[float, float]]:
    """Each group's (FPR, TPR) at the audit's threshold, for `group_roc_chart`'s markers."""
    g = audit.by_group
    return {str(x): (float(g.loc[x, "fpr"]), float(g.loc[x, "tpr"])) for x in g.index}


def _group_ticks(groups: Sequence[str], counts: Sequence[int], small: Sequence[bool]) -> list[str]:
    """Category labels: the escaped group name, then its size (and "small") on a second line."""
    return [
        f"{plain(g)}<br>n={int(n)}{' · small' if s else ''}"
        for g, n, s in zip(groups, counts, small, strict=True)
    ]


def _small_note(fig: go.Figure, min_group: int) -> None:
    fig.add_annotation(
        text=f"hatched = small group (fewer than {min_group} people): rates unreliable",
        xref="paper",
        yref="paper",
        x=0.0,
        y=-0.22,
        xanchor="left",
        showarrow=False,
        font={"size": 11, "color": "#52606d"},
    )


def _errors(g: pd.DataFrame, metric: str, values: np.ndarray) -> dict | None:
    """Asymmetric error bars from `<metric>_ci_low/_ci_high` columns, or None without them."""
    low, high = f"{metric}_ci_low", f"{metric}_ci_high"
    if low not in g.columns or high not in g.columns:
        return None
    with np.errstate(invalid="ignore"):
        plus = np.clip(g[high].to_numpy(np.float64) - values, 0.0, None)
        minus = np.clip(values - g[low].to_numpy(np.float64), 0.0, None)
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}


def _threshold_text(audit: ModelAudit) -> str:
    t = audit.threshold
    return f"threshold {t:.2f}" if np.isfinite(t) else "post-processed predictions"


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=plain(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_layout(template=TEMPLATE, xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def group_rates_chart(
    audit: ModelAudit, metrics: Sequence[str] = ("selection_rate", "tpr", "fpr")
) -> go.Figure:
    """Grouped bars: one trace per metric, one bar per group, with bootstrap-interval error
    bars when the audit has them (`n_boot > 0`). Small groups are hatched and labelled."""
    g = audit.by_group
    small = g["small"].to_numpy(bool)
    ticks = _group_ticks([str(x) for x in g.index], g["count"].to_numpy(), small)
    fig = go.Figure()
    for k, metric in enumerate(metrics):
        values = g[metric].to_numpy(np.float64)
        fig.add_trace(
            go.Bar(
                x=ticks,
                y=values,
                name=METRIC_TITLES.get(metric, plain(metric)),
                marker={
                    "color": METRIC_COLOURS.get(metric, class_colour(k + 2)),
                    "pattern": {"shape": [SMALL_PATTERN if s else "" for s in small]},
                },
                error_y=_errors(g, metric, values),
                hovertemplate="%{x}: %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    has_ci = any(f"{m}_ci_low" in g.columns for m in metrics)
    interval = f", bars show {audit.ci_level:.0%} bootstrap intervals" if has_ci else ""
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        title=f"Rates by {plain(audit.attribute)} ({_threshold_text(audit)}{interval})",
        xaxis={"type": "category"},
        yaxis={"title": "rate", "range": [0, 1.05], "tickformat": ".0%"},
        margin={"t": 90, "b": 90},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    )
    if small.any():
        _small_note(fig, audit.min_group)
    return fig


def group_roc_chart(
    rocs: Mapping[str, GroupRoc], points: Mapping[str, tuple[float, float]] | None = None
) -> go.Figure:
    """One ROC curve per group (AUC in the legend; a group with one label value only gets an
    empty curve and says so), the chance diagonal, and each group's operating point
    `points[group] = (fpr, tpr)` at the current threshold as a marker."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="chance",
            line={"color": GREY, "dash": "dot", "width": 1},
            hoverinfo="skip",
            meta="chance",
        )
    )
    for i, (group, roc) in enumerate(rocs.items()):
        colour = class_colour(i)
        auc = f"AUC {roc.auc:.3f}" if np.isfinite(roc.auc) else "no curve: one label only"
        fig.add_trace(
            go.Scatter(
                x=roc.fpr,
                y=roc.tpr,
                mode="lines",
                name=f"{plain(group)} ({auc})",
                legendgroup=f"g{i}",
                line={"color": colour, "width": 2},
                hovertemplate="FPR %{x:.3f}, TPR %{y:.3f}<extra>%{fullData.name}</extra>",
                meta="roc",
            )
        )
        if points and group in points:
            fpr, tpr = points[group]
            fig.add_trace(
                go.Scatter(
                    x=[fpr],
                    y=[tpr],
                    mode="markers",
                    name=f"{plain(group)} at threshold",
                    legendgroup=f"g{i}",
                    showlegend=False,
                    marker={"color": colour, "size": 12, "line": {"color": "black", "width": 1.5}},
                    hovertemplate="at threshold: FPR %{x:.3f}, TPR %{y:.3f}<extra>%{fullData.name}</extra>",
                    meta="point",
                )
            )
    fig.update_layout(
        template=TEMPLATE,
        title="ROC curve by group (dots: the current threshold)",
        xaxis={"title": "false positive rate", "range": [0, 1]},
        yaxis={"title": "true positive rate", "range": [0, 1.02]},
        margin={"t": 50},
    )
    return fig


def disparity_sweep_chart(sweep: pd.DataFrame, threshold: float) -> go.Figure:
    """The disparities (`disparity_sweep` table: threshold + one column per disparity) as the
    threshold moves; differences solid (0 = equal), ratios dashed (1 = equal), and a vertical
    line at the current threshold."""
    fig = go.Figure()
    for k, (name, title) in enumerate(DISPARITY_TITLES.items()):
        if name not in sweep.columns:
            continue
        fig.add_trace(
            go.Scatter(
                x=sweep["threshold"],
                y=sweep[name],
                mode="lines",
                name=title,
                line={
                    "color": class_colour(k),
                    "dash": "dash" if name.endswith("_ratio") else "solid",
                },
                hovertemplate="threshold %{x:.2f}: %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.add_vline(
        x=float(threshold),
        line={"color": "black", "dash": "dot", "width": 1.5},
        annotation_text=f"threshold {threshold:.2f}",
        annotation_position="top",
    )
    fig.update_layout(
        template=TEMPLATE,
        title="Disparities vs decision threshold (differences: 0 is equal; ratios: 1 is equal)",
        xaxis={"title": "decision threshold", "range": [0, 1]},
        yaxis={"title": "disparity", "range": [0, 1.05]},
        margin={"t": 60},
    )
    return fig


def base_rates_chart(audit: DataAudit) -> go.Figure:
    """Two panels per group: how many rows it has, and its base rate (share with the positive
    label; multiclass: share of each class; regression: mean target). Small groups hatched."""
    g = audit.groups
    groups = [str(x) for x in g.index]
    small = g["small"].to_numpy(bool)
    ticks = _group_ticks(groups, g["count"].to_numpy(), small)
    hatch = {"shape": [SMALL_PATTERN if s else "" for s in small]}
    shares = [c for c in g.columns if c.startswith("share_")]
    if "base_rate" in g.columns:
        positive = plain(audit.positive_class) if audit.positive_class else "positive"
        right = f"Base rate (share '{positive}')"
    elif shares:
        right = "Share of each class"
    else:
        right = "Mean target"
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Rows per group", right))
    fig.add_trace(
        go.Bar(
            x=ticks,
            y=g["count"],
            name="rows",
            marker={"color": [GREY if s else BLUE for s in small], "pattern": hatch},
            hovertemplate="%{x}: %{y} rows<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    if "base_rate" in g.columns:
        fig.add_trace(
            go.Bar(
                x=ticks,
                y=g["base_rate"],
                name="base rate",
                marker={"color": [GREY if s else ORANGE for s in small], "pattern": hatch},
                hovertemplate="%{x}: %{y:.1%}<extra></extra>",
                showlegend=False,
            ),
            row=1,
            col=2,
        )
        overall = float(g["positives"].sum() / g["count"].sum())
        fig.add_hline(
            y=overall,
            line={"color": "black", "dash": "dot", "width": 1},
            annotation_text=f"all rows {overall:.0%}",
            row=1,
            col=2,
        )
        fig.update_yaxes(tickformat=".0%", range=[0, 1.05], row=1, col=2)
    elif shares:
        for k, column in enumerate(shares):
            fig.add_trace(
                go.Bar(
                    x=ticks,
                    y=g[column],
                    name=plain(column.removeprefix("share_")),
                    marker={"color": class_colour(k)},
                ),
                row=1,
                col=2,
            )
        fig.update_layout(barmode="stack")
        fig.update_yaxes(tickformat=".0%", range=[0, 1.0], row=1, col=2)
    elif "mean_target" in g.columns:
        fig.add_trace(
            go.Bar(x=ticks, y=g["mean_target"], name="mean target", marker={"color": ORANGE}),
            row=1,
            col=2,
        )
    fig.update_xaxes(type="category")
    fig.update_layout(
        template=TEMPLATE,
        title=f"Who is in the data, by {plain(audit.attribute)}",
        margin={"t": 70, "b": 90},
    )
    if small.any():
        _small_note(fig, audit.min_group)
    return fig


def proxies_chart(proxies: pd.DataFrame, top: int = 15) -> go.Figure:
    """Horizontal bars of each feature's association with the attribute (`proxy_scores`
    table), strongest on top; flagged possible proxies in orange, with the flag line."""
    if proxies.empty:
        return _empty("No feature columns to compare with the attribute.")
    shown = proxies.head(max(int(top), 1))
    flagged = shown["flagged"].to_numpy(bool)
    fig = go.Figure(
        go.Bar(
            x=shown["association"],
            y=[plain(f) for f in shown["feature"]],
            orientation="h",
            marker={"color": [ORANGE if f else GREY for f in flagged]},
            customdata=np.stack(
                [shown["measure"].astype(str), np.where(flagged, "possible proxy", "")], axis=1
            ),
            hovertemplate="%{y}: %{x:.3f} (%{customdata[0]}) %{customdata[1]}<extra></extra>",
            name="association",
        )
    )
    fig.add_vline(
        x=PROXY_FLAG,
        line={"color": "black", "dash": "dot", "width": 1},
        annotation_text=f"flag at {PROXY_FLAG:g}",
    )
    fig.update_layout(
        template=TEMPLATE,
        title="Possible proxies: association with the attribute (orange = flagged)",
        xaxis={"title": "association (Cramér's V or correlation ratio, 0..1)", "range": [0, 1]},
        yaxis={"type": "category", "autorange": "reversed"},
        height=140 + ROW_PIXELS * len(shown),
        margin={"t": 50, "l": 10},
        showlegend=False,
    )
    top_note(fig, len(shown), len(proxies))
    return fig


def tradeoff_chart(
    table: pd.DataFrame, disparity: str = "demographic_parity_difference"
) -> go.Figure:
    """Accuracy (y) against a disparity (x), one point per run of a `compare_variants` table,
    labelled by its variant; the original run is a star. Runs without numbers (unfinished)
    are left out and listed under the chart."""
    needed = {"accuracy", disparity, "variant"}
    if table.empty or not needed <= set(table.columns):
        return _empty("No finished runs to compare yet.")
    done = table[
        np.isfinite(table["accuracy"].astype(float)) & np.isfinite(table[disparity].astype(float))
    ]
    if done.empty:
        return _empty("No finished runs to compare yet.")
    fig = go.Figure()
    for i, (_, row) in enumerate(done.iterrows()):
        original = row["variant"] == "original"
        fig.add_trace(
            go.Scatter(
                x=[row[disparity]],
                y=[row["accuracy"]],
                mode="markers+text",
                name=plain(row["variant"]),
                text=[plain(row["variant"])],
                textposition="top center",
                customdata=[plain(row.get("run", ""))],
                marker={
                    "symbol": "star" if original else "circle",
                    "size": 18 if original else 12,
                    "color": "black" if original else class_colour(i),
                },
                hovertemplate="run %{customdata}<br>disparity %{x:.3f}, accuracy %{y:.3f}<extra>%{fullData.name}</extra>",
                meta="original" if original else "variant",
            )
        )
    # Pad the x range so that the text labels of the outermost points are not cut off.
    xs = done[disparity].astype(float)
    pad = max(float(xs.max() - xs.min()), 0.02) * 0.25
    better = "right" if disparity.endswith("_ratio") else "left"
    fig.update_layout(
        template=TEMPLATE,
        title=f"Accuracy vs {DISPARITY_TITLES.get(disparity, plain(disparity))} (better: up and to the {better})",
        xaxis={
            "title": DISPARITY_TITLES.get(disparity, plain(disparity)),
            "range": [float(xs.min()) - pad, float(xs.max()) + pad],
        },
        yaxis={"title": "test accuracy", "tickformat": ".1%"},
        margin={"t": 60},
    )
    missing = len(table) - len(done)
    if missing:
        fig.add_annotation(
            text=f"{missing} run(s) not finished yet, not shown",
            xref="paper",
            yref="paper",
            x=0.0,
            y=-0.18,
            xanchor="left",
            showarrow=False,
        )
    return fig


def attribution_by_group_chart(table: pd.DataFrame, top: int = 12) -> go.Figure:
    """Grouped horizontal bars of mean |attribution| per feature (an `attribution_by_group`
    table): everyone in grey, then one bar per group; the `top` features by overall."""
    if table.empty:
        return _empty("No attributions to show.")
    shown = table.head(max(int(top), 1))
    counts = table.attrs.get("group_counts", {})
    names = [plain(f) for f in shown["feature"]]
    fig = go.Figure(
        go.Bar(
            x=shown["overall"],
            y=names,
            orientation="h",
            name="everyone",
            marker={"color": GREY},
            hovertemplate="%{y}: %{x:.3g}<extra>everyone</extra>",
        )
    )
    for k, column in enumerate(c for c in table.columns if c not in ("feature", "overall")):
        label = plain(column) + (f" (n={counts[column]})" if column in counts else "")
        fig.add_trace(
            go.Bar(
                x=shown[column],
                y=names,
                orientation="h",
                name=label,
                marker={"color": class_colour(k)},
                hovertemplate="%{y}: %{x:.3g}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        title="What the model leans on, by group (mean |attribution|)",
        xaxis={"title": "mean |attribution| (logit units)"},
        yaxis={"type": "category", "autorange": "reversed"},
        height=160 + ROW_PIXELS * len(shown) * max(1, min(len(table.columns) - 1, 4)) // 2,
        margin={"t": 90, "l": 10},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    )
    return fig


def intersection_chart(audit: ModelAudit) -> go.Figure:
    """Selection rate per intersectional group ("Female & 25-44"), one horizontal bar each with
    its bootstrap interval, labelled with the group's size; small groups are kept, hatched in
    grey and labelled "small"; the dotted line is the overall selection rate."""
    g = audit.by_group
    small = g["small"].to_numpy(bool)
    values = g["selection_rate"].to_numpy(np.float64)
    # Sizes go in the labels, not on the bars: a small group's bar may have zero length.
    labels = [
        f"{plain(x)} · n={int(n)}{' · small' if s else ''}"
        for x, n, s in zip(g.index, g["count"], small, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            name="selection rate",
            marker={
                "color": [GREY if s else BLUE for s in small],
                "pattern": {"shape": [SMALL_PATTERN if s else "" for s in small]},
            },
            error_x=_errors(g, "selection_rate", values),
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    overall = audit.overall.get("selection_rate", float("nan"))
    if np.isfinite(overall):
        fig.add_vline(
            x=overall,
            line={"color": "black", "dash": "dot", "width": 1},
            annotation_text=f"everyone {overall:.0%}",
        )
    fig.update_layout(
        template=TEMPLATE,
        title=f"Selection rate by {plain(audit.attribute)} ({_threshold_text(audit)})",
        xaxis={"title": "selection rate", "range": [0, 1.05], "tickformat": ".0%"},
        yaxis={"type": "category", "autorange": "reversed"},
        height=140 + ROW_PIXELS * len(labels),
        margin={"t": 50, "l": 10},
        showlegend=False,
        plot_bgcolor="white",
    )
    if small.any():
        fig.add_annotation(
            text=f"grey, hatched = fewer than {audit.min_group} people: shown, but unreliable",
            xref="paper",
            yref="paper",
            x=1.0,
            y=1.0,
            yanchor="bottom",
            xanchor="right",
            showarrow=False,
            font={"size": 11, "color": "#52606d"},
        )
    return fig


__all__ = [
    "DISPARITY_TITLES",
    "METRIC_TITLES",
    "attribution_by_group_chart",
    "base_rates_chart",
    "disparity_sweep_chart",
    "group_rates_chart",
    "group_roc_chart",
    "intersection_chart",
    "operating_points",
    "proxies_chart",
    "tradeoff_chart",
]
