"""Assemble the full report of a stored run, and write it as HTML, Markdown and JSON.

    Dataset -> Model card -> Training -> (Generative model) -> Explanations
            -> Explanation checks (sanity, faithfulness)
            -> Fairness audit -> Calibration by group -> Error analysis
            -> Mitigation comparison -> Cautions

Every run gets every section: where one does not apply (no fairness audit for a regression
run, no variants yet) the section says why in a sentence rather than disappearing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from playground.analysis.autoencoder import anomaly_model
from playground.errors import PlaygroundError
from playground.explain.base import Attribution, Progress
from playground.report.document import Report, Section
from playground.report.render import to_html, to_json, to_markdown
from playground.report.sections_explain import explain_section
from playground.report.sections_explain_checks import explain_checks_section
from playground.report.sections_fairness import (
    audit_attributes,
    fairness_section,
    mitigation_attributes,
    mitigation_section,
    why_no_audit,
)
from playground.report.sections_fairness_more import add_group_metrics, more_sections
from playground.report.sections_generative import generative_section
from playground.report.sections_model import dataset_section, model_card_section, training_section
from playground.runner import LoadedRun, load_run
from playground.store import RunStore
from playground.train.modes.autoencoder import AUTOENCODER_NAMES

SECTION_TITLES = (
    "Dataset",
    "Model card",
    "Training",
    "Explanations",
    "Explanation checks",
    "Fairness audit",
    "Calibration by group",
    "Error analysis",
    "Mitigation comparison",
    "Cautions",
)
STANDING_CAUTION = (
    "A metric is not a verdict. Every number in this report describes this model on this data "
    "at this threshold. Whether an error rate or a gap between groups is acceptable depends on "
    "the decision being made, who it affects, the law, and how the labels were made: biased "
    "labels make a biased model look accurate."
)
# The audit's own closing caution says the same; the report says it once, in its own words.
_VERDICT = "a metric is not a verdict"
RENDERERS = {"html": to_html, "md": to_markdown, "json": to_json}


def _quiet(fraction: float, message: str) -> None:
    return None


def _scaled(progress: Progress, start: float, end: float) -> Progress:
    """A progress callback for one stage, mapping its 0..1 onto start..end of the whole."""

    def report(fraction: float, message: str) -> None:
        progress(start + (end - start) * min(max(fraction, 0.0), 1.0), message)

    return report


def build_report(
    run_id: str,
    store: RunStore | None = None,
    *,
    explain_rows: int = 200,
    attributes: list[str] | None = None,
    threshold: float = 0.5,
    progress: Progress | None = None,
    n_boot: int = 200,
) -> Report:
    """The full report of stored run `run_id`: explanations over the first `explain_rows`
    test rows, a fairness audit by `attributes` (default: every sensitive attribute and the
    intersection of the first two) at decision `threshold` with `n_boot` bootstrap
    resamples, and the comparison with the run's mitigation variants."""
    say = progress or _quiet
    if not 0.0 <= threshold <= 1.0:
        raise PlaygroundError(
            f"Threshold {threshold} is outside 0..1.", "Use a probability such as 0.5."
        )
    store = store or RunStore()
    say(0.0, "Loading the run")
    run = load_run(run_id, store)
    if attributes and why_no_audit(run) is None:
        audit_attributes(run, attributes)  # a misspelt attribute fails now, not after minutes
    record = run.record
    report = Report(
        title=f"Model report: {record.name or record.id}",
        run_id=record.id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    report.sections += [dataset_section(run), model_card_section(run), training_section(run, store)]
    generative = generative_section(run)  # autoencoders and GANs only
    if generative is not None:
        report.sections.append(generative)
    say(0.1, "Explaining the model")
    explanations, attributions = _explanations(run, explain_rows, _scaled(say, 0.1, 0.6))
    report.sections.append(explanations)
    checks = explain_checks_section(run, _scaled(say, 0.55, 0.6), asked=explain_rows > 0)
    report.sections.append(checks)
    say(0.6, "Auditing fairness")
    audit = fairness_section(run, store, attributes, threshold, attributions, n_boot)
    add_group_metrics(audit, run, attributes)  # regression and multiclass runs
    report.sections.append(audit)
    report.sections += more_sections(run, attributes, threshold, n_boot)
    say(0.85, "Comparing mitigation variants")
    report.sections.append(_mitigation(run, store, attributes, threshold))
    report.sections.append(cautions_section(report.sections))
    say(1.0, "Report ready")
    return report


def _explanations(
    run: LoadedRun, rows: int, progress: Progress
) -> tuple[Section, dict[str, Attribution]]:
    if rows <= 0:
        return Section("Explanations", paragraphs=["Explanations were not asked for."]), {}
    if run.record.mode == "gan":
        text = (
            "A GAN has no prediction per input to explain; the samples above show what it learnt."
        )
        return Section("Explanations", paragraphs=[text]), {}
    if run.record.mode in AUTOENCODER_NAMES:
        # The output explained is each sample's reconstruction error, its anomaly score.
        built = anomaly_model(run.modules["encoder"], run.modules["decoder"])
        section, results = explain_section(replace(run, built=built), rows, progress)
        section.paragraphs.insert(
            0,
            "For this autoencoder the explained output is the reconstruction error (the anomaly "
            "score): positive attributions make a sample look more anomalous.",
        )
        return section, results
    return explain_section(run, rows, progress)


def _mitigation(
    run: LoadedRun, store: RunStore, attributes: list[str] | None, threshold: float
) -> Section:
    reason = why_no_audit(run)
    if reason:
        return Section(
            "Mitigation comparison",
            paragraphs=["No mitigation comparison: there is no fairness audit for this run."],
            data={"comparisons": {}},
        )
    default = audit_attributes(run, attributes)[0]
    parts = [
        mitigation_section(store, run.record.id, attribute, threshold)
        for attribute in mitigation_attributes(store, run.record.id, default)
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged.tables += part.tables
        merged.charts += part.charts
        merged.cautions += [c for c in part.cautions if c not in merged.cautions]
        merged.data.setdefault("comparisons", {}).update(part.data.get("comparisons", {}))
    return merged


def cautions_section(sections: Sequence[Section]) -> Section:
    """Every caution of every section once, in section order, then the standing caution."""
    seen: list[str] = []
    for section in sections:
        for caution in section.cautions:
            if caution not in seen and _VERDICT not in caution.lower():
                seen.append(caution)
    seen.append(STANDING_CAUTION)
    return Section(
        "Cautions",
        paragraphs=["Everything above that a reader should weigh before acting on it."],
        cautions=seen,
        data={"cautions": seen},
    )


def check_formats(formats: Sequence[str]) -> None:
    """PlaygroundError unless `formats` is a non-empty list of html, md and json."""
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown or not formats:
        raise PlaygroundError(
            f"Unknown report format(s): {', '.join(map(repr, unknown)) or 'none given'}.",
            f"Choose from: {', '.join(RENDERERS)}.",
        )


def write_report(
    report: Report, out: str | Path, formats: Sequence[str] = ("html", "md", "json")
) -> list[Path]:
    """Write the report in each format; returns the paths written.

    `out` is a folder (files named report-<run id>.<format>) or a file path such as
    report.html, whose name is kept and whose suffix changes per format."""
    check_formats(formats)
    out = Path(out)
    if out.suffix.lower() in {".html", ".htm", ".md", ".json"}:
        folder, stem = out.parent, out.stem
    else:
        folder, stem = out, "report-" + re.sub(r"[^A-Za-z0-9_.-]", "_", report.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in dict.fromkeys(formats):
        path = folder / f"{stem}.{fmt}"
        path.write_text(RENDERERS[fmt](report), encoding="utf-8")
        paths.append(path)
    return paths
