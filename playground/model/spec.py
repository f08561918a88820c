"""Model specs: plain, JSON round-trippable data describing a layer stack.

Each layer kind is a pydantic model registered under its `kind` name (see `register_layer`);
a spec is a list of them. Validation problems become `SpecError`s naming the layer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import torch
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SerializeAsAny, ValidationError
from torch import nn

from playground.errors import SpecError

if TYPE_CHECKING:
    from playground.model.build import BuildContext

Shape = tuple[int, ...]
InitScheme = Literal["default", "xavier", "kaiming", "normal", "zeros"]


class LayerProblem(Exception):
    """Raised by a layer's `check`; the builder adds the layer index, kind and input shape."""

    def __init__(self, message: str, expected: str | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.fix = fix


class LayerBase(BaseModel):
    """One layer of a spec. Subclasses set `kind`, `expects` and implement `build`."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    # Human description of the input it needs, e.g. "(B, channels, height, width)".
    expects: ClassVar[str] = "any shape"
    # Tensor ranks (without batch) this layer accepts; None means any.
    accepted_ranks: ClassVar[tuple[int, ...] | None] = None
    # Name shown in palettes and the shape table.
    title: ClassVar[str] = ""
    # Whether the layer has weights that an init scheme applies to.
    has_weights: ClassVar[bool] = False

    def check(self, shape: Shape, ctx: BuildContext) -> None:
        """Raise LayerProblem if this layer cannot take `shape` (batch dimension excluded)."""
        if self.accepted_ranks is not None and len(shape) not in self.accepted_ranks:
            raise LayerProblem(
                f"{self.title} cannot take a {len(shape)}-D input.",
                expected=self.expects,
                fix=self.rank_fix(shape, ctx),
            )

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        """What to try when the input has the wrong number of dimensions."""
        return f"Give {self.title} an input shaped {self.expects}."

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        raise NotImplementedError

    def describe(self) -> str:
        """Short label with the parameters a user set, e.g. 'Linear(32)'."""
        fields = {
            k: v
            for k, v in self.model_dump(exclude={"kind"}).items()
            if v != type(self).model_fields[k].default
        }
        inner = ", ".join(f"{k}={v}" for k, v in fields.items() if not isinstance(v, list))
        return f"{self.title}({inner})" if inner else self.title

    def activation_elements(self, shape: Shape, out_shape: Shape) -> int:
        """Values per example this layer keeps for the backward pass, to estimate a batch's
        memory before anything is allocated (see playground.model.limits): its output by
        default; a layer that keeps more inside (attention weights, recurrent states) says so."""
        return math.prod(out_shape)


LAYERS: dict[str, type[LayerBase]] = {}


def register_layer(cls: type[LayerBase]) -> type[LayerBase]:
    """Class decorator: make a layer kind available to specs, the CLI and the app palette."""
    kind = cls.model_fields["kind"].default
    if kind in LAYERS:
        raise ValueError(f"layer kind {kind!r} registered twice")
    LAYERS[kind] = cls
    return cls


# Kinds people coming from Keras expect at the end of a classifier; here the loss holds them.
_LOSS_ACTIVATIONS = {"softmax", "logsoftmax", "log_softmax"}


def _parse_layer(value: Any) -> Any:
    if isinstance(value, LayerBase):
        return value
    if isinstance(value, dict):
        _ensure_builtin_layers()
        kind = value.get("kind")
        cls = LAYERS.get(str(kind).lower()) if kind is not None else None
        if cls is None and str(kind).lower() in _LOSS_ACTIVATIONS:
            raise ValueError(
                f"There is no {kind} layer: the loss already applies softmax (cross-entropy) or "
                "sigmoid (binary cross-entropy) to the last Linear's outputs, so end the model "
                "with that Linear"
            )
        if cls is None:
            raise ValueError(f"unknown layer kind {kind!r}; choose one of: {', '.join(LAYERS)}")
        return cls.model_validate({**value, "kind": str(kind).lower()})
    raise ValueError("each layer must be an object with a 'kind'")


LayerSpec = Annotated[SerializeAsAny[LayerBase], BeforeValidator(_parse_layer)]


class ModelSpec(BaseModel):
    """A model: a stack of layers applied in order. Plain data; see `build_model`."""

    model_config = ConfigDict(extra="forbid")

    layers: list[LayerSpec] = Field(min_length=1)
    name: str = ""

    @classmethod
    def parse(cls, data: dict[str, Any] | list[Any] | str) -> ModelSpec:
        """Validate JSON text, a dict, or a bare list of layers; errors name the layer."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise SpecError(
                    f"The spec is not valid JSON: {exc.msg} at line {exc.lineno}."
                ) from exc
        if isinstance(data, list):
            data = {"layers": data}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _spec_error_from_validation(exc, data) from None

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


def _spec_error_from_validation(exc: ValidationError, data: Any) -> SpecError:
    err = exc.errors()[0]
    loc = list(err["loc"])
    index_parts: list[str] = []
    kind = None
    node = data
    # Walk "layers", i, "layers", j, ... to name the innermost layer at fault.
    while len(loc) >= 2 and loc[0] == "layers" and isinstance(loc[1], int):
        i = loc[1]
        index_parts.append(str(i))
        try:
            node = node["layers"][i]
            kind = node.get("kind") if isinstance(node, dict) else None
        except (KeyError, IndexError, TypeError):
            break
        loc = loc[2:]
        # pydantic puts the concrete model's name in the loc after a union/validator step
        if loc and isinstance(loc[0], str) and loc[0] not in node:
            loc = loc[1:] if loc[0] != "layers" else loc
    msg = err["msg"].removeprefix("Value error, ")
    field = ".".join(str(p) for p in loc if p != "layers") if loc else ""
    text = f"Parameter '{field}': {msg}." if field else f"{msg}."
    if not index_parts:
        return SpecError(f"The spec is invalid: {text}")
    return SpecError(
        text,
        layer_index=".".join(index_parts),
        layer_kind=kind,
        fix="Correct the parameter shown, or remove the layer.",
    )


def _ensure_builtin_layers() -> None:
    from playground.model import layers  # noqa: F401  (registers the built-in kinds)


def layer_kinds() -> dict[str, type[LayerBase]]:
    """All registered layer kinds, in palette order."""
    _ensure_builtin_layers()
    return dict(LAYERS)


def init_weights(module: nn.Module, scheme: InitScheme, nonlinearity: str = "relu") -> None:
    """Apply a weight-initialisation scheme to every weight matrix/kernel in `module`.

    Biases are zeroed for any non-default scheme; 1-D weights (norm scales) are left alone.
    """
    if scheme == "default":
        return
    with torch.no_grad():
        for name, param in module.named_parameters():
            if param.dim() < 2:
                if name.endswith("bias") or "bias" in name:
                    param.zero_()
                continue
            _INIT_FUNCS[scheme](param, nonlinearity)


_INIT_FUNCS: dict[str, Callable[[torch.Tensor, str], Any]] = {
    "xavier": lambda p, _nl: nn.init.xavier_uniform_(p),
    "kaiming": lambda p, nl: nn.init.kaiming_uniform_(p, nonlinearity=nl),
    "normal": lambda p, _nl: nn.init.normal_(p, mean=0.0, std=0.02),
    "zeros": lambda p, _nl: nn.init.zeros_(p),
}
