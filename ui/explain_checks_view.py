"""The Explain page's "Test the explanation" section: sanity checks, faithfulness curves,
what-if with attributions, counterfactuals and influential training examples. Each runs as
a background task (progress, Cancel, cached per run, weights and settings)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pandas as pd
import streamlit as st

from playground.charts import explain_checks as charts
from playground.explain import api
from playground.explain.base import ExplainRequest, MethodInfo
from playground.explain.context import ExplainContext
from playground.explain.faithfulness import faithfulness_curves
from playground.explain.sanity import cascading_randomisation
from playground.markup import escape_markdown
from ui.explain_counterfactuals import counterfactual_view
from ui.explain_influence import influence_view
from ui.explain_what_if import what_if_attribution_view
from ui.task_view import start_task, task_result

SANITY_ROWS = {"image": 16, "sequence": 16}  # rows re-explained once per layer and method
FAITH_ROWS = {"image": 50, "sequence": 50}
DEFAULT_ROWS = 50
PREFERRED = ("integrated_gradients", "saliency", "lrp", "grad_cam", "kernel_shap")
VIEWS = (
    "Sanity checks",
    "Faithfulness",
    "What-if",
    "Counterfactuals",
    "Influential examples",
)


def _key(prefix: str, ctx: ExplainContext, **parts: object) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str)
    digest = hashlib.sha1(blob.encode()).hexdigest()[:12]
    return f"{prefix}-{ctx.run_id}-{api.weights_fingerprint(ctx)}-{digest}"


def _defaults(choices: list[str], current: str) -> list[str]:
    picked = [current] if current in choices else []
    picked += [m for m in PREFERRED if m in choices and m not in picked]
    return picked[:3]


def explanation_checks(
    ctx: ExplainContext,
    request: ExplainRequest,
    methods: dict[str, MethodInfo],
    *,
    supervised: bool = True,
) -> None:
    """Draw the section; `request` is the page's current request (rows, baseline, target)."""
    st.header("Test the explanation")
    kind = ctx.dataset.kind
    views = list(VIEWS)
    if kind not in ("tabular", "toy2d"):
        views.remove("What-if")
        views.remove("Counterfactuals")
    if not supervised:
        views = [v for v in views if v not in ("Counterfactuals", "Influential examples")]
    view = st.radio("Check", views, horizontal=True, key="check_view")
    if view == "Sanity checks":
        sanity_view(ctx, request, methods)
    elif view == "Faithfulness":
        faithfulness_view(ctx, request, methods)
    elif view == "What-if":
        what_if_attribution_view(ctx, request, methods)
    elif view == "Counterfactuals":
        counterfactual_view(ctx)
    else:
        influence_view(ctx)


def sanity_view(
    ctx: ExplainContext, request: ExplainRequest, methods: dict[str, MethodInfo]
) -> None:
    st.caption(
        "Does the explanation depend on the model? The model's layers are replaced by random "
        "ones from the output down, and each method explains the same rows again after each "
        "layer (Adebayo et al. 2018). A method whose maps stay alike explains the input, not "
        "the model. A copy trained on shuffled labels is compared too, where that is cheap."
    )
    choices = [m for m, i in methods.items() if not i.needs_neuron and i.family == "captum"]
    chosen = st.multiselect(
        "Methods",
        choices,
        default=_defaults(choices, request.method),
        format_func=lambda n: methods[n].title,
        key="sanity_methods",
    )
    rows = min(SANITY_ROWS.get(ctx.dataset.kind, DEFAULT_ROWS), len(request.sample_indices))
    shuffled = st.checkbox("Also train a copy on shuffled labels", True, key="sanity_labels")
    base = replace(request, sample_indices=request.sample_indices[:rows])
    key = _key("sanity", ctx, request=base, methods=chosen, labels=shuffled)
    if chosen and st.button("Run sanity checks", key="sanity_go"):
        start_task(
            key,
            lambda progress: cascading_randomisation(
                ctx, chosen, base, progress, random_labels=shuffled
            ),
        )
    result = task_result(key, "Sanity checks")
    if result is None:
        st.caption(f"Re-explains the first {rows} rows once per layer and method.")
        return
    for m in result.methods:
        if m in result.flags:
            st.warning(escape_markdown(result.flags[m], streamlit=True))
        elif m in result.passed:
            st.success(escape_markdown(result.passed[m], streamlit=True))
    st.plotly_chart(charts.sanity_curves(result, "rank"), key="sanity_rank")
    if result.ssim is not None:
        st.plotly_chart(charts.sanity_curves(result, "ssim"), key="sanity_ssim")
    if result.random_labels is not None:
        table = pd.DataFrame(
            {
                "method": [result.titles[m] for m in result.methods],
                "rank correlation with the shuffled-label model": [
                    result.random_labels[m] for m in result.methods
                ],
            }
        )
        st.dataframe(table, hide_index=True, key="sanity_labels_table")
    if result.random_labels_note:
        st.caption(escape_markdown(result.random_labels_note, streamlit=True))


