"""PyTorch source for every module of a run (an autoencoder's encoder and decoder, a GAN's
generator and discriminator): one standalone file per module, each built for the data its mode
feeds it, so a stored run's weights load into them ("encoder.0.weight" -> encoder.py's model)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playground.data import Dataset
from playground.model.codegen import export_pytorch_source
from playground.model.spec import ModelSpec


def export_module_sources(
    mode: str, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
) -> dict[str, str]:
    """File name -> source, one per module in build order ({"model.py": ...} when supervised)."""
    from playground.train.modes import get_mode  # the modes import the model package

    signatures = get_mode(mode).signatures(dataset, specs, options)
    return {
        f"{name}.py": export_pytorch_source(specs[name], signature)
        for name, signature in signatures.items()
    }
