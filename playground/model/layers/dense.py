"""Dense layers: Linear, Flatten, Dropout."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field
from torch import nn

from playground.model.spec import (
    InitScheme,
    LayerBase,
    LayerProblem,
    Shape,
    init_weights,
    register_layer,
)

if TYPE_CHECKING:
    from playground.model.build import BuildContext


@register_layer
class LinearSpec(LayerBase):
    kind: Literal["linear"] = "linear"
    # None: the dataset's output width (classes, or 1) for the last Linear of the model.
    out_features: int | None = Field(default=None, ge=1, le=65536)
    bias: bool = True
    init: InitScheme = "default"

    title: ClassVar[str] = "Linear"
    expects: ClassVar[str] = "(B, features) or (B, steps, features)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (1, 2)
    has_weights: ClassVar[bool] = True

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return f"add Flatten before Linear (it would then get {math.prod(shape)} features)."

    def resolved_out(self, ctx: BuildContext) -> int:
        if self.out_features is not None:
            return self.out_features
        if ctx.is_auto_output(self):
            return ctx.signature.num_outputs
        raise LayerProblem(
            "out_features is empty; only the model's last Linear takes its width from the data.",
            fix="set out_features (e.g. 32) on this hidden Linear.",
        )

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        layer = nn.Linear(shape[-1], self.resolved_out(ctx), bias=self.bias)
        init_weights(layer, self.init)
        return layer

    def describe(self) -> str:
        width = "auto" if self.out_features is None else self.out_features
        return f"Linear({width})"


@register_layer
class FlattenSpec(LayerBase):
    kind: Literal["flatten"] = "flatten"
    title: ClassVar[str] = "Flatten"

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.Flatten()


@register_layer
class DropoutSpec(LayerBase):
    kind: Literal["dropout"] = "dropout"
    p: float = Field(default=0.2, ge=0.0, lt=1.0)
    title: ClassVar[str] = "Dropout"

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.Dropout(self.p)
