"""'Mirror the encoder' gives the decoder people would write by hand."""

from __future__ import annotations

from playground.model.mirror import mirror_layers
from playground.model.shorthand import parse_layers
from playground.model.spec import ModelSpec


def _layers(text: str) -> list[dict]:
    return parse_layers(text).model_dump()["layers"]


def _mirror(text: str) -> list[dict]:
    return ModelSpec.parse({"layers": mirror_layers(_layers(text))}).model_dump()["layers"]


def test_the_hidden_widths_come_back_in_reverse_with_their_activations() -> None:
    assert _mirror("flatten linear:64 relu linear:16 tanh linear") == _layers(
        "linear:16 tanh linear:64 relu linear"
    )
    assert _mirror("linear") == _layers("linear")
    assert _mirror("conv2d:8 relu flatten linear:32 relu linear") == _layers(
        "linear:32 relu linear"
    )
