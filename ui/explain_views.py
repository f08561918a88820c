"""Draw one Attribution: global and per-sample views that fit the data, and its checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from playground.analysis.data_summary import dataset_frame, original_features
from playground.charts import explain as charts
from playground.data import Dataset
from playground.explain import summary
from playground.explain.base import Attribution
from playground.explain.trust import completeness_shap
from playground.markup import escape_markdown
from playground.model import BuiltModel
from ui.what_if_view import what_if_view


def _readable(
    attr: Attribution, dataset: Dataset, key: str
) -> tuple[dict[str, str] | None, pd.DataFrame | None]:
    """(groups, originals) for the summary functions: by default one-hot columns are summed
    into their column and values are the user's own; a toggle shows the model's encoding."""
    originals = original_features(dataset, "test", attr.sample_indices)
    if not dataset.feature_groups and originals is None:
        return None, None
    encoded = st.toggle(
        "Show the model's encoding (one column per category, standardised numbers)",
        key=key,
        help="By default a column's one-hot parts are summed into it (workclass=Private, "
        "workclass=Self-emp… become 'workclass') and values are shown as in the data.",
    )
    if encoded:
        return None, None
    return dataset.feature_groups or None, originals


def global_view(attr: Attribution, dataset: Dataset) -> None:
    """Importance over all explained samples, in the form the data calls for."""
    if attr.layer_map and attr.method != "grad_cam":
        st.caption("How much of the prediction flows through each unit of the chosen layer.")
        importance = summary.layer_importance(attr)
        st.plotly_chart(
            charts.importance_bars(importance, f"{attr.title}: mean |conductance|"),
            key="unit_bars",
        )
        return
    if attr.data_kind == "image":
        maps = summary.image_attribution(attr)
        images = attr.inputs if attr.inputs.ndim == 4 else None
        if images is not None:
            st.caption("Mean absolute attribution over the explained images.")
            mean_map = np.abs(maps).mean(axis=0, keepdims=True)
            st.plotly_chart(
                charts.image_overlay(
                    images.mean(axis=0, keepdims=True),
                    mean_map,
                    titles=["mean of the samples"],
                    signed=False,
                ),
                key="global_map",
            )
        return
    if attr.data_kind == "sequence" and not attr.layer_map:
        steps = summary.time_step_attribution(attr)
        st.caption("Attribution per time step, one row per explained sequence.")
        st.plotly_chart(
            charts.time_step_attribution(
                steps[:40], None, [f"row {i}" for i in attr.sample_indices[:40]]
            ),
            key="global_steps",
        )
    groups, originals = _readable(attr, dataset, "encoded_global")
    importance = summary.global_importance(attr, groups)
    st.plotly_chart(
        charts.importance_bars(importance, f"{attr.title}: mean |attribution|"), key="bars"
    )
    if attr.data_kind in ("tabular", "toy2d") and not attr.layer_map and attr.n > 1:
        values, features = summary.feature_table(attr, groups, originals)
        numeric = features.apply(lambda c: c.dtype.kind in "fiub")
        names = list(values.columns)
        feats = summary.numeric_values(features)
        st.plotly_chart(
            charts.beeswarm(
                values.to_numpy(), feats, names, value_text=summary.value_text(features)
            ),
            key="beeswarm",
        )
        chosen = st.selectbox("Dependence on", names, key="dependence_feature")
        if numeric[chosen]:
            st.plotly_chart(
                charts.dependence_scatter(values.to_numpy(), feats, names, chosen),
                key="dependence",
            )
            absent = int(features[chosen].isna().sum())
            if absent:
                st.caption(
                    f"{absent} of {len(features)} rows have no {chosen} in the data and are "
                    "not plotted (the model saw the filled-in value for them)."
                )
        else:
            shown = escape_markdown(chosen, streamlit=True)
            st.caption(f"{shown} is categorical: see its spread in the beeswarm above.")


def sample_view(
    attr: Attribution, dataset: Dataset, position: int, built: BuiltModel | None = None
) -> None:
    """One sample's explanation: waterfall, image overlay or time steps; for tables the row as
    in the data and (with `built`) a what-if panel."""
    row = int(attr.sample_indices[position])
    label = attr.labels[position]
    target = int(attr.targets[position])
    names = dataset.class_names or []
    explained = names[target] if dataset.is_classification and len(names) > target > -1 else ""
    st.caption(
        f"Test row {row}: output {attr.outputs[position]:.4g}"
        + (f" for class {explained!r}" if explained and attr.outputs.size else "")
        + (f", true label {names[int(label)]!r}" if dataset.is_classification and names else "")
    )
    if attr.layer_map and attr.method != "grad_cam":
        values = attr.values[position].reshape(-1)
        order = np.argsort(-np.abs(values))[:20]
        table = pd.DataFrame({"feature": [f"unit {i}" for i in order], "importance": values[order]})
        st.plotly_chart(
            charts.importance_bars(table, f"{attr.title} of row {row} (signed)"), key="unit_sample"
        )
        return
    if attr.data_kind == "image":
        maps = summary.image_attribution(attr)[position : position + 1]
        st.plotly_chart(
            charts.image_overlay(attr.inputs[position : position + 1], maps, titles=[f"row {row}"]),
            key="sample_map",
        )
        return
    if attr.data_kind == "sequence" and not attr.layer_map:
        steps = summary.time_step_attribution(attr)[position : position + 1]
        inputs = attr.inputs[position : position + 1]
        st.plotly_chart(
            charts.time_step_attribution(steps, inputs, [f"row {row}"]), key="sample_steps"
        )
        return
    groups, originals = _readable(attr, dataset, "encoded_sample")
    if dataset.kind == "tabular":
        st.dataframe(
            dataset_frame(dataset, "test", rows=[row], encoded=originals is None), key="sample_row"
        )
    st.plotly_chart(
        charts.waterfall(**summary.waterfall_inputs(attr, position, groups, originals)),
        key="waterfall",
    )
    if built is not None:
        what_if_view(built, dataset, row)


def checks_view(attr: Attribution) -> None:
    """Completeness (IG-like methods) or additivity (SHAP), with the tolerance stated."""
    if attr.expected_value is not None and attr.method.startswith("shap"):
        check = completeness_shap(attr)
        total = attr.values.reshape(attr.n, -1).sum(axis=1) + attr.expected_value
        (st.success if check["passed"] else st.warning)(check["detail"])
        st.plotly_chart(
            charts.completeness_chart(total, attr.outputs, check["tolerance"]),
            key="completeness",
        )
    elif attr.baseline_outputs is not None and not attr.layer_map:
        check = summary.completeness(attr)
        text = (
            f"Completeness: attributions sum to f(x) − f(baseline) within "
            f"{check['relative_error']:.2%} (tolerance {check['tolerance']:.0%}); largest gap "
            f"{check['max_abs_error']:.3g} in output units."
        )
        (st.success if check["passed"] else st.warning)(text)
        tolerance = check["tolerance"] * max(float(np.abs(check["expected"]).mean()), 1e-6)
        st.plotly_chart(
            charts.completeness_chart(check["total"], check["expected"], tolerance),
            key="completeness",
        )
    else:
        st.caption(f"{attr.title} has no completeness property to check.")
    if attr.delta is not None:
        st.caption(
            f"Integrated Gradients convergence delta: mean |δ| {np.abs(attr.delta).mean():.3g}, "
            f"max {np.abs(attr.delta).max():.3g} (more steps make it smaller)."
        )
