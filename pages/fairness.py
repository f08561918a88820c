"""Fairness page: audit a binary run group by group, move the threshold, see how much the
model leans on the attribute, train or derive mitigations, and download a report.

All numbers come from `playground.fairness` (Fairlearn MetricFrame, bootstrap intervals);
the page only chooses, caches and draws.
"""

from __future__ import annotations

import streamlit as st

from playground.charts import fairness as charts
from playground.errors import PlaygroundError
from playground.explain import api
from playground.explain.base import ExplainRequest
from playground.explain.context import ExplainContext
from playground.fairness.groups import groups_for_split
from playground.fairness.postprocessing import CONSTRAINTS
from playground.fairness.reliance import attribution_by_group, reliance_summary
from playground.fairness.variants import (
    compare_variants,
    derive_threshold_variant,
    variant_request,
)
from playground.report import build_report, to_html, to_json, to_markdown
from ui import fairness_views as views
from ui.run_picker import pick_run, weights_version
from ui.state import registry, show_error, store
from ui.task_view import start_task, task_result

RELIANCE_ROWS = 300

st.title("Fairness")
loaded = pick_run()
if loaded is None:
    st.stop()
dataset = loaded.dataset
run_id = loaded.record.id
if dataset.task != "binary" or not dataset.sensitive_attributes:
    st.info(
        "The fairness audit needs a binary task with sensitive attributes: train on adult, "
        "german_credit or hiring, or on your own CSV with its sensitive columns named "
        "on the Data page."
    )
    st.stop()
version = weights_version(run_id)

left, right = st.columns([2, 3])
attribute = left.selectbox("Sensitive attribute", views.attributes(dataset), key="attribute")
threshold = right.slider(
    "Decision threshold",
    0.0,
    1.0,
    0.5,
    0.01,
    key="threshold",
    help="A person is predicted positive when the model's probability is at least this.",
)
lineage = loaded.record.lineage
if lineage.get("variant"):
    st.caption(
        f"A variant of run {lineage['parent']}: {lineage['variant']} by {lineage['attribute']}."
    )

tabs = st.tabs(["Data", "Model", "Threshold & ROC", "Reliance", "Mitigation", "Report"])

with tabs[0]:
    data = views.data_audit(run_id, version, attribute)
    st.plotly_chart(charts.base_rates_chart(data), key="base_rates")
    st.dataframe(data.groups)
    if len(data.missing.columns):
        st.caption("Share of each group's rows missing a value")
        st.dataframe(data.missing)
    st.caption(data.missing_note)
    st.subheader("Proxies")
    st.caption(
        "How strongly each feature is associated with the attribute (Cramér's V or the "
        "correlation ratio, 0 to 1). A model can learn the attribute from strong proxies "
        "even when the attribute itself is removed."
    )
    st.plotly_chart(charts.proxies_chart(data.proxies), key="proxies")
    for caution in data.cautions:
        st.warning(caution)

with tabs[1]:
    audit = views.model_audit(run_id, version, attribute, threshold, 200)
    views.disparity_metrics(audit.disparities, audit.disparity_ci)
    chart = (
        charts.intersection_chart(audit) if "&" in attribute else charts.group_rates_chart(audit)
    )
    st.plotly_chart(chart, key="rates")
    st.dataframe(audit.by_group)
    st.caption(
        f"Rates on the test split at threshold {threshold:.2f}, with {audit.ci_level:.0%} "
        f"bootstrap intervals ({audit.n_boot} resamples). Groups under {audit.min_group} "
        "people are flagged as small, not hidden."
    )
    for caution in audit.cautions:
        st.warning(caution)

with tabs[2]:
    rocs, sweep, disparities = views.roc_and_sweep(run_id, version, attribute)
    quick = views.model_audit(run_id, version, attribute, threshold, 0)
    views.disparity_metrics(quick.disparities, {})
    left, right = st.columns(2)
    left.plotly_chart(
        charts.group_roc_chart(rocs, views.operating_points(sweep, threshold)), key="roc"
    )
    right.plotly_chart(charts.disparity_sweep_chart(disparities, threshold), key="sweep")
    st.dataframe(quick.by_group)

