"""Fairness charts: who is in the data, how the model treats each group, how the gaps move with
the threshold, what the model leans on, and what mitigation buys.

Inputs are the plain results of `playground.fairness` (`DataAudit`, `ModelAudit`, `GroupRoc`,
sweep and comparison tables). Group, feature and variant names are user text and go through
`plain`. Small groups (fewer than `audit.min_group` people) are always drawn, hatched and
labelled "small", never hidden: the reader should see how little data they rest on.

Labels must not be cut off: long group names are shortened on the axes (the hover has the
full name), titles wrap onto a second line, and axes grow their margins to fit their labels.
A rate's title says which split it comes from, because the page quotes the same rates from
all rows (the data audit) and from the test split (the model audit).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.charts import (
    BLUE,
    ORANGE,
    SPLIT_TITLES,
    TEMPLATE,
    class_colour,
    plain,
    top_note,
)
from playground.fairness.proxies import PROXY_FLAG

if TYPE_CHECKING:
    from playground.fairness.data_audit import DataAudit
    from playground.fairness.metrics import ModelAudit
    from playground.fairness.roc import GroupRoc

GREY = "#9e9e9e"
SMALL_PATTERN = "/"  # hatching for groups too small to trust
ROW_PIXELS = 26  # height per bar row in horizontal charts
TICK_CHARS = 20  # group names longer than this are shortened under bars (hover: full name)
LABEL_CHARS = 32  # the same beside horizontal bars and in legends, which have more room
TITLE_CHARS = 56  # titles wrap here: a chart in a half-width column cuts longer lines off
TITLE_LINE_PIXELS = 24
LEGEND_PER_ROW = 3  # legend entries per row when a legend lies across a full-width chart
LEGEND_ROW_PIXELS = 22
ROC_PLOT_PIXELS = 380  # the ROC plot itself, plus its axes; its legend adds rows under it
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


def short_names(names: Sequence[str], limit: int = TICK_CHARS) -> list[str]:
    """Names of at most `limit` characters, shortened in the middle ("Female & Amer…Eskimo")
    so that both attributes of an intersection stay readable; unescaped. Names that would
    collide once shortened (they would merge on a category axis) are kept whole."""

    def short(name: str) -> str:
        if len(name) <= limit:
            return name
        tail = max(limit // 3, 4)
        return f"{name[: limit - tail - 1]}…{name[-tail:]}"

    shortened = [short(str(n)) for n in names]
    clashes = {s for s in shortened if shortened.count(s) > 1}
    return [str(n) if s in clashes else s for n, s in zip(names, shortened, strict=True)]


def _group_ticks(groups: Sequence[str], counts: Sequence[int], small: Sequence[bool]) -> list[str]:
    """Category labels: the (shortened, escaped) group name, then its size (and "small") on a
    second line."""
    return [
        f"{plain(g)}<br>n={int(n)}{' · small' if s else ''}"
        for g, n, s in zip(short_names(groups), counts, small, strict=True)
    ]


def _full_names(groups: Sequence[str]) -> list[str]:
    """Escaped full names for hover text (`customdata`), where shortened ticks need them."""
    return [plain(g) for g in groups]


def on_split(split: str | None) -> str:
    """ " on the test split" for a split name ("val" reads "validation"), "" when unknown."""
    return f" on the {SPLIT_TITLES.get(split, split)} split" if split else ""


def _title(main: str, detail: str = "", width: int = TITLE_CHARS) -> tuple[dict, int]:
    """A title (escaped text) wrapped into lines of at most `width` characters, the detail
    starting a new line, pinned to the top of the figure; returns the layout's title and its
    number of lines. (Plotly centres a title in the top margin, so a second line ran into the
    legend or the panel titles under it.)"""
    lines = textwrap.wrap(main, width, break_on_hyphens=False)
    if detail:
        lines += textwrap.wrap(detail, width, break_on_hyphens=False)
    title = {
        "text": "<br>".join(lines),
        "y": 1.0,
        "yref": "container",
        "yanchor": "top",
        "pad": {"t": 12},
    }
    return title, len(lines)


def _top_margin(lines: int, below: int = 0) -> int:
    """Room above the plot for a title of `lines` lines and `below` pixels under it (a legend
    row, panel titles, a line's label)."""
    return 16 + TITLE_LINE_PIXELS * lines + below


def _small_text(small: np.ndarray, min_group: int) -> str:
    """The key to the hatching, for a title's second line (under the bars it collided with
    long, rotated group names)."""
    if not small.any():
        return ""
    return f"; hatched = small group (fewer than {min_group} people): rates unreliable"


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
    if np.isfinite(t):
        return f"threshold {t:.2f}"
    # A post-processed variant decides with thresholds fitted on another split (validation).
    return "post-processed: per-group thresholds fitted on the validation split"


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
    groups = [str(x) for x in g.index]
    ticks = _group_ticks(groups, g["count"].to_numpy(), small)
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
                customdata=_full_names(groups),
                hovertemplate="%{customdata}: %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    has_ci = any(f"{m}_ci_low" in g.columns for m in metrics)
    interval = f", bars show {audit.ci_level:.0%} bootstrap intervals" if has_ci else ""
    title, lines = _title(
        f"Rates by {plain(audit.attribute)}{on_split(audit.split)}",
        f"({_threshold_text(audit)}{interval}{_small_text(small, audit.min_group)})",
        width=90,
    )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        title=title,
        xaxis={"type": "category", "automargin": True},
        yaxis={
            "title": f"rate{on_split(audit.split)}",
            "range": [0, 1.05],
            "tickformat": ".0%",
            "automargin": True,
        },
        margin={"t": _top_margin(lines, below=30)},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    )
    return fig


