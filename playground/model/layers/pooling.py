"""Pooling: max and average (1d/2d) with a window, and adaptive average pooling."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field
from torch import nn

from playground.model.layers.conv import check_window, spatial_fix
from playground.model.spec import LayerBase, Shape, register_layer

if TYPE_CHECKING:
    from playground.model.build import BuildContext


class PoolBase(LayerBase):
    kernel_size: int = Field(default=2, ge=1, le=64)
    # None: the same as kernel_size (non-overlapping windows), as in PyTorch.
    stride: int | None = Field(default=None, ge=1, le=64)
    spatial_rank: ClassVar[int] = 1
    module: ClassVar[type[nn.Module]]

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return spatial_fix(self.title, shape, self.spatial_rank)

    def check(self, shape: Shape, ctx: BuildContext) -> None:
        super().check(shape, ctx)
        check_window(
            self.title,
            shape,
            self.kernel_size,
            0,
            "use a smaller kernel_size or remove a pooling layer.",
        )

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return self.module(self.kernel_size, self.stride)

    def describe(self) -> str:
        return f"{self.title}({self.kernel_size})"


@register_layer
class MaxPool1dSpec(PoolBase):
    kind: Literal["maxpool1d"] = "maxpool1d"
    title: ClassVar[str] = "MaxPool1d"
    expects: ClassVar[str] = "(B, channels, length)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (2,)
    module: ClassVar[type[nn.Module]] = nn.MaxPool1d


@register_layer
class MaxPool2dSpec(PoolBase):
    kind: Literal["maxpool2d"] = "maxpool2d"
    title: ClassVar[str] = "MaxPool2d"
    expects: ClassVar[str] = "(B, channels, height, width)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (3,)
    spatial_rank: ClassVar[int] = 2
    module: ClassVar[type[nn.Module]] = nn.MaxPool2d


@register_layer
class AvgPool1dSpec(PoolBase):
    kind: Literal["avgpool1d"] = "avgpool1d"
    title: ClassVar[str] = "AvgPool1d"
    expects: ClassVar[str] = "(B, channels, length)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (2,)
    module: ClassVar[type[nn.Module]] = nn.AvgPool1d


@register_layer
class AvgPool2dSpec(PoolBase):
    kind: Literal["avgpool2d"] = "avgpool2d"
    title: ClassVar[str] = "AvgPool2d"
    expects: ClassVar[str] = "(B, channels, height, width)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (3,)
    spatial_rank: ClassVar[int] = 2
    module: ClassVar[type[nn.Module]] = nn.AvgPool2d


@register_layer
class AdaptiveAvgPool1dSpec(LayerBase):
    kind: Literal["adaptiveavgpool1d"] = "adaptiveavgpool1d"
    output_size: int = Field(default=1, ge=1, le=1024)
    title: ClassVar[str] = "AdaptiveAvgPool1d"
    expects: ClassVar[str] = "(B, channels, length)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (2,)

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return spatial_fix(self.title, shape, 1)

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.AdaptiveAvgPool1d(self.output_size)


@register_layer
class AdaptiveAvgPool2dSpec(LayerBase):
    kind: Literal["adaptiveavgpool2d"] = "adaptiveavgpool2d"
    output_size: int = Field(default=1, ge=1, le=1024)
    title: ClassVar[str] = "AdaptiveAvgPool2d"
    expects: ClassVar[str] = "(B, channels, height, width)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (3,)

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return spatial_fix(self.title, shape, 2)

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.AdaptiveAvgPool2d(self.output_size)
