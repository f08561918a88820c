"""A compact text form of a layer stack, for the command line:

    "linear:32 relu dropout:0.1 linear"
    "conv2d:8:3:padding=same relu maxpool2d flatten linear"
    "linear:16 residual[linear:16 relu linear:16] relu linear"

Each token is `kind`, then `:`-separated values: positional ones fill the kind's main
parameters in order (below), `name=value` ones set any parameter. Values are read as JSON
scalars (numbers, true/false, null) or plain strings; nothing is evaluated.
"""

from __future__ import annotations

import json
from typing import Any

from playground.errors import SpecError
from playground.model.spec import ModelSpec

POSITIONAL: dict[str, tuple[str, ...]] = {
    "linear": ("out_features",),
    "conv1d": ("out_channels", "kernel_size", "stride"),
    "conv2d": ("out_channels", "kernel_size", "stride"),
    "maxpool1d": ("kernel_size", "stride"),
    "maxpool2d": ("kernel_size", "stride"),
    "avgpool1d": ("kernel_size", "stride"),
    "avgpool2d": ("kernel_size", "stride"),
    "adaptiveavgpool1d": ("output_size",),
    "adaptiveavgpool2d": ("output_size",),
    "dropout": ("p",),
    "leakyrelu": ("negative_slope",),
    "elu": ("alpha",),
    "embedding": ("embedding_dim",),
    "rnn": ("hidden_size", "output"),
    "lstm": ("hidden_size", "output"),
    "gru": ("hidden_size", "output"),
    "transformer": ("nhead", "output"),
}


def parse_layers(text: str | list[str]) -> ModelSpec:
    """Parse the shorthand into a validated ModelSpec (SpecError on any problem)."""
    if isinstance(text, list):
        text = " ".join(text)
    tokens = _tokens(text)
    layers, rest = _parse_stack(tokens, 0)
    if rest != len(tokens):
        raise SpecError(
            f"Unexpected '{tokens[rest]}' in the layer list.",
            fix="check the brackets of residual[...].",
        )
    return ModelSpec.parse({"layers": layers})


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    word = ""
    for ch in text:
        if ch in "[]":
            if word:
                out.append(word)
            out.append(ch)
            word = ""
        elif ch.isspace() or ch == ",":
            if word:
                out.append(word)
            word = ""
        else:
            word += ch
    if word:
        out.append(word)
    return out


def _parse_stack(tokens: list[str], i: int) -> tuple[list[dict[str, Any]], int]:
    layers: list[dict[str, Any]] = []
    while i < len(tokens) and tokens[i] != "]":
        token = tokens[i]
        if token == "[":
            raise SpecError("A '[' must follow 'residual'.", fix="write residual[layer layer ...].")
        layer = _parse_layer(token, len(layers))
        i += 1
        if layer["kind"] == "residual":
            if i >= len(tokens) or tokens[i] != "[":
                raise SpecError(
                    "residual needs its layers in brackets.",
                    fix="write residual[linear:16 relu linear:16].",
                )
            layer["layers"], i = _parse_stack(tokens, i + 1)
            if i >= len(tokens):
                raise SpecError("A residual[ is never closed.", fix="add the closing ']'.")
            i += 1  # the closing bracket
        layers.append(layer)
    return layers, i


def _parse_layer(token: str, index: int) -> dict[str, Any]:
    kind, *values = token.split(":")
    kind = kind.lower()
    layer: dict[str, Any] = {"kind": kind}
    names = POSITIONAL.get(kind, ())
    positional = [v for v in values if "=" not in v]
    if len(positional) > len(names):
        raise SpecError(
            f"'{token}' has {len(positional)} unnamed values but {kind} takes {len(names)}"
            + (f" ({', '.join(names)})." if names else "."),
            layer_index=index,
            layer_kind=kind,
            fix="name the extra values, e.g. kernel_size=3.",
        )
    for name, value in zip(names, positional, strict=False):
        layer[name] = _value(value)
    for value in values:
        if "=" in value:
            key, raw = value.split("=", 1)
            layer[key] = _value(raw)
    return layer


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def format_layers(spec: ModelSpec) -> str:
    """The inverse of parse_layers, for showing a spec compactly."""
    parts = []
    for layer in spec.layers:
        data = layer.model_dump(exclude={"kind"}, exclude_defaults=True)
        if layer.kind == "residual":
            inner = format_layers(ModelSpec(layers=layer.layers))  # type: ignore[attr-defined]
            parts.append(f"residual[{inner}]")
            continue
        # The kind's leading positional values are written bare ("linear:32"), as people type
        # them; the rest by name.
        values = []
        for name in POSITIONAL.get(layer.kind, ()):
            if name not in data:
                break
            values.append(_text(data.pop(name)))
        values += [f"{k}={_text(v)}" for k, v in data.items()]
        parts.append(":".join([layer.kind, *values]))
    return " ".join(parts)
