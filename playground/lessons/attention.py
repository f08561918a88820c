"""Lesson 9: a Transformer learns to attend to the one token that decides the answer."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from playground.charts.attention import attention_heatmaps, attention_received, share_bars
from playground.charts.lessons import curves
from playground.data.attention_task import deciding_positions
from playground.inspect.attention import AttentionMaps, attention_maps, share_on
from playground.lessons.base import (
    Lesson,
    LessonResults,
    TryNext,
    Variant,
    pct,
    register_lesson,
)
from playground.lessons.common import supervised

LETTERS = {"n_samples": 1000, "seq_len": 12, "n_noise": 10, "seed": 0}
# output='last': the answer is read from the last position, which never holds the letter, so
# whatever the model knows of the letter came through attention.
TRANSFORMER = "linear:16 transformer:2:last linear"
EARLY, TRAINED = "after 1 epoch", "after 10 epochs"
EPOCHS = {EARLY: 1, TRAINED: 10}
SHOWN_ROW = 0  # the test sequence whose maps the lesson draws


def _maps(results: LessonResults, variant: str) -> AttentionMaps:
    run = results.loaded(variant)
    return attention_maps(run.built, run.dataset, max_rows=len(run.dataset.test))


def _deciding(maps: AttentionMaps) -> np.ndarray:
    assert maps.tokens is not None  # one-hot tokens: the dataset is built that way
    return deciding_positions(maps.tokens, LETTERS["n_noise"])


def _measure(results: LessonResults) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, name in (("early", EARLY), ("trained", TRAINED)):
        maps = _maps(results, name)
        weights = maps.layers[0].weights
        out[f"{key}_share"] = float(share_on(weights, _deciding(maps), "last").mean())
        out[f"{key}_acc"] = results[name].final["test_acc"]
        out["uniform"] = 1.0 / weights.shape[-1]
    return out


def _say(m: dict[str, float]) -> str:
    return (
        f"After 10 epochs the Transformer names the letter in {pct(m['trained_acc'])} of test "
        f"sequences, and from the position it answers from it puts {pct(m['trained_share'])} "
        f"of its attention on the letter; an even spread would put {pct(m['uniform'])} there. "
        f"After 1 epoch it was still guessing ({pct(m['early_acc'])} right) and put "
        f"{pct(m['early_share'])} on the letter."
    )


def _figures(results: LessonResults) -> list[go.Figure]:
    m = _measure(results)
    figures = [
        share_bars(
            {EARLY: m["early_share"], TRAINED: m["trained_share"]},
            m["uniform"],
            "Attention on the letter, from the answering position (mean of test sequences)",
        )
    ]
    for name in (TRAINED, EARLY):
        maps = _maps(results, name)
        labels = maps.position_labels(SHOWN_ROW)
        layer = maps.layers[0]
        title = f"{name}: where each position looks, test sequence {SHOWN_ROW}"
        figures.append(attention_heatmaps(layer, labels, SHOWN_ROW, title))
        if name == TRAINED:
            decider = int(_deciding(maps)[SHOWN_ROW])
            # Alone: averaged by position over rows, a letter that moves would smear out.
            received = attention_received(layer, labels, SHOWN_ROW, decider, batch_mean=False)
            figures.append(received)
    figures.append(curves(results.histories(), "val_acc", "Validation accuracy"))
    return figures


register_lesson(
    Lesson(
        id="attention",
        title="A Transformer attends to the token that decides",
        question="Can we see where a Transformer looks when it answers?",
        explanation=(
            "Each sequence is 12 tokens: random digits and one letter, somewhere; the class is "
            "the letter. Attention lets every position look at every other: it scores each "
            "pair, and the scores of one position (the query) over all positions (the keys) "
            "are shares that add up to 100%. This model answers from its last position, which "
            "never holds the letter, so it can only be right if that position looks at the "
            "letter. The attention map shows those shares, one map per head (a head is one "
            "independent set of scores): a bright column is a token everyone looks at."
        ),
        variants=tuple(
            Variant(
                name,
                supervised(
                    "find_the_letter",
                    LETTERS,
                    TRANSFORMER,
                    epochs=epochs,
                    lr=0.01,
                    batch_size=32,
                    seed=0,
                ),
                note=f"{epochs} epoch{'s' if epochs > 1 else ''} of training",
            )
            for name, epochs in EPOCHS.items()
        ),
        measure=_measure,
        say=_say,
        compare=_figures,
        try_next=(
            TryNext(
                TRAINED, "build", "Set the Transformer's output to 'mean': where does it look now?"
            ),
            TryNext(TRAINED, "train", "Train for 3 epochs: when does attention find the letter?"),
        ),
        topic="Architectures",
        seconds=2.5,  # measured: both runs, timed_run on this machine
    )
)
