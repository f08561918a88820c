"""The Inspect page's Attention tab: where each head of a Transformer layer looks, over the
tokens of one sequence, and what every position receives. Computed by
`playground.inspect.attention` in one batched pass, drawn by `playground.charts.attention`."""

from __future__ import annotations

import streamlit as st

from playground.charts import attention as charts
from playground.data.dataset import Dataset
from playground.inspect.attention import AttentionMaps, attention_maps, attention_rows
from playground.model.build import BuiltModel
from ui.run_picker import load_cached

# What the layer hands to the next one, so a reader knows which line of the map counts.
PASSES_ON = {
    "last": " This layer passes on only its last position: the bottom line of each map.",
    "mean": " This layer passes on the average of all its positions.",
}


@st.cache_data(max_entries=16, show_spinner="Reading the attention of every head...")
def _maps(
    run_id: str, version: int, split: str, sample: int, rows: int, module: str | None
) -> AttentionMaps:
    """The chosen sequence first (row 0 of the batch), then the split's first rows: the
    heat maps show the one, the dots of 'received' average over all."""
    run = load_cached(run_id, version)
    built = run.modules[module] if module else run.built
    n = len(run.dataset.split(split))
    indices = [sample, *(i for i in range(min(rows, n)) if i != sample)]
    return attention_maps(built, run.dataset, indices, split=split)


def attention_view(
    run_id: str, version: int, built: BuiltModel, dataset: Dataset, module: str | None
) -> None:
    """The tab's controls and charts for a model with at least one Transformer layer."""
    layers = {f"{r.index} {r.label}": r.index for r in attention_rows(built)}
    left, middle, right = st.columns(3)
    split = left.selectbox("Split", ["test", "val", "train"], key="attn_split")
    n_split = len(dataset.split(split))
    sample = int(
        middle.number_input(
            f"Sequence (row of the {split} split)", 0, n_split - 1, 0, key="attn_row"
        )
    )
    rows = int(right.number_input("Rows averaged", 1, 1024, 64, key="attn_rows"))
    chosen = (
        st.selectbox("Layer", list(layers), key="attn_layer")
        if len(layers) > 1
        else next(iter(layers))
    )
    maps = _maps(run_id, version, split, sample, rows, module)
    layer = maps.layer(layers[chosen])
    labels = maps.position_labels(0)
    st.caption(
        f"{split.capitalize()} row {sample}: each map is one head; each line of it is one "
        "position (the query) and how it shares its attention over all positions (the keys), "
        "adding up to 100%. A bright column is a token every position looks at."
        + PASSES_ON.get(layer.output, "")
    )
    st.plotly_chart(charts.attention_heatmaps(layer, labels, 0), key="attn_maps", width="content")
    st.plotly_chart(charts.attention_received(layer, labels, 0), key="attn_received")
    st.caption(
        f"Bars: what each position of this sequence receives, averaged over heads and "
        f"queries; dots: the same for {len(maps.rows)} rows of the {split} split, by position. "
        f"An even spread gives every position {1 / layer.steps:.0%}."
    )