def group_roc_chart(
    rocs: Mapping[str, GroupRoc],
    points: Mapping[str, tuple[float, float]] | None = None,
    split: str | None = None,
) -> go.Figure:
    """One ROC curve per group (AUC in the legend; a group with one label value only gets an
    empty curve and says so), the chance diagonal, and each group's operating point
    `points[group] = (fpr, tpr)` at the current threshold as a marker. `split` names the
    rows the curves come from, for the title."""
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
    legend_names = short_names(list(rocs), LABEL_CHARS)
    for i, (group, roc) in enumerate(rocs.items()):
        colour = class_colour(i)
        auc = f"AUC {roc.auc:.3f}" if np.isfinite(roc.auc) else "no curve: one label only"
        # Plotly leaves a trace without points out of the legend, which then never said why a
        # group had no curve: such a group gets one point at (0, 0), no line to draw.
        empty = len(roc.fpr) == 0
        fig.add_trace(
            go.Scatter(
                x=[0.0] if empty else roc.fpr,
                y=[0.0] if empty else roc.tpr,
                mode="lines",
                name=f"{plain(legend_names[i])} ({auc})",
                legendgroup=f"g{i}",
                line={"color": colour, "width": 2},
                hovertemplate="FPR %{x:.3f}, TPR %{y:.3f}<extra>%{fullData.name}</extra>",
                hoverinfo="skip" if empty else None,
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
    title, lines = _title(f"ROC curve by group{on_split(split)}", "(dots: the current threshold)")
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        # A hair past 0..1: at the edge plotly drops the "1" tick.
        xaxis={"title": "false positive rate", "range": [-0.01, 1.01], "automargin": True},
        yaxis={"title": "true positive rate", "range": [0, 1.02], "automargin": True},
        margin={"t": _top_margin(lines)},
        # Under the plot: beside it, the legend took half of a half-width column. Each group
        # is a legend row there, so the figure grows with them rather than squash the plot.
        legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0.0},
        height=ROC_PLOT_PIXELS + TITLE_LINE_PIXELS * lines + LEGEND_ROW_PIXELS * (len(rocs) + 1),
    )
    return fig


