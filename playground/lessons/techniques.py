"""Lessons on training techniques for little or lopsided data: transfer learning,
augmentation, and class weights or resampling for a rare class."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from playground.charts.lessons import curves, variant_bars
from playground.charts.training import per_class_recall_figure
from playground.lessons.base import (
    Lesson,
    LessonResults,
    TryNext,
    Variant,
    pct,
    register_lesson,
)
from playground.lessons.common import mean, supervised
from playground.runs import RunRequest, StartFrom

SEEDS = (0, 1, 2)  # repeated setups: with a few images per class one seed says little


def _group_means(results: LessonResults, groups: tuple[str, ...]) -> dict[str, float]:
    return {g: mean([r.final["test_acc"] for r in results.group(g)]) for g in groups}


def _group_spread(results: LessonResults, groups: tuple[str, ...]) -> dict[str, float]:
    return {g: float(np.std([r.final["test_acc"] for r in results.group(g)])) for g in groups}


def _per_seed(results: LessonResults, groups: tuple[str, ...]) -> list[tuple[float, float]]:
    """(first group's, second group's) test accuracy for each seed."""
    a, b = (results.group(g) for g in groups)
    return [(x.final["test_acc"], y.final["test_acc"]) for x, y in zip(a, b, strict=True)]


# -- 12. Transfer learning ------------------------------------------------------------------
TL_MLP = "flatten linear:64 relu linear:64 relu linear"
PRETRAIN = "pretrained on digits 0-4"
TL_GROUPS = ("fine-tuned", "from scratch")
# Two training images per digit (the validation and test splits stay whole).
FEW_DIGITS = {"per_class": 2}
TL_CONFIG = {"epochs": 30, "lr": 0.003, "batch_size": 16}


def _fine_tune(seed: int, start: bool) -> Variant:
    config = {**TL_CONFIG, "seed": seed}

    def request(run_ids: Mapping[str, str]) -> RunRequest:
        req = supervised("digits", FEW_DIGITS, TL_MLP, **config)
        if start:
            req = req.model_copy(update={"start_from": StartFrom(run_id=run_ids[PRETRAIN])})
        return req

    group = TL_GROUPS[0] if start else TL_GROUPS[1]
    return Variant(
        f"{group}, seed {seed}",
        request,
        group=group,
        needs=(PRETRAIN,) if start else (),
    )


def _tl_measure(results: LessonResults) -> dict[str, float]:
    means = _group_means(results, TL_GROUPS)
    seeds = _per_seed(results, TL_GROUPS)
    return {
        "pretrain_acc": results[PRETRAIN].final["test_acc"],
        "tuned_acc": means[TL_GROUPS[0]],
        "scratch_acc": means[TL_GROUPS[1]],
        "min_gain": min(t - s for t, s in seeds),
        "seeds_won": float(sum(t > s for t, s in seeds)),
    }


def _tl_say(m: dict[str, float]) -> str:
    return (
        f"With 2 training images per digit, starting from a network trained on digits 0-4 "
        f"({pct(m['pretrain_acc'])} on those) gives {100 * m['tuned_acc']:.1f}% test accuracy "
        f"on all ten digits, against {100 * m['scratch_acc']:.1f}% from scratch (mean of "
        f"{len(SEEDS)} seeds; it won with {m['seeds_won']:.0f} of {len(SEEDS)})."
    )


def _tl_figures(results: LessonResults) -> list[go.Figure]:
    means, spread = _group_means(results, TL_GROUPS), _group_spread(results, TL_GROUPS)
    first = [f"{g}, seed {SEEDS[0]}" for g in TL_GROUPS]
    return [
        variant_bars(
            means, f"Test accuracy, mean of {len(SEEDS)} seeds", "accuracy", True, errors=spread
        ),
        curves(results.histories(first), "val_acc", f"Validation accuracy (seed {SEEDS[0]})"),
    ]


register_lesson(
    Lesson(
        id="transfer",
        title="Transfer learning beats training from scratch",
        question="With two images per class, does a network that already knows some digits help?",
        explanation=(
            "A network trained on one task has learned features (strokes, loops) that other "
            "tasks share. Transfer learning starts a new run from those weights instead of "
            "random ones, with a new last layer for the new classes, then fine-tunes: trains "
            "on the little new data. Here the first network saw only digits 0-4; the new task "
            "is all ten digits with just two training images of each."
        ),
        variants=(
            Variant(
                PRETRAIN,
                supervised(
                    "digits", {"keep_classes": [0, 1, 2, 3, 4]}, TL_MLP, epochs=20, lr=0.003
                ),
            ),
            *(_fine_tune(seed, start) for seed in SEEDS for start in (True, False)),
        ),
        measure=_tl_measure,
        say=_tl_say,
        compare=_tl_figures,
        try_next=(
            TryNext(
                f"{TL_GROUPS[0]}, seed 0",
                "train",
                "On the Train page, start from the pretrained run and freeze its first layer.",
            ),
        ),
        topic="Little or lopsided data",
        seconds=3.0,
    )
)

# -- 13. Augmentation ----------------------------------------------------------------------
AUG_CNN = "conv2d:16:3:padding=1 relu maxpool2d flatten linear:64 relu linear"
TEN_DIGITS = {"per_class": 10}
AUG_GROUPS = ("augmented", "plain")
AUGMENT = {"shift": 1.0, "rotate": 5.0}


def _augment_variant(seed: int, augment: bool) -> Variant:
    config = {
        "epochs": 120,
        "lr": 0.005,
        "schedule": "cosine",
        "seed": seed,
        "augment": AUGMENT if augment else {},
        "stop_when_not_learning": False,
    }
    group = AUG_GROUPS[0] if augment else AUG_GROUPS[1]
    return Variant(
        f"{group}, seed {seed}", supervised("digits", TEN_DIGITS, AUG_CNN, **config), group=group
    )


def _aug_measure(results: LessonResults) -> dict[str, float]:
    means = _group_means(results, AUG_GROUPS)
    seeds = _per_seed(results, AUG_GROUPS)
    return {
        "augmented_acc": means[AUG_GROUPS[0]],
        "plain_acc": means[AUG_GROUPS[1]],
        "min_gain": min(a - p for a, p in seeds),
        "seeds_won": float(sum(a > p for a, p in seeds)),
        "plain_train_acc": mean([r.final["train_acc"] for r in results.group(AUG_GROUPS[1])]),
    }


register_lesson(
    Lesson(
        id="augmentation",
        title="Augmentation helps a small image set",
        question="With ten images per digit, does showing them shifted and turned help?",
        explanation=(
            "Augmentation changes each training image a little every time the network sees "
            "it: here shifted by up to one pixel and turned by up to 5 degrees. A digit moved "
            "by one pixel is still the same digit, so the network gets many slightly different "
            "examples for free and cannot simply memorise the 100 images it has."
        ),
        variants=tuple(_augment_variant(seed, a) for seed in SEEDS for a in (True, False)),
        measure=_aug_measure,
        say=lambda m: (
            f"Ten training images per digit, a small CNN: plain training reaches "
            f"{100 * m['plain_acc']:.1f}% test accuracy (with {pct(m['plain_train_acc'])} on "
            f"its own training images), augmented training {100 * m['augmented_acc']:.1f}% "
            f"(mean of {len(SEEDS)} seeds; augmentation won with {m['seeds_won']:.0f} of "
            f"{len(SEEDS)})."
        ),
        compare=lambda r: [
            variant_bars(
                _group_means(r, AUG_GROUPS),
                f"Test accuracy, mean of {len(SEEDS)} seeds",
                "accuracy",
                True,
                errors=_group_spread(r, AUG_GROUPS),
            ),
            curves(
                r.histories([f"{g}, seed {SEEDS[0]}" for g in AUG_GROUPS]),
                "val_loss",
                f"Validation loss (seed {SEEDS[0]})",
            ),
        ],
        try_next=(
            TryNext(f"{AUG_GROUPS[0]}, seed 0", "train", "Try stronger rotations, or cutout."),
        ),
        topic="Little or lopsided data",
        seconds=6.0,
    )
)

# -- 14. A rare class ------------------------------------------------------------------------
RARE_CLASS = 3
RARE = {"rare_class": RARE_CLASS, "rare_ratio": 0.05}
RARE_MLP = "flatten linear:32 relu linear"
RARE_CONFIG = {"epochs": 3, "lr": 0.01, "seed": 0}
RARE_VARIANTS = ("plain", "oversampling", "class weights")


def _rare_measure(results: LessonResults) -> dict[str, float]:
    out = {}
    for key, name in zip(("plain", "over", "weights"), RARE_VARIANTS, strict=True):
        out[f"{key}_recall"] = results[name].final[f"test_recall_{RARE_CLASS}"]
        out[f"{key}_acc"] = results[name].final["test_acc"]
    return out


def _rare_say(m: dict[str, float]) -> str:
    return (
        f"With 1 three for every 20 of each other digit, plain training finds "
        f"{pct(m['plain_recall'])} of the test threes (overall accuracy {pct(m['plain_acc'])}); "
        f"oversampling finds {pct(m['over_recall'])} ({pct(m['over_acc'])}), class weights "
        f"{pct(m['weights_recall'])} ({pct(m['weights_acc'])})."
    )


register_lesson(
    Lesson(
        id="rare_class",
        title="Class weights or resampling lift a rare class",
        question="When one class is rare, how do you stop the network from ignoring it?",
        explanation=(
            "Here the digit 3 is rare: the training set keeps one three for every twenty of "
            "each other digit. Training minimises the average loss, and the threes barely "
            "count in it, so the network learns to say something else. Recall, the share of "
            "real threes the network finds, shows it. Oversampling shows the rare rows more "
            "often in each epoch; class weights make each of its mistakes cost more."
        ),
        variants=(
            Variant(RARE_VARIANTS[0], supervised("digits", RARE, RARE_MLP, **RARE_CONFIG)),
            Variant(
                RARE_VARIANTS[1],
                supervised("digits", RARE, RARE_MLP, sampler="oversample", **RARE_CONFIG),
            ),
            Variant(
                RARE_VARIANTS[2],
                supervised("digits", RARE, RARE_MLP, class_weighting=True, **RARE_CONFIG),
            ),
        ),
        measure=_rare_measure,
        say=_rare_say,
        compare=lambda r: [
            variant_bars(
                {n: r[n].final[f"test_recall_{RARE_CLASS}"] for n in RARE_VARIANTS},
                "Recall of the rare digit 3 on the test set",
                "share of threes found",
                percent=True,
            ),
            per_class_recall_figure(
                r[RARE_VARIANTS[0]].history, [str(i) for i in range(10)]
            ).update_layout(
                title="Plain training: each digit's validation recall", margin={"t": 50}
            ),
        ],
        try_next=(TryNext(RARE_VARIANTS[0], "train", "Try undersampling instead."),),
        topic="Little or lopsided data",
        seconds=1.0,
    )
)
