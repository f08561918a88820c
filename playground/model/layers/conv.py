"""Convolutions over sequences (Conv1d: (C, L)) and images (Conv2d: (C, H, W))."""

from __future__ import annotations

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


def spatial_fix(title: str, shape: Shape, spatial_rank: int) -> str:
    """Advice when a conv/pool layer gets a tensor of the wrong rank."""
    if len(shape) == 1:
        return (
            f"{title} needs spatial input; this data is a flat feature vector. "
            "Use Linear layers, or pick an image dataset (digits) or a sequence dataset."
        )
    if len(shape) > spatial_rank + 1:
        return f"use the {len(shape) - 1}d version of this layer, or add Flatten first."
    return f"use the {len(shape) - 1}d version of this layer."


def check_window(title: str, shape: Shape, kernel: int, padding: int, fix: str) -> None:
    """A kernel/window must fit inside the (padded) spatial size."""
    for size in shape[1:]:
        if kernel > size + 2 * padding:
            raise LayerProblem(
                f"{title}'s window of {kernel} is larger than the input size {size}"
                + (f" plus padding {padding}." if padding else "."),
                expected=f"spatial sizes of at least {kernel - 2 * padding}",
                fix=fix,
            )


class ConvBase(LayerBase):
    out_channels: int = Field(default=8, ge=1, le=4096)
    kernel_size: int = Field(default=3, ge=1, le=64)
    stride: int = Field(default=1, ge=1, le=64)
    padding: int | Literal["same"] = 0
    init: InitScheme = "default"
    has_weights: ClassVar[bool] = True
    spatial_rank: ClassVar[int] = 1

    def rank_fix(self, shape: Shape, ctx: BuildContext) -> str:
        return spatial_fix(self.title, shape, self.spatial_rank)

    def check(self, shape: Shape, ctx: BuildContext) -> None:
        super().check(shape, ctx)
        if self.padding == "same" and self.stride != 1:
            raise LayerProblem(
                "padding='same' only works with stride 1.",
                fix="set stride to 1 or padding to a number.",
            )
        pad = self.kernel_size // 2 if self.padding == "same" else int(self.padding)
        check_window(
            self.title,
            shape,
            self.kernel_size,
            pad,
            "use a smaller kernel_size, add padding, or remove a pooling layer before it.",
        )

    def describe(self) -> str:
        return (
            f"{self.title}({self.out_channels}, k={self.kernel_size}"
            + (f", s={self.stride}" if self.stride != 1 else "")
            + ")"
        )


@register_layer
class Conv1dSpec(ConvBase):
    kind: Literal["conv1d"] = "conv1d"
    title: ClassVar[str] = "Conv1d"
    expects: ClassVar[str] = "(B, channels, length)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (2,)

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        layer = nn.Conv1d(shape[0], self.out_channels, self.kernel_size, self.stride, self.padding)
        init_weights(layer, self.init)
        return layer


@register_layer
class Conv2dSpec(ConvBase):
    kind: Literal["conv2d"] = "conv2d"
    title: ClassVar[str] = "Conv2d"
    expects: ClassVar[str] = "(B, channels, height, width)"
    accepted_ranks: ClassVar[tuple[int, ...]] = (3,)
    spatial_rank: ClassVar[int] = 2

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        layer = nn.Conv2d(shape[0], self.out_channels, self.kernel_size, self.stride, self.padding)
        init_weights(layer, self.init)
        return layer
