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
    feature_map_rows,
    histogram_history,
    histogram_layers,
    layer_activations,
    neuron_layers,
    neuron_maps,
    penultimate_projection,
    predict_split,
    worst_errors,
    worst_misclassified,
)
from playground.inspect.attention import attention_rows
from playground.inspect.module_inputs import fed_by_data, module_inputs
from ui.attention_view import attention_view
from ui.next_step import next_step
from ui.run_picker import load_cached, pick_run, weights_version
from ui.state import store

st.title("Inspect")
loaded = pick_run()
if loaded is None:
    st.stop()
run_id = loaded.record.id
version = weights_version(run_id)
dataset = loaded.dataset
# A run of several modules (an autoencoder, a GAN) is inspected one module at a time. Those
# the data flows into (an encoder, a discriminator) come first; a decoder is fed the
# encoder's codes and a generator the run's fixed noise.
supervised = loaded.record.mode == "supervised"
order = sorted(loaded.modules, key=lambda n: not fed_by_data(n, loaded.modules[n], dataset))
module = None
if not supervised:
    module = st.sidebar.selectbox("Module", order, key="inspect_module")
    st.caption(
        f"{'An' if loaded.record.mode[0] in 'aeiou' else 'A'} {loaded.record.mode} run: "
        f"the {module} is shown. Its other modules' weights and "
        "gradients are under Weights & gradients; the Generative page shows what it makes."
    )
built = loaded.modules[module] if module else loaded.built
fed = fed_by_data(module, built, dataset)


def _built(run, module: str | None):
    return run.modules[module] if module else run.built


@st.cache_data(max_entries=16, show_spinner="Running the batch through every layer...")
def _activations(run_id: str, version: int, split: str, rows: int, module: str | None):
    run = load_cached(run_id, version)
    built = _built(run, module)
    if fed_by_data(module, built, run.dataset):
        return layer_activations(built, run.dataset, split=split, max_rows=rows), ""
    seed = int(run.record.config.get("seed", 0))
    inputs, what = module_inputs(run.modules, module, run.dataset, split, rows, seed)
    return layer_activations(built, run.dataset, split=split, inputs=inputs), what


@st.cache_data(max_entries=16, show_spinner="Running the sample through every layer...")
def _sample(run_id: str, version: int, split: str, row: int, module: str | None):
    """One row of the split on its own: its feature maps, whatever the batch size."""
    run = load_cached(run_id, version)
    return layer_activations(_built(run, module), run.dataset, indices=[row], split=split)


@st.cache_data(max_entries=8, show_spinner="Drawing every neuron over the plane...")
def _neurons(run_id: str, version: int, resolution: int, module: str | None):
    run = load_cached(run_id, version)
    return neuron_maps(_built(run, module), run.dataset, resolution=resolution)


@st.cache_data(max_entries=8, show_spinner="Predicting the split...")
def _predictions(run_id: str, version: int, split: str):
    run = load_cached(run_id, version)
    return predict_split(run.built, run.dataset, split)


@st.cache_data(max_entries=8, show_spinner="Projecting the penultimate layer...")
def _projection(run_id: str, version: int, split: str):
    run = load_cached(run_id, version)
    return penultimate_projection(run.built, run.dataset, split=split)


def _sample_name(split: str, row: int) -> str:
    """Which example the feature maps belong to, in the user's terms: "test row 5, class 3"."""
    target = dataset.split(split).y[row]
    if dataset.class_names:
        return f"{split} row {row}, class {dataset.class_names[int(target)]}"
    return f"{split} row {row}"


# Only the views that apply to this run: neurons over the plane need 2-D data and hidden
# layers, feature maps need (channels, height, width) outputs.
map_rows = feature_map_rows(built) if fed else []
# An ensemble's layers hold K members' weights stacked and run as one batched product, so no
# layer is ever called on its own: its activations cannot be captured with hooks.
ensemble = loaded.record.mode == "ensemble"
tab_names = ["Weights & gradients"] if ensemble else ["Activations", "Weights & gradients"]
if ensemble:
    st.info(
        "An ensemble trains its members as one stacked model, so its layers' activations "
        "cannot be shown one member at a time here. The Ensembles & CV page compares the "
        "members and maps where they disagree; Explain and Fairness work on the ensemble."
    )
