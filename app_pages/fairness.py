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
from playground.fairness import actions
from playground.fairness.groups import groups_for_split
from playground.fairness.postprocessing import CONSTRAINTS
from playground.fairness.reliance import attribution_by_group, reliance_summary
from playground.fairness.variants import (
    FITTED_ON_VALIDATION,
    VARIANTS,
    derive_threshold_variant,
    variant_request,
)
from playground.markup import escape_markdown
from playground.report import build_report, to_html, to_json, to_markdown
from ui import fairness_more as more
from ui import fairness_views as views
from ui.next_step import next_step
from ui.run_picker import pick_run, weights_version
from ui.state import registry, show_error, store
from ui.task_view import start_task, task_result

RELIANCE_ROWS = 300
SPLIT = "test"  # the model is audited on rows it never trained or was tuned on

st.title("Fairness")
loaded = pick_run()
if loaded is None:
    st.stop()
dataset = loaded.dataset
run_id = loaded.record.id
version = weights_version(run_id)
if dataset.task != "binary" and dataset.sensitive_attributes:
    # Regression and multiclass: errors and per-class selection rates by group.
    more.group_errors_view(run_id, version, views.attributes(dataset))
    next_step("fairness")
    st.stop()
if dataset.task != "binary" or not dataset.sensitive_attributes:
    st.info(
        "The fairness audit needs a binary task with sensitive attributes. "
        + actions.try_fairness_data()
    )
    st.stop()

left, right = st.columns([2, 3])
attribute = left.selectbox(actions.ATTRIBUTE, views.attributes(dataset), key="attribute")
threshold = right.slider(
    actions.THRESHOLD,
    0.0,
    1.0,
    0.5,
    0.01,
    key="threshold",
    help="A person is predicted positive when the model's probability is at least this.",
)
lineage = loaded.record.lineage
if lineage.get("variant"):
    how = VARIANTS.get(lineage["variant"], lineage["variant"])
    note = (
        f" It decides with {FITTED_ON_VALIDATION} ({lineage['constraint'].replace('_', ' ')}), "
        f"not with the {actions.quote(actions.THRESHOLD)}; its rates here are on the "
        f"{SPLIT} split."
        if lineage["variant"] == "threshold_optimizer"
        else ""
    )
    st.caption(f"A variant of run {lineage['parent']}: {how} by {lineage['attribute']}.{note}")

cohort = more.cohort_choice(run_id, version, threshold)  # None: all test rows
tabs = st.tabs(
    [
        actions.DATA_TAB,
        "Model",
        "Threshold & ROC",
        "Reliance",
        actions.MITIGATION_TAB,
        "Report",
        *more.TABS,
    ]
)

with tabs[0]:
    data = views.data_audit(run_id, version, attribute)
    st.plotly_chart(charts.base_rates_chart(data), key="base_rates")
    st.dataframe(views.rates_table(data.groups, data.splits), hide_index=True)
    if len(data.missing.columns):
        st.caption(f"Share of each group's rows missing a value ({views.split_name(data.splits)})")
        st.dataframe(views.missing_table(data.missing), hide_index=True)
    st.caption(data.missing_note)
    st.subheader(actions.PROXIES)
    st.caption(
        "How strongly each feature is associated with the attribute (Cramér's V or the "
        "correlation ratio, 0 to 1). A model can learn the attribute from strong proxies "
        "even when the attribute itself is removed."
    )
    st.plotly_chart(charts.proxies_chart(data.proxies), key="proxies")
    for caution in data.cautions:
        if caution != data.missing_note:  # shown above, as a note on the missing values
            st.warning(caution)

where = f"on the {SPLIT} split at threshold {threshold:.2f}"
if lineage.get("variant") == "threshold_optimizer":
    where = f"on the {SPLIT} split, with {FITTED_ON_VALIDATION}"

