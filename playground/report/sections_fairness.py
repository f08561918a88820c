"""The report's fairness sections: the audit (data, model, reliance) per sensitive attribute,
and the comparison of mitigation variants."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from playground.charts import fairness as charts
from playground.errors import PlaygroundError
from playground.explain import api
from playground.explain.base import Attribution, ExplainRequest
from playground.explain.context import ExplainContext
from playground.fairness.data_audit import DataAudit, audit_data
from playground.fairness.groups import JOIN, attribute_columns, groups_for_split
from playground.fairness.metrics import DISPARITIES, ModelAudit, audit_model
from playground.fairness.reliance import attribution_by_group, reliance_summary
from playground.fairness.roc import group_roc
from playground.fairness.runs import scores_for_run
from playground.fairness.threshold import disparity_sweep, threshold_sweep
from playground.fairness.variants import VARIANTS, compare_variants
from playground.report.document import Chart, Section, Table
from playground.runner import LoadedRun
from playground.store import RunStore

ATTRIBUTION_ROWS = 200  # test rows explained when no attributions are handed in
PROXIES_SHOWN = 15
SPLIT = "test"
NO_VARIANTS = (
    "No mitigation variants of this run exist yet. Make them on the Fairness page (train "
    "without the attribute, train with reweighing, or post-process with ThresholdOptimizer), "
    "or from Python with playground.fairness.variants.train_now / derive_threshold_variant, "
    "then build the report again to compare them here."
)


def why_no_audit(run: LoadedRun) -> str | None:
    """A sentence saying why this run gets no fairness audit, or None when it can have one."""
    ds = run.dataset
    if ds.task != "binary":
        return (
            f"No fairness audit: the dataset {ds.name!r} is a {ds.task} task. The audit here "
            "compares the rates of a yes/no decision across groups, so it needs a binary task "
            "(adult, german_credit, hiring, or a CSV with a two-valued target)."
        )
    if not ds.sensitive_attributes:
        return (
            f"No fairness audit: the dataset {ds.name!r} has no sensitive attributes (such as "
            "sex, race or age) to compare groups by. Use adult, german_credit or hiring, or "
            "name the sensitive columns when loading a CSV."
        )
    return None


def audit_attributes(run: LoadedRun, attributes: list[str] | None = None) -> list[str]:
    """The attributes to audit: those asked for (checked), else every sensitive attribute
    plus the intersection of the first two ("sex & race")."""
    known = list(run.dataset.sensitive_attributes)
    if not attributes:
        return known + ([f"{known[0]}{JOIN}{known[1]}"] if len(known) >= 2 else [])
    for attribute in attributes:
        missing = [c for c in attribute_columns(attribute, known) if c not in known]
        if missing:
            raise PlaygroundError(
                f"No sensitive attribute {', '.join(map(repr, missing))} in {run.dataset.name!r}.",
                f"Choose from: {', '.join(known)} (or two joined with '&', e.g. "
                f"'{known[0]}{JOIN}{known[-1]}').",
            )
    return list(dict.fromkeys(attributes))


def fairness_section(
    run: LoadedRun,
    store: RunStore,
    attributes: list[str] | None = None,
    threshold: float = 0.5,
    attributions: dict[str, Attribution] | None = None,
    n_boot: int = 200,
) -> Section:
    """The audit of `run` on the test split, per attribute: data tables and charts (groups,
    proxies), the model's rates with bootstrap intervals, disparities, ROC curves, how the
    gaps move with the threshold, and what the model leans on per group (Integrated
    Gradients: `attributions["integrated_gradients"]` when given, else computed here).
    `store` is not read today; it keeps the call like the other report sections'."""
    section = Section("Fairness audit")
    reason = why_no_audit(run)
    if reason:
        section.paragraphs.append(reason)
        section.data["audited"] = False
        return section
    chosen = audit_attributes(run, attributes)
    try:
        y_true, scores = scores_for_run(run, SPLIT)
    except PlaygroundError as exc:  # e.g. a model with more than two outputs
        section.paragraphs.append(f"No fairness audit: {exc.message}")
        section.data["audited"] = False
        return section
    if not np.isfinite(scores).all():
        section.paragraphs.append(
            "No fairness audit: some of the model's scores are not numbers (NaN), which "
            "happens when training diverged. Retrain with a lower learning rate."
        )
        section.data["audited"] = False
        return section
    section.paragraphs.append(
        f"Audited on the {SPLIT} split ({len(y_true)} rows) at decision threshold "
        f"{threshold:.2f}, by {', '.join(repr(a) for a in chosen)}. A row is a positive "
        f"decision when the model's probability of '{_positive(run)}' is at least the threshold. "
        + (
            f"Intervals are 95% bootstrap intervals from {n_boot} resamples of the {SPLIT} rows. "
            if n_boot > 0
            else ""
        )
        + "Data tables count the rows of all three splits."
    )
    ig = _integrated_gradients(run, attributions)
    section.data.update(
        audited=True, split=SPLIT, threshold=threshold, n_boot=n_boot, attributes={}
    )
    found: list[tuple[str, str]] = []
    for attribute in chosen:
        data = audit_data(run.dataset, attribute)
        groups = groups_for_split(run.dataset, SPLIT, attribute)
        audit = audit_model(y_true, scores, groups, threshold, n_boot)
        _add_data_audit(section, data)
        aucs = _add_model_audit(section, audit, y_true, scores, groups)
        reliance = _add_reliance(section, run, ig, data, groups)
        found += [(attribute, c) for c in [*data.cautions, *audit.cautions]]
        section.data["attributes"][attribute] = _numbers(data, audit, aucs, reliance)
    section.cautions = _merge_cautions(found)
    return section


