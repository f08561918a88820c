"""The compression trade-off: each level's test score against its file size and its CPU
latency. Input: `CompressionResult.table()` (one row per level, as measured)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.charts import BLUE, CLASS_COLOURS, ORANGE, TEMPLATE, plain

# One colour per method family, the same in both panels.
METHOD_COLOURS = {"original": "#444444", "unstructured": BLUE, "structured": ORANGE}


def _colour(method: str) -> str:
    return METHOD_COLOURS.get(method, CLASS_COLOURS[2 + len(method) % 8])


def compression_chart(table: pd.DataFrame, latency_batch: int = 1) -> go.Figure:
    """Two panels sharing the score axis: size on disk (KB; a pruned level's sparse file
    where it is smaller) and median latency (ms at `latency_batch`). One trace per method,
    its points labelled with the level."""
    score_col = next(c for c in table.columns if c.startswith("test_"))
    latency_col = f"latency_ms_b{latency_batch}"
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=("Size on disk", f"CPU latency, batch {latency_batch}"),
    )
    sparse = table["sparse_bytes"].where(table["sparse_bytes"].notna(), table["size_bytes"])
    kb = pd.concat([table["size_bytes"], sparse], axis=1).min(axis=1) / 1024
    for method, rows in table.groupby("method", sort=False):
        labels = [plain(level) for level in rows["level"]]
        style = {"color": _colour(str(method)), "size": 11}
        for col, x in ((1, kb[rows.index]), (2, rows[latency_col])):
            fig.add_trace(
                go.Scatter(
                    x=list(x),
                    y=list(rows[score_col]),
                    mode="markers+text",
                    text=labels,
                    textposition="top center",
                    marker=style,
                    name=plain(method),
                    legendgroup=str(method),
                    showlegend=col == 1,
                    hovertemplate="%{text}<br>%{x:.3g}<br>score %{y:.3f}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    score_name = score_col.removeprefix("test_")
    fig.update_yaxes(title_text=f"test {'accuracy' if score_name == 'acc' else 'R²'}", col=1)
    fig.update_xaxes(title_text="KB (smallest file)", rangemode="tozero", col=1)
    fig.update_xaxes(title_text="ms (median)", rangemode="tozero", col=2)
    fig.update_layout(template=TEMPLATE, height=420, margin={"t": 60, "b": 40})
    return fig
