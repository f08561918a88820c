"""Element-wise activations. Each is one registry entry; shapes pass through unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field
from torch import nn

from playground.model.spec import LayerBase, Shape, register_layer

if TYPE_CHECKING:
    from playground.model.build import BuildContext


class ActivationBase(LayerBase):
    module: ClassVar[type[nn.Module]]

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return self.module()


@register_layer
class ReLUSpec(ActivationBase):
    kind: Literal["relu"] = "relu"
    title: ClassVar[str] = "ReLU"
    module: ClassVar[type[nn.Module]] = nn.ReLU


@register_layer
class LeakyReLUSpec(ActivationBase):
    kind: Literal["leakyrelu"] = "leakyrelu"
    negative_slope: float = Field(default=0.01, ge=0.0, le=1.0)
    title: ClassVar[str] = "LeakyReLU"

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.LeakyReLU(self.negative_slope)


@register_layer
class ELUSpec(ActivationBase):
    kind: Literal["elu"] = "elu"
    alpha: float = Field(default=1.0, gt=0.0, le=10.0)
    title: ClassVar[str] = "ELU"

    def build(self, shape: Shape, ctx: BuildContext) -> nn.Module:
        return nn.ELU(self.alpha)


@register_layer
class GELUSpec(ActivationBase):
    kind: Literal["gelu"] = "gelu"
    title: ClassVar[str] = "GELU"
    module: ClassVar[type[nn.Module]] = nn.GELU


@register_layer
class SiLUSpec(ActivationBase):
    kind: Literal["silu"] = "silu"
    title: ClassVar[str] = "SiLU"
    module: ClassVar[type[nn.Module]] = nn.SiLU


@register_layer
class TanhSpec(ActivationBase):
    kind: Literal["tanh"] = "tanh"
    title: ClassVar[str] = "Tanh"
    module: ClassVar[type[nn.Module]] = nn.Tanh


@register_layer
class SigmoidSpec(ActivationBase):
    kind: Literal["sigmoid"] = "sigmoid"
    title: ClassVar[str] = "Sigmoid"
    module: ClassVar[type[nn.Module]] = nn.Sigmoid


@register_layer
class SoftplusSpec(ActivationBase):
    kind: Literal["softplus"] = "softplus"
    title: ClassVar[str] = "Softplus"
    module: ClassVar[type[nn.Module]] = nn.Softplus


@register_layer
class IdentitySpec(ActivationBase):
    kind: Literal["identity"] = "identity"
    title: ClassVar[str] = "Identity"
    module: ClassVar[type[nn.Module]] = nn.Identity
