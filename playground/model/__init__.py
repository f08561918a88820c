"""Model specs (plain data) and building them into PyTorch modules."""

from playground.model.build import BuiltModel, DataSignature, LayerRow, build_model, check_model
from playground.model.spec import LAYERS, LayerBase, ModelSpec, layer_kinds

__all__ = [
    "LAYERS",
    "BuiltModel",
    "DataSignature",
    "LayerBase",
    "LayerRow",
    "ModelSpec",
    "build_model",
    "check_model",
    "layer_kinds",
]
