"""Lessons on how a network trains: hidden layers, vanishing gradients, the learning rate,
overfitting, batch normalisation, optimisers. Run times are one CPU core on the dev machine."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from playground.charts.lessons import curves, norms_by_depth, variant_bars
from playground.lessons.base import (
    Lesson,
    LessonResults,
    TryNext,
    Variant,
    pct,
    register_lesson,
)
from playground.lessons.common import boundary_figure, mean_grad_norms, supervised

# -- 1. XOR ------------------------------------------------------------------------------
XOR = {"n_samples": 400, "seed": 0}
XOR_CONFIG = {"epochs": 40, "lr": 0.03, "seed": 0}


def _xor_measure(results: LessonResults) -> dict[str, float]:
    return {
        "linear_acc": results["no hidden layer"].final["test_acc"],
        "hidden_acc": results["one hidden layer"].final["test_acc"],
    }


def _xor_figures(results: LessonResults) -> list[go.Figure]:
    m = _xor_measure(results)
    return [
        boundary_figure(results, "no hidden layer", f"No hidden layer: {pct(m['linear_acc'])}"),
        boundary_figure(results, "one hidden layer", f"One hidden layer: {pct(m['hidden_acc'])}"),
    ]


register_lesson(
    Lesson(
        id="xor",
        title="XOR needs a hidden layer",
        question="Can a network with no hidden layer separate the XOR pattern?",
        explanation=(
            "In XOR, a point's class is whether its two coordinates have the same sign, so the "
            "classes sit in opposite corners. A network with no hidden layer can only draw one "
            "straight line (a linear boundary) through the plane, and no straight line puts "
            "opposite corners together. A hidden layer (a row of units between input and "
            "output, each followed by a bend such as tanh) lets the network combine several "
            "lines into a curved boundary."
        ),
        variants=(
            Variant("no hidden layer", supervised("xor", XOR, "linear", **XOR_CONFIG)),
            Variant(
                "one hidden layer",
                supervised("xor", XOR, "linear:8 tanh linear", **XOR_CONFIG),
                note="8 tanh units",
            ),
        ),
        measure=_xor_measure,
        say=lambda m: (
            f"Without a hidden layer: {pct(m['linear_acc'])} test accuracy (a coin flip is "
            f"50%); with one hidden layer of 8 units: {pct(m['hidden_acc'])}."
        ),
        compare=_xor_figures,
        try_next=(
            TryNext("no hidden layer", "build", "Add a hidden layer yourself on the Build page."),
            TryNext("one hidden layer", "build", "How few hidden units still solve XOR?"),
        ),
        seconds=0.3,
    )
)

# -- 2. Vanishing gradients ----------------------------------------------------------------
DEPTH = 8
SPIRAL = {"seed": 0}
CIRCLE = {"seed": 0}
DEEP_CONFIG = {"epochs": 30, "lr": 0.01, "seed": 0}
DEEP = {
    "sigmoid": " ".join(["linear:32 sigmoid"] * DEPTH) + " linear",
    "ReLU": " ".join(["linear:32 relu"] * DEPTH) + " linear",
    "sigmoid + batch norm": " ".join(["linear:32 batchnorm1d sigmoid"] * DEPTH) + " linear",
    "sigmoid + residual": "linear:32 sigmoid "
    + " ".join(["residual[linear:32 sigmoid]"] * (DEPTH - 1))
    + " linear",
}


def _vanish_measure(results: LessonResults) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, name in (
        ("sigmoid", "deep sigmoid"),
        ("relu", "ReLU"),
        ("bn", "batch norm"),
        ("res", "residual"),
    ):
        norms = mean_grad_norms(results[name])
        out[f"{key}_first"], out[f"{key}_last"] = norms[0], norms[-1]
        out[f"{key}_ratio"] = norms[0] / norms[-1]
        out[f"{key}_acc"] = results[name].final["test_acc"]
    return out


def _vanish_say(m: dict[str, float]) -> str:
    def vs_last(key: str) -> str:
        r = m[f"{key}_ratio"]
        if 0.5 <= r <= 2:  # "1 times smaller" says nothing: say they match
            return f"about as large (x{r:.2f})"
        return f"{1 / r:,.0f} times smaller" if r < 1 else f"{r:.1f} times larger"

    return (
        f"In the deep sigmoid network the first layer's gradient is {vs_last('sigmoid')} than "
        f"the last layer's, and it learns almost nothing ({pct(m['sigmoid_acc'])} test "
        f"accuracy). With ReLU it is {vs_last('relu')} ({pct(m['relu_acc'])}), with batch "
        f"norm {vs_last('bn')} ({pct(m['bn_acc'])}), with residual connections "
        f"{vs_last('res')} ({pct(m['res_acc'])})."
    )


def _vanish_figures(results: LessonResults) -> list[go.Figure]:
    names = ("deep sigmoid", "ReLU", "batch norm", "residual")
    norms = {n: mean_grad_norms(results[n]) for n in names}
    accs = {n: results[n].final["test_acc"] for n in names}
    return [
        norms_by_depth(norms, "Gradient norm by layer (mean over training)"),
        variant_bars(accs, "Test accuracy after 30 epochs", "accuracy", percent=True),
    ]


register_lesson(
    Lesson(
        id="vanishing",
        title="Vanishing gradients in a deep sigmoid network",
        question="Why does a deep network of sigmoids not learn, and what fixes it?",
        explanation=(
            "Training moves each weight by its gradient: how much the loss changes when the "
            "weight changes. The gradient reaches early layers by passing backwards through "
            "every layer after them, and a sigmoid's slope is at most 1/4, so each sigmoid "
            "layer shrinks it. Through eight of them it all but vanishes: the first layers "
            "stop learning. A ReLU passes a slope of 1, batch normalisation keeps each layer's "
            "inputs where the sigmoid is steep, and a residual connection adds a path that "
            "skips the layer."
        ),
        variants=(
            Variant("deep sigmoid", supervised("circle", CIRCLE, DEEP["sigmoid"], **DEEP_CONFIG)),
            Variant("ReLU", supervised("circle", CIRCLE, DEEP["ReLU"], **DEEP_CONFIG)),
            Variant(
                "batch norm",
                supervised("circle", CIRCLE, DEEP["sigmoid + batch norm"], **DEEP_CONFIG),
            ),
            Variant(
                "residual", supervised("circle", CIRCLE, DEEP["sigmoid + residual"], **DEEP_CONFIG)
            ),
        ),
        measure=_vanish_measure,
        say=_vanish_say,
        compare=_vanish_figures,
        try_next=(
            TryNext("deep sigmoid", "build", "Swap a few sigmoids for ReLU and train again."),
            TryNext("deep sigmoid", "train", "Watch the gradient-norm chart while it trains."),
        ),
        seconds=3.0,
    )
)

# -- 3. Learning rate ---------------------------------------------------------------------
MOONS = {"seed": 0}
LR_MLP = "linear:32 tanh linear:32 tanh linear"
LR_CONFIG = {"epochs": 30, "optimizer": "sgd", "momentum": 0.9, "seed": 0}


def _lr_measure(results: LessonResults) -> dict[str, float]:
    high = results["learning rate 3"]
    return {
        "high_first": high.history[0]["train_loss"],
        "high_last": high.last("train_loss"),
        "high_epochs": float(len(high.history)),
        "high_diverged": float(high.record.status == "diverged"),
        "low_loss": results["learning rate 0.1"].last("train_loss"),
        "clip_loss": results["learning rate 3, clipped"].last("train_loss"),
        "chance_loss": math.log(2),
    }


def _lr_say(m: dict[str, float]) -> str:
    ended = (
        f"was stopped as diverged after {m['high_epochs']:.0f} epochs"
        if m["high_diverged"]
        else f"ended at {m['high_last']:.3g}"
    )
    return (
        f"At learning rate 3 the training loss went from {m['high_first']:.3g} to "
        f"{m['high_last']:.3g} (guessing scores {m['chance_loss']:.2f}) and the run {ended}. "
        f"At rate 0.1 it fell to {m['low_loss']:.3f}; at rate 3 with the gradient clipped to "
        f"norm 0.1 it fell to {m['clip_loss']:.3f}."
    )


register_lesson(
    Lesson(
        id="learning_rate",
        title="Too high a learning rate diverges",
        question="What happens when the learning rate is too high, and how do you fix it?",
        explanation=(
            "Each training step moves the weights against the gradient, by the gradient times "
            "the learning rate. Too large a step jumps past the valley the loss sits in, lands "
            "higher on the other side, where the gradient is steeper, and the next jump is "
            "bigger still: the loss grows instead of shrinking (it diverges). A smaller rate "
            "takes smaller steps; gradient clipping caps the length of each step's gradient."
        ),
        variants=(
            Variant("learning rate 3", supervised("moons", MOONS, LR_MLP, lr=3.0, **LR_CONFIG)),
            Variant("learning rate 0.1", supervised("moons", MOONS, LR_MLP, lr=0.1, **LR_CONFIG)),
            Variant(
                "learning rate 3, clipped",
                supervised("moons", MOONS, LR_MLP, lr=3.0, grad_clip=0.1, **LR_CONFIG),
                note="gradient norm clipped at 0.1",
            ),
        ),
        measure=_lr_measure,
        say=_lr_say,
        compare=lambda r: [curves(r.histories(), "train_loss", "Training loss", log=True)],
        try_next=(
            TryNext("learning rate 3", "train", "Find the largest rate that still converges."),
        ),
        seconds=0.5,
    )
)

# -- 4. Overfitting ---------------------------------------------------------------------------
# 15 training points per class (per_class keeps the validation and test splits whole).
FEW_MOONS = {"n_samples": 600, "noise": 0.3, "per_class": 15, "seed": 0}
BIG = "linear:128 relu linear:128 relu linear"
FIT_CONFIG = {"epochs": 300, "lr": 0.01, "batch_size": 32, "seed": 0}
# Dropout on 30 points of moons did not help on any setup tried (its validation loss ended
# higher on seed 0), so its part of the lesson is where it does: a wide MLP on 30 digits per
# class, where it lowered the final validation loss on every seed tried (0-2: 0.175 -> 0.150,
# 0.294 -> 0.268, 0.329 -> 0.288).
FEW_DIGITS = {"per_class": 30, "seed": 0}
WIDE = "flatten linear:512 relu linear:512 relu linear"
WIDE_DROPOUT = "flatten linear:512 relu dropout:0.5 linear:512 relu dropout:0.5 linear"
DIGITS_FIT_CONFIG = {"epochs": 150, "lr": 0.001, "batch_size": 32, "seed": 0}
FIT_VARIANTS = (
    "no regularisation",
    "L2 0.03",
    "early stopping",
    "digits, no dropout",
    "digits, dropout 0.5",
)
FIT_KEYS = ("plain", "l2", "early", "digits_plain", "dropout")


def _fit_measure(results: LessonResults) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, name in zip(FIT_KEYS, FIT_VARIANTS, strict=True):
        r = results[name]
        out[f"{key}_train_loss"] = r.final["train_loss"]
        out[f"{key}_val_loss"] = r.final["val_loss"]
        out[f"{key}_epochs"] = float(len(r.history))
    out["plain_best_val_loss"] = min(row["val_loss"] for row in results[FIT_VARIANTS[0]].history)
    return out


def _fit_say(m: dict[str, float]) -> str:
    return (
        f"With 30 training points and no regularisation the training loss fell to "
        f"{m['plain_train_loss']:.3f} while the validation loss rose from its best "
        f"{m['plain_best_val_loss']:.2f} to {m['plain_val_loss']:.2f}. L2 ended at "
        f"{m['l2_val_loss']:.2f}, early stopping at {m['early_val_loss']:.2f} (it stopped "
        f"after {m['early_epochs']:.0f} epochs). On 30 digits per class, dropout lowered a "
        f"wide network's validation loss from {m['digits_plain_val_loss']:.3f} to "
        f"{m['dropout_val_loss']:.3f}."
    )


register_lesson(
    Lesson(
        id="overfitting",
        title="Overfitting on little data",
        question="Why does a big network do worse on new data the longer it trains on little data?",
        explanation=(
            "With 30 training points, a network with thousands of weights can memorise every "
            "point, noise included: its training loss falls to zero while its loss on "
            "validation data it never trains on climbs. That gap is overfitting. L2 (weight "
            "decay) pulls weights towards zero so the boundary stays smooth; early stopping "
            "ends training when the validation loss stops improving; dropout switches random "
            "units off during training so no unit can memorise alone. Dropout needs enough "
            "units and examples to average over: it is shown on digits, where it helps."
        ),
        variants=(
            Variant(FIT_VARIANTS[0], supervised("moons", FEW_MOONS, BIG, **FIT_CONFIG)),
            Variant(FIT_VARIANTS[1], supervised("moons", FEW_MOONS, BIG, l2=0.03, **FIT_CONFIG)),
            Variant(
                FIT_VARIANTS[2],
                supervised("moons", FEW_MOONS, BIG, early_stopping_patience=10, **FIT_CONFIG),
                note="patience 10 epochs",
            ),
            Variant(FIT_VARIANTS[3], supervised("digits", FEW_DIGITS, WIDE, **DIGITS_FIT_CONFIG)),
            Variant(
                FIT_VARIANTS[4],
                supervised("digits", FEW_DIGITS, WIDE_DROPOUT, **DIGITS_FIT_CONFIG),
            ),
        ),
        measure=_fit_measure,
        say=_fit_say,
        compare=lambda r: [
            curves(
                {k: v for k, v in r.histories().items() if not k.startswith("digits")},
                "val_loss",
                "Validation loss (moons, 30 points)",
                log=True,
            ),
            curves(
                {k: v for k, v in r.histories().items() if k.startswith("digits")},
                "val_loss",
                "Validation loss (digits, 30 per class)",
                log=True,
            ),
            boundary_figure(r, FIT_VARIANTS[0], "No regularisation: the boundary"),
            boundary_figure(r, FIT_VARIANTS[1], "L2 0.03: the boundary"),
        ],
        try_next=(
            TryNext(FIT_VARIANTS[0], "train", "Try a larger L2 or fewer epochs."),
            TryNext(FIT_VARIANTS[0], "build", "Try a much smaller network instead."),
            TryNext(FIT_VARIANTS[4], "build", "Try dropout 0.2 or 0.8 and compare."),
        ),
        seconds=12.0,
    )
)

# -- 5. Batch normalisation ------------------------------------------------------------------
PLAIN_DEEP = " ".join(["linear:32 relu"] * 4) + " linear"
BN_DEEP = " ".join(["linear:32 batchnorm1d relu"] * 4) + " linear"
BN_CONFIG = {"epochs": 40, "optimizer": "sgd", "momentum": 0.0, "lr": 0.05, "seed": 0}
BN_EPOCH = 10  # the epoch the verdict compares at


def _first_epoch(history: list[dict], key: str, threshold: float) -> float:
    return float(next((r["epoch"] for r in history if r.get(key, 0) >= threshold), math.nan))


def _bn_measure(results: LessonResults) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, name in (("plain", "without batch norm"), ("bn", "with batch norm")):
        h = results[name].history
        out[f"{key}_loss_at"] = h[BN_EPOCH - 1]["train_loss"]
        out[f"{key}_epoch_90"] = _first_epoch(h, "val_acc", 0.9)
        out[f"{key}_acc"] = results[name].final["val_acc"]
    return out


def _bn_say(m: dict[str, float]) -> str:
    def reached(key: str) -> str:
        e = m[f"{key}_epoch_90"]
        return (
            "never reached 90% validation accuracy"
            if np.isnan(e)
            else f"reached 90% at epoch {e:.0f}"
        )

    return (
        f"After {BN_EPOCH} epochs the training loss is {m['plain_loss_at']:.2f} without batch "
        f"norm (guessing scores 0.69) and {m['bn_loss_at']:.2f} with it. Without it the network "
        f"{reached('plain')} in 40 epochs; with it, it {reached('bn')}."
    )


register_lesson(
    Lesson(
        id="batch_norm",
        title="Batch normalisation speeds up training",
        question="Does batch normalisation make the same network learn faster?",
        explanation=(
            "Batch normalisation rescales each layer's outputs, over every batch, to mean 0 and "
            "standard deviation 1 (then lets the network learn its own scale). Every layer then "
            "sees inputs of a steady size however the layers before it change, so one learning "
            "rate suits them all and plain gradient descent (SGD) makes progress from the first "
            "epochs."
        ),
        variants=(
            Variant("without batch norm", supervised("spiral", SPIRAL, PLAIN_DEEP, **BN_CONFIG)),
            Variant("with batch norm", supervised("spiral", SPIRAL, BN_DEEP, **BN_CONFIG)),
        ),
        measure=_bn_measure,
        say=_bn_say,
        compare=lambda r: [
            curves(r.histories(), "train_loss", "Training loss"),
            curves(r.histories(), "val_acc", "Validation accuracy"),
        ],
        try_next=(TryNext("without batch norm", "build", "Add batchnorm1d after each Linear."),),
        seconds=2.0,
    )
)

# -- 6. Optimisers --------------------------------------------------------------------------
OPT_MLP = "linear:32 relu linear:32 relu linear"
OPT_CONFIG = {"epochs": 30, "lr": 0.01, "seed": 0}
OPTIMISERS = {
    "SGD": {"optimizer": "sgd", "momentum": 0.0},
    "SGD + momentum": {"optimizer": "sgd", "momentum": 0.9},
    "RMSprop": {"optimizer": "rmsprop", "momentum": 0.0},
    "Adam": {"optimizer": "adam"},
}


def _opt_measure(results: LessonResults) -> dict[str, float]:
    out = {}
    for name in OPTIMISERS:
        out[f"{name} loss"] = results[name].final["train_loss"]
        out[f"{name} acc"] = results[name].final["test_acc"]
    return out


register_lesson(
    Lesson(
        id="optimizers",
        title="SGD, momentum, RMSprop and Adam",
        question="Which optimiser gets furthest in the same 30 epochs, at the same learning rate?",
        explanation=(
            "An optimiser turns gradients into weight updates. Plain SGD (stochastic gradient "
            "descent) steps along the gradient of each batch. Momentum keeps a running average "
            "of past steps, so it speeds up along directions that agree. RMSprop divides each "
            "weight's step by the recent size of its gradients, so weights with tiny gradients "
            "still move. Adam does both."
        ),
        variants=tuple(
            Variant(name, supervised("spiral", SPIRAL, OPT_MLP, **OPT_CONFIG, **opts))
            for name, opts in OPTIMISERS.items()
        ),
        measure=_opt_measure,
        say=lambda m: (
            "After 30 epochs at learning rate 0.01 the training loss is "
            + ", ".join(f"{n} {m[f'{n} loss']:.3f}" for n in OPTIMISERS)
            + " (guessing scores 0.69); test accuracy "
            + ", ".join(f"{n} {pct(m[f'{n} acc'])}" for n in OPTIMISERS)
            + "."
        ),
        compare=lambda r: [
            curves(r.histories(), "train_loss", "Training loss, same learning rate")
        ],
        try_next=(
            TryNext("SGD", "train", "Give plain SGD a larger learning rate: does it catch up?"),
        ),
        seconds=1.5,
    )
)
