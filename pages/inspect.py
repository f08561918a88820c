"""Inspect page: look inside a stored run — activations, neurons, weight and gradient
histograms over training, mistakes, and the learned representation.

Everything is computed by `playground.inspect` in one batched pass and drawn by
`playground.charts.inspect`; results are cached per run, weights version and choice.
"""

from __future__ import annotations

import streamlit as st

from playground.charts import inspect as charts
from playground.inspect import (
    class_report,
    confusion,
    histogram_history,
    histogram_layers,
    layer_activations,
    neuron_maps,
    penultimate_projection,
    predict_split,
    worst_errors,
    worst_misclassified,
)
from ui.run_picker import load_cached, pick_run, weights_version
from ui.state import store

st.title("Inspect")
loaded = pick_run()
if loaded is None:
    st.stop()
run_id = loaded.record.id
version = weights_version(run_id)
dataset = loaded.dataset


@st.cache_data(max_entries=16, show_spinner="Running the batch through every layer...")
def _activations(run_id: str, version: int, split: str, rows: int, example: int):
    run = load_cached(run_id, version)
    return layer_activations(run.built, run.dataset, split=split, max_rows=rows, example=example)


@st.cache_data(max_entries=8, show_spinner="Drawing every neuron over the plane...")
def _neurons(run_id: str, version: int, resolution: int):
    run = load_cached(run_id, version)
    return neuron_maps(run.built, run.dataset, resolution=resolution)


@st.cache_data(max_entries=8, show_spinner="Predicting the split...")
def _predictions(run_id: str, version: int, split: str):
    run = load_cached(run_id, version)
    return predict_split(run.built, run.dataset, split)


@st.cache_data(max_entries=8, show_spinner="Projecting the penultimate layer...")
def _projection(run_id: str, version: int, split: str):
    run = load_cached(run_id, version)
    return penultimate_projection(run.built, run.dataset, split=split)


tab_names = ["Activations", "Weights & gradients", "Evaluation", "Representation"]
if dataset.kind == "toy2d":
    tab_names.insert(1, "Neurons")
tabs = dict(zip(tab_names, st.tabs(tab_names), strict=True))

with tabs["Activations"]:
    left, mid, right = st.columns(3)
    split = left.selectbox("Split", ["test", "val", "train"], key="act_split")
    rows = int(mid.number_input("Batch size", 1, 2048, 256, key="act_rows"))
    n_split = len(dataset.split(split))
    example = int(right.number_input("Sample for feature maps", 0, n_split - 1, 0, key="act_ex"))
    acts = _activations(run_id, version, split, rows, example)
    st.caption(
        f"{len(acts.rows)} rows of the {split} split through every layer. A unit is dead when "
        "it is zero (or below) for every row of the batch."
    )
    st.plotly_chart(charts.activation_distributions(acts), key="act_dist")
    st.plotly_chart(charts.dead_fraction_chart(acts), key="act_dead")
    conv = [layer for layer in acts.layers if layer.feature_maps is not None]
    if conv:
        labels = {f"{layer.index} {layer.label}": layer for layer in conv}
        chosen = st.selectbox("Feature maps of layer", list(labels), key="act_maps")
        st.plotly_chart(charts.feature_map_grid(labels[chosen]), key="act_grid")

if "Neurons" in tabs:
    with tabs["Neurons"]:
        st.caption(
            "Each hidden neuron's output over the plane, as in TensorFlow Playground: "
            "what every unit has learned to detect, computed in one batched pass."
        )
        resolution = st.slider("Resolution", 20, 80, 40, 10, key="neuron_res")
        st.plotly_chart(
            charts.neuron_thumbnails(_neurons(run_id, version, resolution)), key="neurons"
        )

with tabs["Weights & gradients"]:
    hist_rows = store().histograms(run_id)
    if not hist_rows:
        st.info(
            "This run has no recorded histograms (runs trained before histograms were "
            "recorded). Train it again to see its weights and gradients over time."
        )
    else:
        left, right = st.columns(2)
        kind = left.radio(
            "Values",
            ["weight", "grad"],
            horizontal=True,
            key="hist_kind",
            format_func=lambda k: {"weight": "Weights", "grad": "Gradients"}[k],
        )
        layers = histogram_layers(hist_rows, kind)
        labels = {r.index: f"{r.index} {r.label}" for r in loaded.built.rows}
        layer = right.selectbox(
            "Layer", layers, format_func=lambda i: labels.get(i, i), key="hist_layer"
        )
        if layer:
            history = histogram_history(hist_rows, layer, kind)
            st.plotly_chart(charts.histogram_heatmap(history), key="hist")
            st.caption(
                "Each row is one snapshot, oldest at the top; colour is log(1 + count). Gradients "
                "that shrink towards zero layer after layer are vanishing; ones that spread ever "
                "wider are exploding."
            )

with tabs["Evaluation"]:
    split = st.selectbox("Split", ["test", "val", "train"], key="eval_split")
    pred = _predictions(run_id, version, split)
    if pred.is_classification:
        left, right = st.columns(2)
        normalised = left.toggle("Normalise rows (recall)", value=True, key="eval_norm")
        left.plotly_chart(
            charts.confusion_matrix_chart(confusion(pred), normalised=normalised), key="cm"
        )
        report = class_report(pred)
        right.plotly_chart(charts.class_scores_chart(report), key="class_scores")
        right.dataframe(report, hide_index=True)
        st.subheader("Worst mistakes")
        mistakes = worst_misclassified(pred, dataset)
        if len(mistakes.table):
            st.caption("The wrong predictions the model was most sure of.")
            st.plotly_chart(charts.misclassified_gallery(mistakes, dataset), key="mistakes")
        else:
            st.success(f"No mistakes on the {split} split.")
    else:
        worst = worst_errors(pred, dataset)
        st.plotly_chart(charts.residual_chart(pred, worst), key="residuals")
        st.dataframe(worst, hide_index=True)

with tabs["Representation"]:
    split = st.selectbox("Split", ["test", "val", "train"], key="proj_split")
    proj = _projection(run_id, version, split)
    ratio = proj.explained_variance_ratio
    st.caption(
        f"The input to the last layer ({proj.layer_index} {proj.layer_label}, {proj.width} "
        f"wide) projected to 2D with PCA; the two axes keep {ratio.sum():.0%} of its variance. "
        "Well-separated classes here are easy for the last layer."
    )
    st.plotly_chart(charts.projection_scatter(proj), key="projection")
