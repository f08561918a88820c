"""A residual block: y = x + f(x), where f is a sub-stack whose output shape equals its input's."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import torch
from pydantic import Field
from torch import nn

from playground.model.spec import LayerBase, LayerSpec, Shape, register_layer

if TYPE_CHECKING:
    from playground.model.build import BuildContext


class Residual(nn.Module):
    def __init__(self, body: nn.Sequential) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@register_layer
class ResidualSpec(LayerBase):
    kind: Literal["residual"] = "residual"
    layers: list[LayerSpec] = Field(min_length=1)
    title: ClassVar[str] = "Residual"

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        # The builder checks the sub-stack (and that it keeps the shape) and records its rows.
        body = ctx.build_substack(self, shape)
        return Residual(body)

    def describe(self) -> str:
        return f"Residual({len(self.layers)} layers)"