def disparity_sweep_chart(
    sweep: pd.DataFrame, threshold: float, split: str | None = None
) -> go.Figure:
    """The disparities (`disparity_sweep` table: threshold + one column per disparity) as the
    threshold moves; differences solid (0 = equal), ratios dashed (1 = equal), and a vertical
    line at the current threshold. `split` names the rows, for the title."""
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
    title, lines = _title(
        f"Disparities vs decision threshold{on_split(split)}",
        "(differences: 0 is equal; ratios: 1 is equal)",
    )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis={"title": "decision threshold", "range": [-0.01, 1.01], "automargin": True},
        yaxis={"title": "disparity", "range": [0, 1.05], "automargin": True},
        # Room above the plot for the threshold line's label, under the title.
        margin={"t": _top_margin(lines, below=18)},
        legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0.0},
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
    full = _full_names(groups)
    fig.add_trace(
        go.Bar(
            x=ticks,
            y=g["count"],
            name="rows",
            marker={"color": [GREY if s else BLUE for s in small], "pattern": hatch},
            customdata=full,
            hovertemplate="%{customdata}: %{y} rows<extra></extra>",
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
                customdata=full,
                hovertemplate="%{customdata}: %{y:.1%}<extra></extra>",
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
            # Left: at the right end the label sat on the last group's bar.
            annotation_position="top left",
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
    fig.update_xaxes(type="category", automargin=True)
    fig.update_yaxes(automargin=True)
    title, lines = _title(
        f"Who is in the data, by {plain(audit.attribute)}",
        f"({splits_text(audit.splits)}{_small_text(small, audit.min_group)})",
        90,
    )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        margin={"t": _top_margin(lines, below=28)},  # the panels' own titles
    )
    return fig


def splits_text(splits: Sequence[str]) -> str:
    """("train", "val", "test") -> "all rows: train, validation and test splits together"."""
    names = [SPLIT_TITLES.get(s, s) for s in splits]
    if len(names) == 1:
        return f"{names[0]} split"
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    every = set(splits) == set(SPLIT_TITLES)
    return f"{'all rows' if every else 'rows'}: {listed} splits together"


def proxies_chart(proxies: pd.DataFrame, top: int = 15) -> go.Figure:
    """Horizontal bars of each feature's association with the attribute (`proxy_scores`
    table), strongest on top; flagged possible proxies in orange, with the flag line."""
    if proxies.empty:
        return _empty("No feature columns to compare with the attribute.")
    shown = proxies.head(max(int(top), 1))
    flagged = shown["flagged"].to_numpy(bool)
    features = [str(f) for f in shown["feature"]]
    fig = go.Figure(
        go.Bar(
            x=shown["association"],
            y=[plain(f) for f in short_names(features, LABEL_CHARS)],
            orientation="h",
            marker={"color": [ORANGE if f else GREY for f in flagged]},
            customdata=np.stack(
                [
                    shown["measure"].astype(str),
                    np.where(flagged, "possible proxy", ""),
                    _full_names(features),
                ],
                axis=1,
            ),
            hovertemplate="%{customdata[2]}: %{x:.3f} (%{customdata[0]}) %{customdata[1]}"
            "<extra></extra>",
            name="association",
        )
    )
    fig.add_vline(
        x=PROXY_FLAG,
        line={"color": "black", "dash": "dot", "width": 1},
        annotation_text=f"flag at {PROXY_FLAG:g}",
        annotation_yanchor="bottom",  # above the plot: inside, it sat on the top bar
    )
    title, lines = _title(
        "Possible proxies: association with the attribute", "(orange = flagged)", 90
    )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis={
            "title": "association (Cramér's V or correlation ratio, 0..1)",
            "range": [0, 1.02],  # a little past 1, or its tick is dropped
            "automargin": True,
        },
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        height=140 + TITLE_LINE_PIXELS * lines + ROW_PIXELS * len(shown),
        margin={"t": _top_margin(lines, below=18), "l": 10},
        showlegend=False,
    )
    top_note(fig, len(shown), len(proxies))
    return fig


