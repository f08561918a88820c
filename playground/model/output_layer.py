"""The output layer of a stack: which layer it is, where a new layer goes, and the activations
a beginner puts after it by mistake.

The output layer is the last top-level layer with a weight matrix (Linear, Conv, RNN...).
Layers without weights after it (activations, dropout, norms) only reshape what it outputs, so
a new hidden layer belongs before it, not at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from playground.model.layers.activation import ActivationBase
from playground.model.spec import LAYERS

# What each activation does to the raw outputs, in words a beginner can check against a plot.
_EFFECT = {
    "relu": "sets every negative output to 0",
    "leakyrelu": "shrinks every negative output almost to 0",
    "elu": "keeps every output above -alpha",
    "gelu": "keeps every output above about -0.17",
    "silu": "keeps every output above about -0.28",
    "tanh": "squashes every output into -1 ... 1",
    "sigmoid": "squashes every output into 0 ... 1",
    "softplus": "keeps every output positive",
}


@dataclass(frozen=True)
class LayerWarning:
    """A stack that trains but trains badly: which layer, why, and what to do about it."""

    layer_index: str
    layer_kind: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"Layer {self.layer_index} ({self.layer_kind}): {self.message} Fix: {self.fix}"


def output_layer_index(kinds: Sequence[str]) -> int | None:
    """Index of the last top-level layer with weights, or None when no layer has any."""
    for i in range(len(kinds) - 1, -1, -1):
        cls = LAYERS.get(kinds[i])
        if cls is not None and cls.has_weights:
            return i
    return None


def insert_position(kinds: Sequence[str]) -> int:
    """Where a new layer goes by default: just before the output layer, else at the end.

    A beginner adding a hidden layer means "one more layer inside the network"; appending it
    after the output layer would change what the model outputs instead.
    """
    out = output_layer_index(kinds)
    return len(kinds) if out is None else out


def activation_after_output(
    kinds: Sequence[str], task: str, num_outputs: int
) -> list[LayerWarning]:
    """One warning per activation after the output layer, saying what it does to the outputs.

    `task` and `num_outputs` pick the loss the trainer uses by default (cross-entropy with a
    softmax, binary cross-entropy with a sigmoid for one output, or mean squared error), which
    is what makes the extra activation harmful. Tasks whose outputs feed another module
    ("features") are left alone: an activation there is a design choice.
    """
    if task not in ("binary", "multiclass", "regression"):
        return []
    out = output_layer_index(kinds)
    if out is None:
        return []
    out_title = LAYERS[kinds[out]].title
    warnings = []
    for i in range(out + 1, len(kinds)):
        kind = kinds[i]
        cls = LAYERS.get(kind)
        if cls is None or not issubclass(cls, ActivationBase) or kind == "identity":
            continue
        effect = _EFFECT.get(kind, "changes the outputs")
        where = f"{cls.title} comes after the output layer (layer {out}, {out_title}): it {effect}."
        if task == "regression":
            why = (
                " The model can then never predict values outside that range, and the mean "
                "squared error loss cannot pull it there."
            )
        else:
            squash = "a sigmoid" if task == "binary" and num_outputs == 1 else "a softmax"
            loss = "binary cross-entropy" if squash == "a sigmoid" else "cross-entropy"
            why = (
                f" The {loss} loss already turns the raw outputs (logits) into probabilities "
                f"with {squash}, so the extra {cls.title} squashes them first and learning "
                "slows down or stalls."
            )
        warnings.append(
            LayerWarning(
                str(i),
                kind,
                where + why,
                f"remove layer {i} ({cls.title}); let the output layer give raw values.",
            )
        )
    return warnings