with tabs[3]:
    st.caption(
        f"Mean absolute Integrated Gradients attribution per feature, over the first "
        f"{RELIANCE_ROWS} test rows, overall and per group: how much the model leans on the "
        "attribute and its proxies."
    )
    ctx = ExplainContext.of(run_id, dataset, loaded.built)
    rows = tuple(range(min(RELIANCE_ROWS, len(dataset.test))))
    request = ExplainRequest("integrated_gradients", rows)
    key = api.cache_key(ctx, request)
    if st.button("Compute reliance", key="reliance_go"):
        start_task(key, lambda progress: api.explain_cached(ctx, request, progress))
    attr = task_result(key, "Integrated Gradients")
    if attr is not None:
        groups = groups_for_split(dataset, "test", attribute).iloc[list(attr.sample_indices)]
        table = attribution_by_group(attr, groups, dataset.feature_groups or None)
        st.plotly_chart(charts.attribution_by_group_chart(table), key="reliance")
        for sentence in reliance_summary(
            table, attribute, views.data_audit(run_id, version, attribute).proxies
        ):
            st.write(sentence)

with tabs[4]:
    parent_id = lineage.get("parent", run_id)
    st.caption(
        "Each variant is a stored run like any other: find it on the Runs page, inspect or "
        "explain it. The table compares them on the test split at the chosen threshold."
    )
    parent = store().get_run(parent_id)
    a, b, c = st.columns(3)
    for col, variant, label in (
        (a, "drop_attribute", f"Train without {attribute}"),
        (b, "reweighing", f"Train with reweighing by {attribute}"),
    ):
        if col.button(label, key=f"variant_{variant}"):
            try:
                registry().submit(variant_request(parent, variant, attribute))
            except PlaygroundError as exc:
                show_error(exc)
    constraint = c.selectbox("Constraint", list(CONSTRAINTS), key="constraint")
    if c.button("Post-process with ThresholdOptimizer", key="variant_threshold"):
        try:
            derive_threshold_variant(store(), parent_id, attribute, constraint)
        except PlaygroundError as exc:
            show_error(exc)
    variants = store().variants(parent_id)
    running = [v for v in variants if v.status in ("pending", "queued", "running", "paused")]
    if running:
        st.info(f"{len(running)} variant(s) training; the table fills in as they finish.")
        if st.button("Refresh", key="variants_refresh"):
            st.rerun()
    if variants:
        comparison = compare_variants(store(), parent_id, attribute, threshold)
        st.dataframe(comparison.table, hide_index=True)
        st.plotly_chart(charts.tradeoff_chart(comparison.table), key="tradeoff")
        for note in comparison.notes:
            st.warning(note)
    else:
        st.caption("No variants yet: make one with the buttons above.")

with tabs[5]:
    st.caption(
        "A self-contained HTML report (interactive figures, works offline) with the dataset, "
        "model card, training curves, explanations, this audit, the mitigations and the "
        "cautions; plus Markdown and JSON summaries."
    )
    report_key = f"report-{run_id}-{version}-{threshold:.2f}"

    def _build(progress):
        report = build_report(run_id, store(), threshold=threshold, progress=progress)
        return {"html": to_html(report), "md": to_markdown(report), "json": to_json(report)}

    if st.button("Build the report", key="report_go"):
        start_task(report_key, _build)
    files = task_result(report_key, "Report")
    if files is not None:
        # The files live in Streamlit's media store and reach the browser only when a button
        # is pressed. A click does not rerun the page (on_click="ignore"): a rerun would drop
        # the file a second click asks for, and deferred (callable) data was dropped the same
        # way ("Deferred file not found", a spinning button).
        for col, (fmt, label, mime) in zip(
            st.columns(3),
            (
                ("html", "HTML report", "text/html"),
                ("md", "Markdown", "text/markdown"),
                ("json", "JSON", "application/json"),
            ),
            strict=True,
        ):
            col.download_button(
                label,
                files[fmt],
                f"report-{run_id}.{fmt}",
                mime,
                key=f"dl_{fmt}",
                on_click="ignore",
            )
