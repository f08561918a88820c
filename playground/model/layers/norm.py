"""Normalisation: BatchNorm (1d over features or channels, 2d over image channels), LayerNorm."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from torch import nn

from playground.model.spec import LayerBase, Shape, register_layer

if TYPE_CHECKING:
    from playground.model.build import BuildContext


@register_layer
class BatchNorm1dSpec(LayerBase):
    kind: Literal["batchnorm1d"] = "batchnorm1d"
    title: ClassVar[str] = "BatchNorm1d"
    expects: ClassVar[str] = "(B, features) or (B, channels, length)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (1, 2)

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return "use BatchNorm2d for images, or add Flatten before it."

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.BatchNorm1d(shape[0])


@register_layer
class BatchNorm2dSpec(LayerBase):
    kind: Literal["batchnorm2d"] = "batchnorm2d"
    title: ClassVar[str] = "BatchNorm2d"
    expects: ClassVar[str] = "(B, channels, height, width)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (3,)

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return "use BatchNorm1d for flat features or sequences."

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.BatchNorm2d(shape[0])


@register_layer
class LayerNormSpec(LayerBase):
    """Normalises over the last dimension (features), per example."""

    kind: Literal["layernorm"] = "layernorm"
    title: ClassVar[str] = "LayerNorm"
    expects: ClassVar[str] = "(B, ..., features)"

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.LayerNorm(shape[-1])