with tabs[1]:
    audit = views.model_audit(run_id, version, attribute, threshold, 200)
    if cohort is not None and lineage.get("variant") not in (
        "threshold_optimizer",
        "exponentiated_gradient",
    ):
        audit = more.cohort_audit(run_id, version, attribute, threshold, cohort[1])
        st.caption(f"Only the cohort {escape_markdown(cohort[0], streamlit=True)}.")
    views.disparity_metrics(audit.disparities, audit.disparity_ci, where)
    chart = (
        charts.intersection_chart(audit) if "&" in attribute else charts.group_rates_chart(audit)
    )
    st.plotly_chart(chart, key="rates")
    st.dataframe(views.rates_table(audit.by_group, audit.split), hide_index=True)
    st.caption(
        f"Rates {where}, with {audit.ci_level:.0%} bootstrap intervals ({audit.n_boot} "
        f"resamples). Groups under {audit.min_group} people are flagged as small, not hidden."
    )
    for caution in audit.cautions:
        st.warning(caution)

# A cohort filters the tabs that score rows; a post-processed or randomised variant decides
# differently from its scores, so its rates stay on every row.
in_cohort = cohort is not None and lineage.get("variant") not in (
    "threshold_optimizer",
    "exponentiated_gradient",
)
cohort_rows = tuple(int(i) for i in cohort[1]) if in_cohort else None

with tabs[2]:
    rocs, sweep, disparities = views.roc_and_sweep(run_id, version, attribute, cohort_rows)
    if cohort_rows is not None:
        quick = more.cohort_audit(run_id, version, attribute, threshold, cohort[1], n_boot=0)
        st.caption(f"Only the cohort {escape_markdown(cohort[0], streamlit=True)}.")
    else:
        quick = views.model_audit(run_id, version, attribute, threshold, 0)
    views.disparity_metrics(quick.disparities, {}, where)
    left, right = st.columns(2)
    points = views.operating_points(sweep, threshold)
    left.plotly_chart(charts.group_roc_chart(rocs, points, SPLIT), key="roc")
    right.plotly_chart(charts.disparity_sweep_chart(disparities, threshold, SPLIT), key="sweep")
    st.dataframe(views.rates_table(quick.by_group, quick.split), hide_index=True)

with tabs[3]:
    st.caption(
        f"Mean absolute Integrated Gradients attribution per feature, over the first "
        f"{RELIANCE_ROWS} rows of the {SPLIT} split, overall and per group: how much the model "
        "leans on the attribute and its proxies."
    )
    ctx = ExplainContext.of(run_id, dataset, loaded.built)
    rows = (
        cohort_rows[:RELIANCE_ROWS]
        if cohort_rows
        else tuple(range(min(RELIANCE_ROWS, len(dataset.test))))
    )
    if cohort_rows:
        st.caption(f"Only the cohort {escape_markdown(cohort[0], streamlit=True)}.")
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
        f"explain it. The table compares them on the {SPLIT} split at threshold "
        f"{threshold:.2f}; a post-processed variant decides with {FITTED_ON_VALIDATION} "
        "instead. Progress shows here while a variant trains."
    )
    parent = store().get_run(parent_id)
    # One run of each trained variant at a time: a second click would train a duplicate.
    training = {(v.variant, v.attribute) for v in views.variant_states(parent_id) if v.active}
    a, b, c = st.columns(3)
    for col, variant in ((a, "drop_attribute"), (b, "reweighing")):
        label = actions.variant_button(variant, attribute)
        busy = (variant, attribute) in training
        if col.button(label, key=f"variant_{variant}", disabled=busy):
            try:
                registry().submit(variant_request(parent, variant, attribute))
            except PlaygroundError as exc:
                show_error(exc)
            else:
                st.rerun()  # redraw with this button disabled and the variant's progress
    constraint = c.selectbox(
        actions.CONSTRAINT,
        list(CONSTRAINTS),
        format_func=lambda name: name.replace("_", " "),
        key="constraint",
    )
    if c.button(actions.variant_button("threshold_optimizer", attribute), key="variant_threshold"):
        try:
            derive_threshold_variant(store(), parent_id, attribute, constraint)
        except PlaygroundError as exc:
            show_error(exc)
    comparison = views.mitigation(parent_id, attribute, threshold)
    if comparison is not None:
        st.dataframe(views.comparison_table(comparison.table), hide_index=True)
        st.plotly_chart(charts.tradeoff_chart(comparison.table, split=SPLIT), key="tradeoff")
        for note in comparison.notes:
            st.warning(note)
    more.in_training(parent_id, attribute, constraint)

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

with tabs[6]:
    more.calibration(run_id, version, attribute, cohort)
with tabs[7]:
    more.error_analysis(run_id, version, threshold)
with tabs[8]:
    more.guidance()

next_step("fairness")