def tradeoff_chart(
    table: pd.DataFrame, disparity: str = "demographic_parity_difference", split: str = "test"
) -> go.Figure:
    """Accuracy (y) against a disparity (x), one point per run of a `compare_variants` table
    (numbers from `split`), labelled by its variant; the original run is a star. Runs without
    numbers (unfinished) are left out and listed under the chart."""
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
    name = DISPARITY_TITLES.get(disparity, plain(disparity))
    where = f" ({SPLIT_TITLES.get(split, split)} split)"
    title, lines = _title(
        f"Accuracy vs {name}{on_split(split)}", f"(better: up and to the {better})", 90
    )
    # Pad y too: a point's label sits above it and the top one would be cut off.
    ys = done["accuracy"].astype(float)
    y_pad = max(float(ys.max() - ys.min()), 0.01) * 0.3
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis={
            "title": name + where,
            "range": [float(xs.min()) - pad, float(xs.max()) + pad],
            "automargin": True,
        },
        yaxis={
            "title": "accuracy" + where,
            "tickformat": ".1%",
            "range": [float(ys.min()) - y_pad, float(ys.max()) + y_pad],
            "automargin": True,
        },
        margin={"t": _top_margin(lines)},
        showlegend=False,  # each point carries its own label
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
    features = [str(f) for f in shown["feature"]]
    names = [plain(f) for f in short_names(features, LABEL_CHARS)]
    fig = go.Figure(
        go.Bar(
            x=shown["overall"],
            y=names,
            orientation="h",
            name="everyone",
            marker={"color": GREY},
            customdata=_full_names(features),
            hovertemplate="%{customdata}: %{x:.3g}<extra>everyone</extra>",
        )
    )
    columns = [c for c in table.columns if c not in ("feature", "overall")]
    for k, (column, short) in enumerate(
        zip(columns, short_names(columns, LABEL_CHARS), strict=True)
    ):
        label = plain(short) + (f" (n={counts[column]})" if column in counts else "")
        fig.add_trace(
            go.Bar(
                x=shown[column],
                y=names,
                orientation="h",
                name=label,
                marker={"color": class_colour(k)},
                customdata=_full_names(features),
                meta=plain(column),  # the full group name; user text stays out of templates
                hovertemplate="%{customdata}: %{x:.3g}<extra>%{meta}</extra>",
            )
        )
    traces = len(columns) + 1
    legend_rows = -(-traces // LEGEND_PER_ROW)
    bar_rows = ROW_PIXELS * len(shown) * max(1, min(traces - 1, 8)) // 3
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        title=_title("What the model leans on, by group (mean |attribution|)", width=90)[0],
        xaxis={"title": "mean |attribution| (logit units)", "automargin": True},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        height=160 + legend_rows * LEGEND_ROW_PIXELS + bar_rows,
        # The legend sits between the title and the plot; with many groups it takes rows.
        margin={"t": _top_margin(1, below=legend_rows * LEGEND_ROW_PIXELS + 10), "l": 10},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom"},
    )
    return fig


def intersection_chart(audit: ModelAudit) -> go.Figure:
    """Selection rate per intersectional group ("Female & 25-44"), one horizontal bar each with
    its bootstrap interval, labelled with the group's size; small groups are kept, hatched in
    grey and labelled "small"; the dotted line is the overall selection rate."""
    g = audit.by_group
    small = g["small"].to_numpy(bool)
    values = g["selection_rate"].to_numpy(np.float64)
    groups = [str(x) for x in g.index]
    # Sizes go in the labels, not on the bars: a small group's bar may have zero length.
    labels = [
        f"{plain(x)} · n={int(n)}{' · small' if s else ''}"
        for x, n, s in zip(short_names(groups, LABEL_CHARS), g["count"], small, strict=True)
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
            customdata=_full_names(groups),
            hovertemplate="%{customdata}: %{x:.3f}<extra></extra>",
        )
    )
    overall = audit.overall.get("selection_rate", float("nan"))
    if np.isfinite(overall):
        fig.add_vline(
            x=overall,
            line={"color": "black", "dash": "dot", "width": 1},
            annotation_text=f"everyone {overall:.0%}",
            annotation_yanchor="bottom",  # above the plot, clear of the top bar
        )
    note = (
        f"; grey, hatched = fewer than {audit.min_group} people: shown, but unreliable"
        if small.any()
        else ""
    )
    title, lines = _title(
        f"Selection rate by {plain(audit.attribute)}{on_split(audit.split)}",
        f"({_threshold_text(audit)}{note})",
        90,
    )
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        xaxis={
            "title": f"selection rate{on_split(audit.split)}",
            "range": [0, 1.05],
            "tickformat": ".0%",
            "automargin": True,
        },
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        height=140 + TITLE_LINE_PIXELS * lines + ROW_PIXELS * len(labels),
        margin={"t": _top_margin(lines, below=18), "l": 10},  # the overall line's label
        showlegend=False,
        plot_bgcolor="white",
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
    "on_split",
    "operating_points",
    "proxies_chart",
    "short_names",
    "splits_text",
    "tradeoff_chart",
]
