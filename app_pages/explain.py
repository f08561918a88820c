"""Explain page: attribute a stored run's predictions with Captum and SHAP, and check how
far to trust the explanation (completeness, agreement between methods, infidelity).

Computations run as background tasks with progress and Cancel; results are cached per run,
weights, method and parameters, so coming back to the page is instant.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import streamlit as st

from playground.analysis.autoencoder import anomaly_model
from playground.charts import explain as charts
from playground.explain import api, trust
from playground.explain.base import ExplainRequest
from playground.explain.context import ExplainContext
from playground.markup import escape_markdown
from playground.model.lookup import hidden_rows
from playground.train.modes.autoencoder import AUTOENCODER_NAMES
from ui.explain_checks_view import explanation_checks
from ui.explain_views import checks_view, global_view, sample_view
from ui.next_step import next_step
from ui.run_picker import pick_run
from ui.task_view import start_task, task_result


@st.cache_resource(show_spinner=False)
def warm_up_permutation() -> threading.Thread:
    """SHAP's Permutation explainer compiles numba code on first use (10-30 s, once per
    process): start that in the background as soon as someone may need it."""
    from playground.explain.methods.shap_permutation import warm_up

    thread = threading.Thread(target=warm_up, name="shap-warm-up", daemon=True)
    thread.start()
    return thread


DEFAULT_ROWS = {"tabular": 200, "toy2d": 200, "image": 16, "sequence": 32}
COMPARE_DEFAULT = ("integrated_gradients", "saliency", "deeplift", "shap_gradient")

st.title("Explain")
loaded = pick_run()
if loaded is None:
    st.stop()
run_id = loaded.record.id
dataset = loaded.dataset
built = loaded.built
if loaded.record.mode in AUTOENCODER_NAMES:
    # An autoencoder has no labels to explain: its reconstruction error is the output, so the
    # attributions say which pixels or columns make a sample look anomalous.
    built = anomaly_model(loaded.modules["encoder"], loaded.modules["decoder"])
    st.info(
        "This is an autoencoder run: the explained output is each sample's reconstruction "
        "error, its anomaly score. Positive attributions push a sample towards looking "
        "anomalous."
    )
ctx = ExplainContext.of(
    f"{run_id}-anomaly" if built is not loaded.built else run_id, dataset, built
)
methods = {
    m.name: m for m in api.available_methods(ctx) if built is loaded.built or not m.needs_layer
}
if "shap_permutation" in methods:
    warm_up_permutation()
if not methods:
    st.info("No explanation method fits this model and data.")
    st.stop()

# ---------------------------------------------------------------- choices
left, right = st.columns([2, 3])
names = list(methods)
method = left.selectbox(
    "Method",
    names,
    index=names.index("integrated_gradients") if "integrated_gradients" in names else 0,
    format_func=lambda n: f"{methods[n].title} ({methods[n].family})",
    key="method",
)
info = methods[method]
right.caption(info.description)

n_test = len(dataset.test)
rows = int(
    left.number_input(
        "Test rows to explain",
        1,
        n_test,
        min(DEFAULT_ROWS.get(dataset.kind, 50), n_test),
        help="The global views average over these rows; more rows take longer.",
        key="rows",
    )
)
params: dict = {}
with st.expander("Parameters", expanded=True):
    cols = st.columns(4)
    uses = set(info.uses)
    if "target" in uses and ctx.output_width > 1:
        classes = dataset.class_names or [str(i) for i in range(ctx.output_width)]
        choice = cols[0].selectbox(
            "Target class",
            ["predicted class", *classes],
            key="target",
            help="Explain the logit of this class; 'predicted' explains each row's own prediction.",
        )
        params["target"] = None if choice == "predicted class" else classes.index(choice)
    if "baseline" in uses:
        params["baseline"] = cols[1].selectbox(
            "Baseline",
            ["zeros", "mean", "sample"],
            key="baseline",
            help="What 'absent' means: all zeros, the training mean, or one training row.",
        )
        if params["baseline"] == "sample":
            params["baseline_index"] = int(
                cols[1].number_input("Training row", 0, len(dataset.train) - 1, 0, key="b_row")
            )
    if "n_steps" in uses:
        params["n_steps"] = int(cols[2].number_input("Steps", 2, 500, 50, key="n_steps"))
    if "n_samples" in uses:
        params["n_samples"] = int(cols[2].number_input("Samples", 1, 500, 20, key="n_samples"))
    if "stdevs" in uses:
        params["stdevs"] = float(
            cols[3].number_input("Noise (std)", 0.0, 5.0, 0.1, format="%g", key="stdevs")
        )
    if "background_size" in uses:
        params["background_size"] = int(
            cols[3].number_input("Background rows", 1, len(dataset.train), 100, key="bg")
        )
    if "window" in uses:
        params["window"] = int(cols[3].number_input("Window", 1, 16, 2, key="window"))
    if info.needs_layer:
        layers = hidden_rows(loaded.built)
        if method == "grad_cam":  # a map over the image: layers with (C, h, w) outputs
            layers = [r for r in layers if len(r.output_shape) == 3]
        labels = {r.index: f"{r.index} {r.label} {r.output_shape}" for r in layers}
        convs = [i for i, r in enumerate(layers) if r.kind == "conv2d"]
        default = convs[-1] if method == "grad_cam" and convs else len(layers) - 1
        params["layer"] = cols[0].selectbox(
            "Layer", list(labels), index=default, format_func=labels.get, key="layer"
        )
        if info.needs_neuron:
            row = next(r for r in layers if r.index == params["layer"])
            width = 1
            for d in row.output_shape:
                width *= d
            params["neuron"] = int(cols[1].number_input("Unit", 0, width - 1, 0, key="neuron"))

request = ExplainRequest(method=method, sample_indices=tuple(range(rows)), **params)
key = api.cache_key(ctx, request)
label = f"{info.title} on {rows} rows"
if st.button("Explain", type="primary", key="explain"):
    start_task(key, lambda progress: api.explain(ctx, request, progress))
attr = task_result(key, label)
if attr is None:
    st.caption("Choose a method and press Explain. Results are kept: coming back is instant.")
    st.stop()

# ---------------------------------------------------------------- results
st.caption(f"{attr.title}: {attr.n} rows in {attr.seconds:.2f} s.")
for note in attr.notes:
    st.info(escape_markdown(note, streamlit=True))
tab_global, tab_sample, tab_trust = st.tabs(["Global", "One sample", "Trust"])
with tab_global:
    global_view(attr, dataset)
with tab_sample:
    position = st.selectbox(
        "Sample",
        range(attr.n),
        format_func=lambda i: f"test row {attr.sample_indices[i]}",
        key="sample",
    )
    sample_view(attr, dataset, int(position), loaded.built if built is loaded.built else None)
with tab_trust:
    checks_view(attr)
    st.subheader("Do the methods agree?")
    comparable = [m for m, i in methods.items() if not i.needs_layer and m not in ("grad_cam",)]
    chosen = st.multiselect(
        "Methods to compare",
        comparable,
        default=[m for m in COMPARE_DEFAULT if m in comparable],
        format_func=lambda n: methods[n].title,
        key="compare",
    )
    compare_requests = [
        ExplainRequest(method=m, sample_indices=request.sample_indices, target=request.target)
        for m in chosen
    ]
    compare_key = "compare-" + "-".join(api.cache_key(ctx, r) for r in compare_requests)

    def _compare(progress):
        results = []
        for i, r in enumerate(compare_requests):
            progress(i / len(compare_requests), f"{methods[r.method].title}")
            results.append(api.explain_cached(ctx, r, progress=lambda f, m: None))
        return results

    if len(chosen) >= 2 and st.button("Compare", key="compare_go"):
        start_task(compare_key, _compare)
    results = task_result(compare_key, "Comparing methods") if len(chosen) >= 2 else None
    if results:
        rankings, corr = trust.rank_agreement(results, dataset.feature_groups or None)
        left, right = st.columns(2)
        left.plotly_chart(charts.method_rankings(rankings, values="rank"), key="rankings")
        right.plotly_chart(charts.rank_correlation_heatmap(corr), key="rank_corr")
    st.subheader("Infidelity and sensitivity")
    st.caption(
        "Infidelity: how badly the attributions predict the output change under small "
        "perturbations. Max-sensitivity: how much the attributions change when the input "
        "barely moves. Lower is better for both."
    )
    fidelity_key = "fidelity-" + key
    fidelity_request = replace(request, sample_indices=request.sample_indices[:20])
    if st.button("Measure", key="fidelity_go"):
        start_task(
            fidelity_key, lambda progress: trust.infidelity_and_sensitivity(ctx, fidelity_request)
        )
    scores = task_result(fidelity_key, "Infidelity and sensitivity")
    if scores:
        if scores.get("available"):
            a, b = st.columns(2)
            a.metric("Infidelity (mean)", f"{scores['infidelity_mean']:.3g}")
            b.metric("Max-sensitivity (mean)", f"{scores['sensitivity_mean']:.3g}")
            st.caption(scores["interpretation"])
        else:
            st.info(scores["reason"])

# Sanity checks, faithfulness, what-if, counterfactuals, influence (ui/explain_checks_view.py).
explanation_checks(
    ctx,
    request,
    methods,
    supervised=built is loaded.built and loaded.record.mode == "supervised",
)

next_step("explain")