def _positive(run: LoadedRun) -> str:
    names = run.dataset.class_names or ["0", "1"]
    return str(names[1])


def _integrated_gradients(
    run: LoadedRun, attributions: dict[str, Attribution] | None
) -> Attribution | None:
    """Reuse the explanation section's Integrated Gradients, else compute them (tabular only)."""
    attr = (attributions or {}).get("integrated_gradients")
    if attr is not None or run.dataset.kind != "tabular":
        return attr
    ctx = ExplainContext.of(run.record.id, run.dataset, run.built)
    rows = tuple(range(min(ATTRIBUTION_ROWS, len(run.dataset.test))))
    try:
        return api.explain_cached(ctx, ExplainRequest("integrated_gradients", rows))
    except PlaygroundError:
        return None


def _add_data_audit(section: Section, data: DataAudit) -> None:
    a = data.attribute
    groups = data.groups.rename_axis("group").reset_index()
    section.tables.append(Table(f"{a}: groups in the data", groups, _small_note(data.min_group)))
    if data.missing.shape[1] and (data.missing.to_numpy() > 0).any():
        missing = data.missing.rename_axis("group").reset_index()
        section.tables.append(Table(f"{a}: share of missing values", missing, data.missing_note))
    if len(data.proxies):
        section.tables.append(
            Table(
                f"{a}: possible proxies",
                data.proxies.head(PROXIES_SHOWN),
                "Association of each feature column with the groups (0 = none, 1 = the feature "
                "tells the group); flagged above 0.3. Top "
                f"{min(PROXIES_SHOWN, len(data.proxies))} of {len(data.proxies)}.",
            )
        )
        section.charts.append(Chart(f"{a}: possible proxies", charts.proxies_chart(data.proxies)))
    section.charts.append(Chart(f"{a}: group sizes and base rates", charts.base_rates_chart(data)))


def _small_note(min_group: int) -> str:
    return f"Groups with fewer than {min_group} rows are marked small: shown, but unreliable."


def _add_model_audit(
    section: Section, audit: ModelAudit, y_true: np.ndarray, scores: np.ndarray, groups: pd.Series
) -> dict[str, float]:
    """Add the rates and disparity tables and the rates, ROC and sweep charts; returns each
    group's ROC AUC."""
    a = audit.attribute
    section.tables.append(
        Table(
            f"{a}: the model's rates by group ({SPLIT} split)",
            _rates_table(audit),
            _small_note(audit.min_group)
            + " TPR and FPR are blank for a group without actual positives or negatives.",
        )
    )
    section.tables.append(
        Table(
            f"{a}: disparities between groups",
            _disparity_table(audit),
            "Differences: 0 means equal; ratios: 1 means equal. A gap's bootstrap interval "
            "never reaches below 0, so read it as the gap's plausible size, not as a test.",
        )
    )
    figure = charts.intersection_chart(audit) if JOIN in a else charts.group_rates_chart(audit)
    section.charts.append(Chart(f"{a}: rates by group", figure))
    rocs = group_roc(y_true, scores, groups)
    section.charts.append(
        Chart(
            f"{a}: ROC curve by group",
            charts.group_roc_chart(rocs, charts.operating_points(audit)),
            "Each dot is the group's operating point at the report's threshold.",
        )
    )
    sweep = disparity_sweep(threshold_sweep(y_true, scores, groups))
    section.charts.append(
        Chart(
            f"{a}: disparities vs threshold",
            charts.disparity_sweep_chart(sweep, audit.threshold),
        )
    )
    return {g: r.auc for g, r in rocs.items()}


def _interval(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"{low:.3f} to {high:.3f}"


def _rates_table(audit: ModelAudit) -> pd.DataFrame:
    """One row per group, then "everyone": count, rates, and each interval as "low to high"."""
    g = audit.by_group
    rows = []
    for group, r in g.iterrows():
        row: dict[str, Any] = {
            "group": str(group),
            "count": int(r["count"]),
            "small": "small" if r["small"] else "",
        }
        for rate in ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "precision"):
            row[rate] = float(r[rate])
            if rate in ("selection_rate", "tpr", "fpr") and f"{rate}_ci_low" in g.columns:
                row[f"{rate} {audit.ci_level:.0%} CI"] = _interval(
                    r[f"{rate}_ci_low"], r[f"{rate}_ci_high"]
                )
        rows.append(row)
    everyone = {"group": "everyone", "count": int(g["count"].sum()), "small": ""}
    everyone.update({k: v for k, v in audit.overall.items() if k != "count"})
    return pd.DataFrame([*rows, everyone]).reindex(columns=list(rows[0]))


