"""Model specs (plain data) and building them into PyTorch modules."""

from playground.model.build import (
    BuiltModel,
    DataSignature,
    LayerRow,
    ModelCheck,
    build_model,
    check_model,
    check_model_partial,
)
from playground.model.spec import LAYERS, LayerBase, ModelSpec, layer_kinds

__all__ = [
    "LAYERS",
    "BuiltModel",
    "DataSignature",
    "LayerBase",
    "LayerRow",
    "ModelCheck",
    "ModelSpec",
    "build_model",
    "check_model",
    "check_model_partial",
    "layer_kinds",
]
