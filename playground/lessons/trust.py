"""Lessons on trusting a model: bias learned from biased labels and its mitigation; what
attributions reveal about the feature that decides, and about a shortcut."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from playground.charts.lessons import variant_bars
from playground.data import load_dataset
from playground.explain.api import explain
from playground.explain.base import ExplainRequest
from playground.explain.context import ExplainContext
from playground.explain.summary import global_importance
from playground.fairness.runs import audit_run
from playground.lessons.base import (
    Lesson,
    LessonResults,
    TryNext,
    Variant,
    pct,
    register_lesson,
)
from playground.lessons.common import supervised
from playground.runner import predict_logits

# -- 15. Bias and a mitigation ---------------------------------------------------------------
HIRING_MLP = "linear:32 relu linear"
HIRING_CONFIG = {"epochs": 10, "lr": 0.01, "batch_size": 64, "seed": 0}
BIAS_VARIANTS = ("trained as is", "reweighed by gender")


def _bias_measure(results: LessonResults) -> dict[str, float]:
    out = {}
    for key, name in zip(("base", "fair"), BIAS_VARIANTS, strict=True):
        audit = audit_run(results.loaded(name), "gender", n_boot=0)
        rates = audit.by_group["selection_rate"]
        out[f"{key}_female"] = float(rates["female"])
        out[f"{key}_male"] = float(rates["male"])
        out[f"{key}_gap"] = float(audit.disparities["demographic_parity_difference"])
        out[f"{key}_acc"] = results[name].final["test_acc"]
    return out


def _bias_say(m: dict[str, float]) -> str:
    change = m["fair_acc"] - m["base_acc"]
    cost = (
        f"accuracy against the biased labels fell from {100 * m['base_acc']:.1f}% to "
        f"{100 * m['fair_acc']:.1f}%"
        if change < 0
        else f"accuracy against the biased labels did not fall ({100 * m['base_acc']:.1f}% "
        f"before, {100 * m['fair_acc']:.1f}% after), but fewer men are hired"
    )
    return (
        f"Trained on the biased labels, the model hires {pct(m['base_female'])} of women and "
        f"{pct(m['base_male'])} of men in the test set (a gap of {100 * m['base_gap']:.1f} "
        f"points). Reweighed, it hires {pct(m['fair_female'])} of women and "
        f"{pct(m['fair_male'])} of men (gap {100 * m['fair_gap']:.1f} points). The cost you "
        f"see: {cost}."
    )


def _bias_figures(results: LessonResults) -> list[go.Figure]:
    m = _bias_measure(results)
    fig = go.Figure()
    for key, name, colour in (("female", "women", "#f59322"), ("male", "men", "#0877bd")):
        values = [m[f"base_{key}"], m[f"fair_{key}"]]
        fig.add_trace(
            go.Bar(
                x=list(BIAS_VARIANTS),
                y=values,
                name=name,
                marker_color=colour,
                text=[f"{100 * v:.0f}%" for v in values],
                textposition="outside",
            )
        )
    fig.update_layout(
        template="plotly_white",
        title="Share of test applicants hired, by gender",
        yaxis={"tickformat": ".0%", "range": [0, 1]},
        barmode="group",
        margin={"t": 50},
    )
    acc = {n: results[n].final["test_acc"] for n in BIAS_VARIANTS}
    return [fig, variant_bars(acc, "Test accuracy (against the biased labels)", "accuracy", True)]


register_lesson(
    Lesson(
        id="bias",
        title="A model trained on biased data is biased",
        question="If past hiring decisions were unfair to women, will a model learn the unfairness?",
        explanation=(
            "The hiring data is made up, with a known flaw: women's hiring scores were lowered "
            "before the decisions were made. A model learns to copy the decisions, flaw "
            "included. Reweighing is one fix: it gives each training row a weight so that, in "
            "the weighted data, being hired no longer depends on gender. The price shows as "
            "accuracy: measured against the biased labels, a fairer model agrees with them less."
        ),
        variants=(
            Variant(BIAS_VARIANTS[0], supervised("hiring", {}, HIRING_MLP, **HIRING_CONFIG)),
            Variant(
                BIAS_VARIANTS[1],
                supervised("hiring", {}, HIRING_MLP, reweigh="gender", **HIRING_CONFIG),
            ),
        ),
        measure=_bias_measure,
        say=_bias_say,
        compare=_bias_figures,
        try_next=(
            TryNext(BIAS_VARIANTS[0], "train", "Train it, then audit it on the Fairness page."),
        ),
        topic="Trust",
        seconds=3.0,
    )
)

# -- 16. Attributions and a shortcut -----------------------------------------------------------
SHORTCUT_MLP = "linear:16 relu linear"
SHORTCUT_CONFIG = {"epochs": 20, "lr": 0.01, "seed": 0}
CLEAN, WITH_SHORTCUT = "clean data", "data with a shortcut"
EXPLAINED_ROWS = 100


def _importance(results: LessonResults, name: str) -> dict[str, float]:
    """Each feature's share of the mean |Integrated Gradients| over the first test rows."""
    run = results.loaded(name)
    ctx = ExplainContext.of(run.record.id, run.dataset, run.built)
    rows = tuple(range(min(EXPLAINED_ROWS, len(run.dataset.test))))
    attr = explain(ctx, ExplainRequest(method="integrated_gradients", sample_indices=rows))
    table = global_importance(attr)
    total = float(table["importance"].sum()) or 1.0
    return {
        str(f): float(v) / total for f, v in zip(table["feature"], table["importance"], strict=True)
    }


