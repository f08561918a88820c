"""Plain-words warnings about a network's health, read from one trainer row or step record.

A row carries per-layer gradient norms (`grad_norms`: layer index -> L2 norm) and, for epoch
rows, the fraction of dead units per ReLU layer (`dead_relu`: layer index -> 0..1) and, while
the run is not learning, what shows it with advice (`not_learning`, from
playground/train/not_learning.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

# A layer's gradient norm below this (or this many times below the largest layer's) is vanishing.
VANISHING_NORM = 1e-5
VANISHING_RATIO = 1e3
# A layer's gradient norm above this is exploding; a non-finite norm always is.
EXPLODING_NORM = 1e3
# Fraction of a ReLU layer's units that are dead: a warning from the first, an error from the second.
DEAD_RELU_WARNING = 0.5
DEAD_RELU_ERROR = 0.9

Level = Literal["warning", "error"]

VANISHING_FIX = (
    "Try ReLU instead of Sigmoid/Tanh, BatchNorm, a residual block or a higher learning rate."
)
EXPLODING_FIX = (
    "Try a lower learning rate, gradient clipping (with SGD, clip at about 0.1 / learning rate; "
    "Adam-like optimisers scale their steps themselves, so lower the rate instead) or "
    "normalisation layers (BatchNorm / LayerNorm)."
)
DEAD_RELU_FIX = (
    "Try a lower learning rate, LeakyReLU or ELU instead of ReLU, or Kaiming initialisation."
)


@dataclass(frozen=True)
class HealthWarning:
    """One finding: `level` "warning" or "error", `kind` ("not_learning", "vanishing",
    "exploding", "dead_relu"), the spec indices of the `layers` concerned and a `text` for the user."""

    level: Level
    kind: str
    text: str
    layers: tuple[str, ...] = field(default_factory=tuple)


# The short name used in the app's brief; it shadows the builtin `Warning` only in this module.
Warning = HealthWarning


def gradient_warnings(
    row: dict[str, Any], layer_labels: dict[str, str] | None = None
) -> list[HealthWarning]:
    """Warnings for a run that is not learning, vanishing or exploding gradients and dead
    ReLU units in `row`.

    `layer_labels` (spec index -> label such as "Linear(32)", see `labels_of`) names the layers
    in the text. Returns an empty list for a healthy row; errors come first.
    """
    labels = {str(k): v for k, v in (layer_labels or {}).items()}
    norms = _clean(row.get("grad_norms"))
    found = [*_not_learning(row), *_exploding(norms, labels), *_vanishing(norms, labels)]
    found += _dead_relu(_clean(row.get("dead_relu")), labels)
    return sorted(found, key=lambda w: w.level != "error")


def labels_of(built: Any) -> dict[str, str]:
    """Spec index -> layer label, from a `BuiltModel` (its `rows`)."""
    return {row.index: row.label for row in built.rows}


def _clean(values: Any) -> dict[str, float]:
    """Layer index -> float, in model order; None entries (e.g. from JSON) are dropped."""
    if not values:
        return {}
    items = [(str(k), float(v)) for k, v in dict(values).items() if v is not None]
    return dict(sorted(items, key=lambda kv: _order(kv[0])))


def _order(index: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in index.split("."))


def _not_learning(row: dict[str, Any]) -> list[HealthWarning]:
    # The trainer wrote the whole text, advice included; an error, as a NaN loss is.
    text = row.get("not_learning")
    return [HealthWarning("error", "not_learning", str(text))] if text else []


def _exploding(norms: dict[str, float], labels: dict[str, str]) -> list[HealthWarning]:
    out = []
    broken = [k for k, v in norms.items() if not math.isfinite(v)]
    if broken:
        out.append(
            HealthWarning(
                "error",
                "exploding",
                f"Gradients are not finite (NaN or infinite) in {_layers(broken, labels)}: "
                f"training has diverged. {EXPLODING_FIX}",
                tuple(broken),
            )
        )
    huge = [k for k, v in norms.items() if math.isfinite(v) and v > EXPLODING_NORM]
    if huge:
        its = _its(huge)
        out.append(
            HealthWarning(
                "warning",
                "exploding",
                f"Gradients are exploding in {_layers(huge, labels)}: {its} above "
                f"{EXPLODING_NORM:g} ({_values(huge, norms)}), so each update is huge and "
                f"training may diverge. {EXPLODING_FIX}",
                tuple(huge),
            )
        )
    return out


def _vanishing(norms: dict[str, float], labels: dict[str, str]) -> list[HealthWarning]:
    finite = {k: v for k, v in norms.items() if math.isfinite(v)}
    if not finite:
        return []
    top_key = max(finite, key=lambda k: finite[k])
    top = finite[top_key]
    tiny = [k for k, v in finite.items() if abs(v) < VANISHING_NORM]
    # Compare with a sane reference: next to an exploding layer every other layer looks tiny.
    reference = min(top, EXPLODING_NORM)
    relative = [
        k for k, v in finite.items() if k not in tiny and abs(v) * VANISHING_RATIO < reference
    ]
    layers = sorted([*tiny, *relative], key=_order)
    if not layers:
        return []
    absolute = f"below {VANISHING_NORM:g}"
    ratio = (
        f"more than {VANISHING_RATIO:g}x smaller than that of {_layers([top_key], labels)} "
        f"({top:.2g})"
    )
    reason = absolute if not relative else ratio if not tiny else f"{absolute} or {ratio}"
    those = "that layer has" if len(layers) == 1 else "those layers have"
    return [
        HealthWarning(
            "warning",
            "vanishing",
            f"Gradients are vanishing in {_layers(layers, labels)}: {_its(layers)} {reason}, "
            f"so {those} almost stopped learning. {VANISHING_FIX}",
            tuple(layers),
        )
    ]


def _dead_relu(dead: dict[str, float], labels: dict[str, str]) -> list[HealthWarning]:
    out = []
    for level, lo, hi in (
        ("error", DEAD_RELU_ERROR, math.inf),
        ("warning", DEAD_RELU_WARNING, DEAD_RELU_ERROR),
    ):
        layers = [k for k, v in dead.items() if lo <= v < hi]
        if not layers:
            continue
        shares = ", ".join(f"{dead[k]:.0%}" for k in layers)
        whose = "its" if len(layers) == 1 else "their"
        out.append(
            HealthWarning(
                level,  # type: ignore[arg-type]
                "dead_relu",
                f"Many ReLU units are dead in {_layers(layers, labels)}: {shares} of {whose} "
                "units output zero for every validation example, so they pass no gradient "
                f"and rarely recover. {DEAD_RELU_FIX}",
                tuple(layers),
            )
        )
    return out


def _layer(index: str, labels: dict[str, str]) -> str:
    label = labels.get(index)
    return f"{index} ({label})" if label else index


def _layers(indices: list[str], labels: dict[str, str]) -> str:
    word = "layer" if len(indices) == 1 else "layers"
    return f"{word} {', '.join(_layer(i, labels) for i in indices)}"


def _its(indices: list[str]) -> str:
    return "its gradient norm is" if len(indices) == 1 else "their gradient norms are"


def _values(indices: list[str], norms: dict[str, float]) -> str:
    return ", ".join(f"{norms[k]:.2g}" for k in indices)
