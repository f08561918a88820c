"""Lessons on architectures: convolutions for images, gated memory for sequences."""

from __future__ import annotations

from playground.charts.lessons import curves, variant_bars
from playground.lessons.base import (
    Lesson,
    LessonResults,
    TryNext,
    Variant,
    pct,
    register_lesson,
)
from playground.lessons.common import supervised

# -- 7. CNN vs MLP ---------------------------------------------------------------------------
DIGITS = {"seed": 0}
IMAGE_CONFIG = {"epochs": 40, "lr": 0.005, "seed": 0}
MLP = "flatten linear:128 relu linear"
CNN = (
    "conv2d:16:3:padding=same relu maxpool2d conv2d:32:3:padding=same relu maxpool2d flatten linear"
)


def _cnn_measure(results: LessonResults) -> dict[str, float]:
    mlp, cnn = results["MLP"], results["CNN"]
    return {
        "mlp_acc": mlp.final["test_acc"],
        "cnn_acc": cnn.final["test_acc"],
        "mlp_params": float(mlp.record.param_count),
        "cnn_params": float(cnn.record.param_count),
    }


def _cnn_say(m: dict[str, float]) -> str:
    return (
        f"The CNN, with {m['cnn_params']:,.0f} weights, gets {100 * m['cnn_acc']:.1f}% of the "
        f"test digits right ({100 * (1 - m['cnn_acc']):.1f}% errors); the MLP, with "
        f"{m['mlp_params']:,.0f} weights, {100 * m['mlp_acc']:.1f}% "
        f"({100 * (1 - m['mlp_acc']):.1f}% errors)."
    )


register_lesson(
    Lesson(
        id="cnn_vs_mlp",
        title="A CNN beats an MLP on images",
        question="Why do image models use convolutions, when a plain network can read pixels too?",
        explanation=(
            "An MLP (multi-layer perceptron: layers where every unit sees every input) learns "
            "a separate weight for each pixel, so a stroke that moves by one pixel looks new to "
            "it. A convolution slides one small filter (here 3x3 pixels) over the whole image: "
            "the same weights look for the same pattern everywhere, and pooling keeps the "
            "strongest response nearby. The CNN (convolutional neural network) needs fewer "
            "weights and learns what matters in images: local shapes, wherever they are."
        ),
        variants=(
            Variant(
                "MLP", supervised("digits", DIGITS, MLP, **IMAGE_CONFIG), note="128 hidden units"
            ),
            Variant(
                "CNN", supervised("digits", DIGITS, CNN, **IMAGE_CONFIG), note="16 and 32 filters"
            ),
        ),
        measure=_cnn_measure,
        say=_cnn_say,
        compare=lambda r: [
            variant_bars(
                {n: 1 - r[n].final["test_acc"] for n in ("MLP", "CNN")},
                "Test error rate (lower is better)",
                "share of test digits wrong",
            ),
            variant_bars(
                {n: float(r[n].record.param_count) for n in ("MLP", "CNN")},
                "Number of weights",
                "weights",
            ),
            curves(r.histories(), "val_acc", "Validation accuracy"),
        ],
        try_next=(TryNext("CNN", "build", "Remove a convolution: how much does it cost?"),),
        topic="Architectures",
        seconds=3.0,
    )
)

# -- 8. RNN vs LSTM / GRU ----------------------------------------------------------------------
MEMORY = {"n_samples": 1000, "seq_len": 20, "seed": 0}
SEQ_CONFIG = {"epochs": 30, "lr": 0.01, "batch_size": 32, "seed": 0}
CELLS = {"plain RNN": "rnn:32 linear", "LSTM": "lstm:32 linear", "GRU": "gru:32 linear"}


def _rnn_measure(results: LessonResults) -> dict[str, float]:
    return {f"{name} acc": results[name].final["test_acc"] for name in CELLS}


register_lesson(
    Lesson(
        id="lstm_vs_rnn",
        title="LSTM and GRU remember longer than a plain RNN",
        question="Can a recurrent network remember a token from 15 steps ago?",
        explanation=(
            "Each sequence has a marker '#' somewhere; the class is the token right after it. "
            "A recurrent network reads one token at a time and carries a memory (its hidden "
            "state) forward. A plain RNN rewrites its whole memory at every step, so what it "
            "saw long ago fades, and so does the gradient that could teach it to keep it. An "
            "LSTM (long short-term memory) or GRU (gated recurrent unit) has gates: learned "
            "switches that decide what to keep, so a memory can survive many steps unchanged."
        ),
        variants=tuple(
            Variant(name, supervised("long_memory", MEMORY, layers, **SEQ_CONFIG))
            for name, layers in CELLS.items()
        ),
        measure=_rnn_measure,
        say=lambda m: (
            "Test accuracy on 4 classes (guessing scores 25%): "
            + ", ".join(f"{n} {pct(m[f'{n} acc'])}" for n in CELLS)
            + "."
        ),
        compare=lambda r: [
            variant_bars(
                {n: r[n].final["test_acc"] for n in CELLS},
                "Test accuracy",
                "accuracy",
                percent=True,
            ),
            curves(r.histories(), "val_acc", "Validation accuracy"),
        ],
        try_next=(
            TryNext("plain RNN", "build", "Try a bigger plain RNN: does size make up for gates?"),
            TryNext("LSTM", "train", "Make the sequences longer on the Data page (seq_len)."),
        ),
        topic="Architectures",
        seconds=5.0,
    )
)