def _accuracy_without_shortcut(results: LessonResults, name: str) -> float:
    """Test accuracy on rows where the shortcut is a coin flip (same signal rule)."""
    run = results.loaded(name)
    clean = load_dataset("shortcut", **{**run.dataset.params, "shortcut": 0.0})
    pred = predict_logits(run.model, clean.test.x).argmax(-1)
    return float((pred == clean.test.y).to(torch.float32).mean())


def _shortcut_measure(results: LessonResults) -> dict[str, float]:
    out = {}
    for key, name in (("clean", CLEAN), ("short", WITH_SHORTCUT)):
        shares = _importance(results, name)
        out[f"{key}_signal"] = shares["signal"]
        out[f"{key}_shortcut"] = shares["shortcut"]
        out[f"{key}_acc"] = results[name].final["test_acc"]
        out[f"{key}_acc_no_shortcut"] = _accuracy_without_shortcut(results, name)
    return out


def _shortcut_say(m: dict[str, float]) -> str:
    return (
        f"On clean data, Integrated Gradients gives `signal` {pct(m['clean_signal'])} of the "
        f"attribution and `shortcut` {pct(m['clean_shortcut'])}. When `shortcut` copies the "
        f"label in 90% of rows, it gets {pct(m['short_shortcut'])} (signal "
        f"{pct(m['short_signal'])}), and that model's accuracy falls from "
        f"{100 * m['short_acc']:.1f}% to {100 * m['short_acc_no_shortcut']:.1f}% on data "
        f"where the shortcut no longer holds (the clean model: {100 * m['clean_acc_no_shortcut']:.1f}%)."
    )


def _shortcut_figures(results: LessonResults) -> list[go.Figure]:
    figures = []
    for name in (CLEAN, WITH_SHORTCUT):
        shares = _importance(results, name)
        figures.append(
            variant_bars(shares, f"{name}: share of the attribution per feature", "share", True)
        )
    return figures


register_lesson(
    Lesson(
        id="shortcut",
        title="Attributions find what decides, and a shortcut",
        question="Which inputs does a model really use, and can it cheat?",
        explanation=(
            "An attribution method scores how much each input pushed one prediction. "
            "Integrated Gradients adds up the model's gradient along a straight path from a "
            "blank input (all zeros) to the real one. Here `signal` decides the label. When a "
            "second column, `shortcut`, copies the label in most training rows, the model "
            "leans on it too, and the attributions show it before the model fails on data "
            "where the shortcut does not hold."
        ),
        variants=(
            Variant(
                CLEAN, supervised("shortcut", {"shortcut": 0.0}, SHORTCUT_MLP, **SHORTCUT_CONFIG)
            ),
            Variant(
                WITH_SHORTCUT,
                supervised("shortcut", {"shortcut": 0.9}, SHORTCUT_MLP, **SHORTCUT_CONFIG),
                note="shortcut copies the label in 90% of rows",
            ),
        ),
        measure=_shortcut_measure,
        say=_shortcut_say,
        compare=_shortcut_figures,
        try_next=(
            TryNext(WITH_SHORTCUT, "train", "Train it, then compare methods on the Explain page."),
        ),
        topic="Trust",
        seconds=1.0,
    )
)
