"""The report's "Explanation checks" section: does the explanation depend on the model
(cascading randomisation) and does its ranking say what matters (deletion / insertion
curves)? Counterfactuals and influence are per-row questions and stay on the Explain page."""

from __future__ import annotations

import pandas as pd

from playground.charts import explain_checks as charts
from playground.errors import PlaygroundError
from playground.explain import api
from playground.explain.base import ExplainRequest, Progress
from playground.explain.context import ExplainContext
from playground.explain.faithfulness import faithfulness_curves
from playground.explain.sanity import cascading_randomisation
from playground.report.document import Chart, Section, Table
from playground.runner import LoadedRun

TITLE = "Explanation checks"
METHODS = ("integrated_gradients", "saliency")
ROWS = {"image": 16, "sequence": 16}
DEFAULT_ROWS = 30


def _quiet(fraction: float, message: str) -> None:
    return None


def explain_checks_section(
    run: LoadedRun, progress: Progress = _quiet, asked: bool = True
) -> Section:
    """Sanity and faithfulness of Integrated Gradients and Saliency on the first test rows
    (`asked` False: the report asked for no explanations)."""
    section = Section(TITLE)
    if not asked:
        section.paragraphs.append("Explanations were not asked for.")
        return section
    if run.record.mode != "supervised":
        section.paragraphs.append(
            "Explanation checks are run for supervised models; see the Explain page."
        )
        return section
    ctx = ExplainContext.of(run.record.id, run.dataset, run.built)
    available = {m.name for m in api.available_methods(ctx)}
    methods = [m for m in METHODS if m in available]
    rows = min(ROWS.get(run.dataset.kind, DEFAULT_ROWS), len(run.dataset.test))
    if not methods or rows == 0:
        section.paragraphs.append("No input attribution method fits this model and data.")
        return section
    request = ExplainRequest(methods[0], sample_indices=tuple(range(rows)))
    try:
        sanity = cascading_randomisation(
            ctx, methods, request, lambda f, m: progress(0.7 * f, m), random_labels=False
        )
    except PlaygroundError as exc:
        section.cautions.append(f"The sanity check could not run: {exc}")
        return section
    section.paragraphs.append(
        f"Sanity check (Adebayo et al. 2018) on the first {rows} test rows: the model's "
        "layers were replaced by random ones from the output down and the rows explained "
        "again. An explanation of this model must change."
    )
    section.paragraphs += [sanity.passed[m] for m in methods if m in sanity.passed]
    section.cautions += [sanity.flags[m] for m in methods if m in sanity.flags]
    section.charts.append(Chart("Cascading randomisation", charts.sanity_curves(sanity)))
    section.data["sanity"] = {
        "steps": sanity.steps,
        "rank_correlation": {m: sanity.rank[m].tolist() for m in methods},
    }
    if ctx.tokens:
        return section
    progress(0.7, "Faithfulness curves")
    attrs = [api.explain_cached(ctx, ExplainRequest(m, request.sample_indices)) for m in methods]
    faith = faithfulness_curves(ctx, attrs, request)
    section.charts.append(Chart("Deletion curves", charts.faithfulness_chart(faith, "deletion")))
    section.tables.append(
        Table(
            "Faithfulness: area under the deletion and insertion curves",
            pd.DataFrame(faith.table()),
            f"Output: {faith.output}; {faith.unit}s replaced by the {faith.baseline} baseline. "
            "Deletion: lower is better; insertion: higher is better.",
        )
    )
    section.data["faithfulness"] = faith.table()
    for m in methods:
        if faith.deletion_auc[m] >= faith.deletion_auc["random"]:
            section.cautions.append(
                f"{faith.titles[m]}: removing features in its order lowers the output no "
                "faster than a random order."
            )
    progress(1.0, "Explanation checks done")
    return section
