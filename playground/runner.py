"""Back from the store: a stored run's dataset and modules with their saved weights.

Training goes the other way through `playground.runs` (a run request, executed here or in a
worker); this module only rebuilds what a finished or running run has stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from playground.data import Dataset, load_dataset
from playground.model import BuiltModel, ModelSpec
from playground.store import RunRecord, RunStore
from playground.train import TrainConfig
from playground.train.modes import get_mode, run_module


@dataclass
class LoadedRun:
    record: RunRecord
    dataset: Dataset
    spec: ModelSpec  # the first module's spec (the model of a supervised run)
    config: TrainConfig
    built: BuiltModel  # the first module
    modules: dict[str, BuiltModel]

    @property
    def model(self) -> nn.Module:
        return self.built.module


def load_run(run_id: str, store: RunStore | None = None, device: str = "cpu") -> LoadedRun:
    """Rebuild a stored run's dataset and every module, and load its saved weights
    (safetensors). A run of several modules stores them together ("encoder.0.weight")."""
    store = store or RunStore()
    record = store.get_run(run_id)
    dataset = load_dataset(record.dataset, **record.dataset_params)
    specs = {name: ModelSpec.parse(spec) for name, spec in record.module_specs.items()}
    options = record.request.get("mode_options", {})
    modules = get_mode(record.mode).build(dataset, specs, options, device)
    whole = run_module(modules)
    store.load_weights(run_id, whole)
    whole.eval()
    first = next(iter(modules))
    return LoadedRun(
        record, dataset, specs[first], TrainConfig.parse(record.config), modules[first], modules
    )


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Model outputs for `x` in eval mode, batched; returned on the CPU."""
    model.eval()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    outs = [model(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(outs)