def faithfulness_view(
    ctx: ExplainContext, request: ExplainRequest, methods: dict[str, MethodInfo]
) -> None:
    st.caption(
        "Does the ranking say what matters to the model? Features are replaced by the "
        f"baseline ({request.baseline}) in each method's order (deletion: the output should "
        "fall fast, lower area is better), or put back into the baseline (insertion: higher "
        "area is better). A random order is the yardstick."
    )
    if ctx.tokens:
        st.info("Token inputs have no baseline value to replace them with.")
        return
    choices = [m for m, i in methods.items() if not i.needs_layer or m == "grad_cam"]
    chosen = st.multiselect(
        "Methods",
        choices,
        default=_defaults(choices, request.method),
        format_func=lambda n: methods[n].title,
        key="faith_methods",
    )
    cols = st.columns(3)
    order = "pixel"
    if ctx.dataset.kind == "image":
        order = cols[0].radio("Order", ["pixel", "patch"], horizontal=True, key="faith_order")
    output = "logit"
    if ctx.dataset.is_classification:
        output = cols[1].radio(
            "Output", ["logit", "probability"], horizontal=True, key="faith_output"
        )
    steps = int(cols[2].number_input("Steps", 2, 100, 20, key="faith_steps"))
    rows = min(FAITH_ROWS.get(ctx.dataset.kind, DEFAULT_ROWS), len(request.sample_indices))
    base = replace(request, sample_indices=request.sample_indices[:rows])
    key = _key("faith", ctx, request=base, methods=chosen, order=order, steps=steps, out=output)

    def run(progress):
        attrs = []
        for i, m in enumerate(chosen):
            progress(0.5 * i / len(chosen), f"Explaining with {methods[m].title}")
            attrs.append(api.explain_cached(ctx, replace(base, method=m)))
        return faithfulness_curves(
            ctx,
            attrs,
            base,
            steps=steps,
            image_order=order,
            output=output,
            progress=lambda f, msg: progress(0.5 + 0.5 * f, msg),
        )

    if chosen and st.button("Draw the curves", key="faith_go"):
        start_task(key, run)
    result = task_result(key, "Faithfulness curves")
    if result is None:
        return
    left, right = st.columns(2)
    left.plotly_chart(charts.faithfulness_chart(result, "deletion"), key="faith_deletion")
    right.plotly_chart(charts.faithfulness_chart(result, "insertion"), key="faith_insertion")
    st.dataframe(pd.DataFrame(result.table()), hide_index=True, key="faith_table")
    worse = [
        result.titles[m]
        for m in result.titles
        if m != "random" and result.deletion_auc[m] >= result.deletion_auc["random"]
    ]
    if worse:
        st.warning(
            escape_markdown(
                f"{', '.join(worse)}: removing features in this order lowers the output no "
                "faster than a random order. Its ranking does not say what matters to the "
                "model here; try another baseline or method.",
                streamlit=True,
            )
        )