def _disparity_table(audit: ModelAudit) -> pd.DataFrame:
    rows = []
    for name in DISPARITIES:
        low, high = audit.disparity_ci.get(name, (np.nan, np.nan))
        row = {
            "disparity": charts.DISPARITY_TITLES[name],
            "value": audit.disparities[name],
            "interval": _interval(low, high),
        }
        if audit.disparities_large_groups:
            row["large groups only"] = audit.disparities_large_groups[name]
        rows.append(row)
    return pd.DataFrame(rows)


def _add_reliance(
    section: Section,
    run: LoadedRun,
    ig: Attribution | None,
    data: DataAudit,
    groups: pd.Series,
) -> pd.DataFrame | None:
    if ig is None or ig.layer_map:
        return None
    a = data.attribute
    explained = groups.iloc[list(ig.sample_indices)]
    table = attribution_by_group(ig, explained, run.dataset.feature_groups or None)
    counts = ", ".join(f"'{g}' {n}" for g, n in table.attrs["group_counts"].items())
    section.tables.append(
        Table(
            f"{a}: what the model leans on, by group",
            table.head(PROXIES_SHOWN),
            f"Mean |Integrated Gradients attribution| (logit units) over {ig.n} explained "
            f"{SPLIT} rows ({counts}).",
        )
    )
    section.charts.append(
        Chart(f"{a}: attribution by group", charts.attribution_by_group_chart(table))
    )
    # An intersection repeats its parts' sentences about their own columns: say them once.
    sentences = reliance_summary(table, a, data.proxies)
    section.paragraphs += [s for s in sentences if s not in section.paragraphs]
    return table


def _numbers(
    data: DataAudit, audit: ModelAudit, aucs: dict[str, float], reliance: pd.DataFrame | None
) -> dict:
    """Machine-readable results for the JSON report."""
    by_group = audit.by_group.rename_axis("group").reset_index()
    return {
        "disparities": audit.disparities,
        "disparity_intervals": {k: list(v) for k, v in audit.disparity_ci.items()},
        "disparities_large_groups": audit.disparities_large_groups,
        "overall": audit.overall,
        "by_group": by_group.to_dict(orient="records"),
        "small_groups": audit.small_groups,
        "roc_auc": aucs,
        "data_groups": data.groups.rename_axis("group").reset_index().to_dict(orient="records"),
        "proxies": data.proxies.to_dict(orient="records"),
        "attribute_features": data.attribute_features,
        "attribution_by_group": None if reliance is None else reliance.to_dict(orient="records"),
    }


def _merge_cautions(found: list[tuple[str, str]]) -> list[str]:
    """Cautions of every attribute, de-duplicated: a text that every attribute shares (the
    standing ones) is said once; others are prefixed with their attribute."""
    attributes_by_text: dict[str, list[str]] = {}
    for attribute, text in found:
        attributes_by_text.setdefault(text, []).append(attribute)
    out = []
    for text, attrs in attributes_by_text.items():
        out.append(text if len(set(attrs)) > 1 else f"By {attrs[0]}: {text}")
    return out


def mitigation_attributes(store: RunStore, run_id: str, default: str) -> list[str]:
    """The attributes the run's variants were made for (oldest first), else `default`."""
    record = store.get_run(run_id)
    parent = record.parent or run_id
    made = [v.lineage.get("attribute") for v in store.variants(parent)]
    return list(dict.fromkeys(a for a in made if a)) or [default]


def mitigation_section(
    store: RunStore, run_id: str, attribute: str, threshold: float = 0.5
) -> Section:
    """The run and its mitigation variants side by side (test accuracy and disparities by
    `attribute`), with the accuracy-vs-disparity chart; a variant run is compared within
    its parent's family."""
    section = Section("Mitigation comparison")
    record = store.get_run(run_id)
    parent = record.parent or run_id
    if parent != run_id:
        variant = VARIANTS.get(record.lineage.get("variant", ""), "a mitigation variant")
        section.paragraphs.append(
            f"This run is a variant of run {parent} ({variant}); the comparison covers the "
            "original and all its variants."
        )
    if not store.variants(parent):
        section.paragraphs.append(NO_VARIANTS)
        section.data["comparisons"] = {}
        return section
    comparison = compare_variants(store, parent, attribute, threshold)
    table = comparison.table
    shown = table.rename(columns={**charts.DISPARITY_TITLES, "selection_rate": "selection rate"})
    section.tables.append(
        Table(
            f"Variants compared by {attribute} ({SPLIT} split, threshold {threshold:.2f})",
            shown,
            "A post-processed (ThresholdOptimizer) variant decides with its own per-group "
            "thresholds, not the threshold above. Lower differences and higher ratios are "
            "more equal; fairness usually costs some accuracy.",
        )
    )
    section.charts.append(
        Chart(f"Accuracy vs demographic parity by {attribute}", charts.tradeoff_chart(table))
    )
    section.cautions += comparison.notes
    section.data.setdefault("comparisons", {})[attribute] = {
        "table": table.to_dict(orient="records"),
        "notes": comparison.notes,
    }
    return section
