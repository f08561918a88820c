"""The report's explanation section: global importance by two methods, a few single-sample
explanations, and the trust checks (completeness, agreement between methods)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from playground.analysis.data_summary import original_features
from playground.charts import explain as charts
from playground.data import Dataset
from playground.errors import PlaygroundError
from playground.explain import api, summary, trust
from playground.explain.base import Attribution, ExplainRequest, Progress
from playground.explain.context import ExplainContext
from playground.report.document import Chart, Section, Table
from playground.runner import LoadedRun

GLOBAL_METHODS = ("integrated_gradients", "shap_gradient", "saliency")
SAMPLES_SHOWN = 3


def _quiet(fraction: float, message: str) -> None:
    return None


def explain_section(
    run: LoadedRun, rows: int = 200, progress: Progress = _quiet
) -> tuple[Section, dict[str, Attribution]]:
    """The section, plus the attributions it computed (the fairness section reuses them)."""
    ctx = ExplainContext.of(run.record.id, run.dataset, run.built)
    available = {m.name for m in api.available_methods(ctx)}
    indices = tuple(range(min(rows, len(run.dataset.test))))
    groups = run.dataset.feature_groups or None
    section = Section("Explanations")
    results: dict[str, Attribution] = {}
    chosen = [m for m in GLOBAL_METHODS if m in available]
    for i, method in enumerate(chosen):
        progress(i / max(len(chosen), 1), f"Explaining with {method}")
        try:
            results[method] = api.explain_cached(ctx, ExplainRequest(method, indices))
        except PlaygroundError as exc:
            section.cautions.append(f"{method} could not run: {exc}")
    if not results:
        section.paragraphs.append("No explanation method fits this model and data.")
        return section, results
    section.paragraphs.append(
        f"Attributions of the model's output for the explained class (logit), over the first "
        f"{len(indices)} test rows. Importance = mean absolute attribution."
    )
    for attr in results.values():
        if attr.data_kind == "image":
            maps = np.abs(summary.image_attribution(attr)).mean(axis=0, keepdims=True)
            figure = charts.image_overlay(
                attr.inputs.mean(axis=0, keepdims=True), maps, ["mean"], signed=False
            )
        else:
            importance = summary.global_importance(attr, groups)
            figure = charts.importance_bars(importance, f"{attr.title}: mean |attribution|")
            section.data[f"importance_{attr.method}"] = importance.to_dict(orient="records")
        section.charts.append(Chart(f"Global importance — {attr.title}", figure))
    first = next(iter(results.values()))
    for position in range(min(SAMPLES_SHOWN, first.n)):
        section.charts.append(_sample_chart(first, position, groups, run.dataset))
    _trust(section, results, groups)
    return section, results


def _sample_chart(attr: Attribution, position: int, groups, dataset: Dataset) -> Chart:
    row = int(attr.sample_indices[position])
    title = f"{attr.title} — test row {row}"
    if attr.data_kind == "image":
        maps = summary.image_attribution(attr)[position : position + 1]
        return Chart(title, charts.image_overlay(attr.inputs[position : position + 1], maps))
    if attr.data_kind == "sequence":
        steps = summary.time_step_attribution(attr)[position : position + 1]
        return Chart(
            title, charts.time_step_attribution(steps, attr.inputs[position : position + 1])
        )
    originals = original_features(dataset, "test", attr.sample_indices)
    figure = charts.waterfall(**summary.waterfall_inputs(attr, position, groups, originals))
    return Chart(title, figure)


def _trust(section: Section, results: dict[str, Attribution], groups) -> None:
    checks = []
    ig = results.get("integrated_gradients")
    if ig is not None:
        c = summary.completeness(ig)
        checks.append(
            {
                "check": "Integrated Gradients: sum of attributions = f(x) − f(baseline)",
                "largest gap": c["max_abs_error"],
                "relative error": c["relative_error"],
                "tolerance": c["tolerance"],
                "passed": c["passed"],
            }
        )
    shap_attr = results.get("shap_gradient")
    if shap_attr is not None and shap_attr.expected_value is not None:
        c = trust.completeness_shap(shap_attr)
        checks.append(
            {
                "check": c["check"],
                "largest gap": c["max_abs_error"],
                "relative error": np.nan,
                "tolerance": c["tolerance"],
                "passed": c["passed"],
            }
        )
    if checks:
        section.tables.append(
            Table("Completeness checks", pd.DataFrame(checks), "Gaps in output units (logits).")
        )
    comparable = [a for a in results.values() if not a.layer_map]
    if len(comparable) >= 2 and comparable[0].data_kind != "image":
        try:
            rankings, corr = trust.rank_agreement(comparable, groups)
        except PlaygroundError as exc:
            section.cautions.append(str(exc))
            return
        table = corr.reset_index().rename(columns={"index": "method"})
        section.tables.append(
            Table(
                "Rank correlation between methods (Spearman)",
                table,
                "1 = same ranking of features, 0 = unrelated, −1 = reversed.",
            )
        )
        section.charts.append(
            Chart("Feature ranks by method", charts.method_rankings(rankings, values="rank"))
        )
        low = corr.where(~np.eye(len(corr), dtype=bool)).min().min()
        if np.isfinite(low) and low < 0.5:
            section.cautions.append(
                f"The methods disagree (lowest rank correlation {low:.2f}): read any single "
                "method's ranking with care."
            )
