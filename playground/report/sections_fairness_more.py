"""The report's sections past the audit: calibration by group and error analysis (the error
tree's cohorts), which every report has (saying why where they do not apply), and, for
regression and multiclass runs, the group metrics that make sense for them, added to the
Fairness audit section (which says why they get no binary audit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from playground.charts import fairness_more as charts
from playground.errors import PlaygroundError
from playground.fairness.calibration import calibration_by_group
from playground.fairness.error_analysis import error_tree, raw_rows
from playground.fairness.group_errors import group_errors_for_run
from playground.fairness.groups import groups_for_split
from playground.fairness.runs import scores_for_run
from playground.report.document import Chart, Section, Table
from playground.runner import LoadedRun

SPLIT = "test"
COHORTS_SHOWN = 8


def calibration_section(run: LoadedRun, attributes: list[str], n_boot: int = 200) -> Section:
    """Reliability diagrams and ECE by group for a binary run with sensitive attributes."""
    section = Section("Calibration by group")
    if run.dataset.task != "binary" or not run.dataset.sensitive_attributes:
        section.paragraphs.append(
            "No calibration by group: it compares the scores of a yes/no decision across "
            "groups, so it needs a binary run with sensitive attributes."
        )
        return section
    try:
        y, scores = scores_for_run(run, SPLIT)
    except PlaygroundError as exc:
        section.paragraphs.append(f"No calibration: {exc.message}")
        return section
    section.paragraphs.append(
        f"Scores of the {SPLIT} split in 10 bins; the expected calibration error (ECE) is the "
        "bins' gaps between mean score and share positive, weighted by their rows, with "
        f"{n_boot}-resample bootstrap intervals. A group with a larger ECE gets scores that "
        "mean something else for it."
    )
    section.data["ece"] = {}
    for attribute in attributes:
        result = calibration_by_group(
            y, scores, groups_for_split(run.dataset, SPLIT, attribute), n_boot=n_boot
        )
        result.split = SPLIT
        section.tables.append(
            Table(f"{attribute}: expected calibration error", result.ece.reset_index())
        )
        section.charts.append(Chart(f"{attribute}: reliability", charts.reliability_chart(result)))
        section.data["ece"][attribute] = {
            "overall": result.overall_ece,
            "by_group": result.ece.reset_index().to_dict(orient="records"),
        }
    return section


def error_analysis_section(run: LoadedRun, threshold: float = 0.5) -> Section:
    """The error tree's cohorts (worst first) for a binary tabular run."""
    section = Section("Error analysis")
    if run.dataset.task != "binary" or run.dataset.kind != "tabular":
        section.paragraphs.append(
            "No error analysis: the error tree describes a yes/no decision's mistakes by the "
            "columns of a table, so it needs a binary tabular run."
        )
        return section
    try:
        y, scores = scores_for_run(run, SPLIT)
        tree = error_tree(raw_rows(run.dataset, SPLIT), (scores >= threshold) != y)
    except PlaygroundError as exc:
        section.paragraphs.append(f"No error analysis: {exc.message}")
        return section
    section.paragraphs.append(
        f"A depth-3 decision tree over the {SPLIT} rows as given predicts where the model errs "
        f"at threshold {threshold:.2f} ({tree.error_rate:.1%} of rows overall). Its leaves "
        f"are cohorts, worst first."
    )
    table = pd.DataFrame(
        [
            {
                "cohort": c.rule,
                "rows": c.size,
                "errors": c.errors,
                "error rate": c.error_rate,
                "share of errors": c.error_share,
            }
            for c in tree.cohorts[:COHORTS_SHOWN]
        ]
    )
    section.tables.append(Table("Cohorts by error rate", table))
    section.charts.append(Chart("Error tree", charts.error_tree_chart(tree)))
    worst = tree.worst
    if worst.error_rate > 2 * tree.error_rate and worst.size >= 30:
        section.cautions.append(
            f"The model errs on {worst.error_rate:.0%} of the cohort '{worst.rule}' "
            f"({worst.size} rows), against {tree.error_rate:.0%} overall."
        )
    section.data["cohorts"] = table.to_dict(orient="records")
    return section


def group_errors_section(run: LoadedRun, attributes: list[str]) -> Section | None:
    """Errors (regression) or per-class selection rates (multiclass) by group."""
    ds = run.dataset
    if ds.task == "binary" or not ds.sensitive_attributes:
        return None
    section = Section("Group metrics")
    what = "errors (MAE, RMSE)" if ds.task == "regression" else "per-class selection rates"
    section.paragraphs.append(f"For this {ds.task} run: {what} by group on the {SPLIT} split.")
    section.data["groups"] = {}
    for attribute in attributes:
        result = group_errors_for_run(run, attribute, SPLIT)
        section.tables.append(Table(f"{attribute}: by group", result.table.reset_index()))
        section.charts.append(Chart(f"{attribute}: by group", charts.group_errors_chart(result)))
        section.cautions += [n for n in result.notes if n not in section.cautions]
        section.data["groups"][attribute] = {
            "gaps": result.gaps,
            "table": result.table.reset_index().replace({np.nan: None}).to_dict(orient="records"),
        }
    return section


def more_sections(
    run: LoadedRun, attributes: list[str] | None, threshold: float, n_boot: int
) -> list[Section]:
    """Calibration by group and error analysis, in report order."""
    chosen = attributes or list(run.dataset.sensitive_attributes)
    return [calibration_section(run, chosen, n_boot), error_analysis_section(run, threshold)]


def add_group_metrics(audit: Section, run: LoadedRun, attributes: list[str] | None) -> None:
    """Add a regression or multiclass run's group metrics to its Fairness audit section."""
    found = group_errors_section(run, attributes or list(run.dataset.sensitive_attributes))
    if found is None:
        return
    audit.paragraphs += found.paragraphs
    audit.tables += found.tables
    audit.charts += found.charts
    audit.cautions += found.cautions
    audit.data["group_metrics"] = found.data["groups"]