if supervised:  # predictions against the labels
    tab_names += ["Evaluation", "Representation"]
elif ensemble:  # predictions of the ensemble as a whole; no layer to project from
    tab_names += ["Evaluation"]
if fed and not ensemble and dataset.kind == "toy2d" and neuron_layers(built):
    tab_names.insert(1, "Neurons")
# Attention maps need a Transformer layer fed the data's sequences.
if fed and not ensemble and attention_rows(built):
    tab_names.insert(1, "Attention")
tabs = dict(zip(tab_names, st.tabs(tab_names), strict=True))

if "Activations" in tabs:
    with tabs["Activations"]:
        left, right = st.columns(2)
        split = left.selectbox("Split", ["test", "val", "train"], key="act_split")
        rows = int(right.number_input("Batch size", 1, 2048, 256, key="act_rows"))
        acts, fed_with = _activations(run_id, version, split, rows, module)
        relu = any(layer.dead_fraction is not None for layer in acts.layers)
        st.caption(
            (
                f"{len(acts.rows)} rows of the {split} split"
                if fed
                else f"The {module} fed {fed_with}"
            )
            + " through every layer."
            + (" A unit is dead when it is zero for every row of the batch." if relu else "")
        )
        st.plotly_chart(charts.activation_distributions(acts), key="act_dist")
        if relu:  # dead units only mean something after a ReLU
            st.plotly_chart(charts.dead_fraction_chart(acts), key="act_dead")
        if map_rows:
            st.subheader("Feature maps")
            left, right = st.columns(2)
            labels = {f"{row.index} {row.label}": row.index for row in map_rows}
            chosen = left.selectbox("Layer", list(labels), key="act_maps")
            n_split = len(dataset.split(split))
            example = int(
                right.number_input(
                    f"Sample (row of the {split} split)", 0, n_split - 1, 0, key="act_ex"
                )
            )
            sample = _sample(run_id, version, split, example, module)
            image = sample.example_input if dataset.kind == "image" else None
            st.plotly_chart(
                charts.feature_map_grid(
                    sample.layer(labels[chosen]), image=image, sample=_sample_name(split, example)
                ),
                key="act_grid",
                width="content",
            )
            st.caption(
                "What each channel of the layer responds to in this sample"
                + (", beside the input image" if image is not None else "")
                + ": all channels share one colour scale (the bar on the right)."
            )

if "Neurons" in tabs:
    with tabs["Neurons"]:
        st.caption(
            "Each hidden neuron's output over the plane, as in TensorFlow Playground: what "
            "every unit has learned to detect. Orange is negative, blue positive; the neurons "
            "of a layer share one colour scale, symmetric about 0, shown by the bar beside it."
        )
        resolution = st.slider("Resolution", 20, 80, 40, 10, key="neuron_res")
        st.plotly_chart(
            charts.neuron_thumbnails(_neurons(run_id, version, resolution, module)),
            key="neurons",
            width="content",
        )

if "Attention" in tabs:
    with tabs["Attention"]:
        attention_view(run_id, version, built, dataset, module)

with tabs["Weights & gradients"]:
    hist_rows = store().histograms(run_id)
    if not hist_rows:
        st.info(
            "This run has no recorded histograms (runs trained before histograms were "
            "recorded). Train it again to see its weights and gradients over time."
        )
    else:
        left, right = st.columns(2)
        names = {"weight": "Weights", "grad": "Gradients"}
        # Offer only what was recorded (e.g. a run stopped before its first backward pass).
        kinds = [k for k in names if histogram_layers(hist_rows, k)]
        if len(kinds) > 1:
            kind = left.radio(
                "Values", kinds, horizontal=True, key="hist_kind", format_func=names.get
            )
        else:
            kind = kinds[0]
            left.caption(f"{names[kind]} (the only values recorded for this run)")
        layers = histogram_layers(hist_rows, kind)
        labels = {
            (f"{name}.{r.index}" if not supervised else r.index): (
                f"{name} {r.index} {r.label}" if not supervised else f"{r.index} {r.label}"
            )
            for name, b in loaded.modules.items()
            for r in b.rows
        }
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

if "Evaluation" not in tabs:
    next_step("inspect")
    st.stop()

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

if "Representation" in tabs:
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

next_step("inspect")
