"""The one flow in code: dataset -> model spec -> training run -> stored run, and back.

`prepare_run` checks everything (dataset, spec, config) before recording anything, so a bad
input never leaves a half-made run behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from playground.data import Dataset, load_dataset
from playground.model import BuiltModel, ModelSpec, build_model
from playground.store import RunRecord, RunStore, StoreRecorder
from playground.train import Callback, HistogramRecorder, RunControl, TrainConfig, Trainer


@dataclass
class PreparedRun:
    run_id: str
    trainer: Trainer
    store: RunStore


def prepare_run(
    dataset_name: str,
    dataset_params: dict[str, Any],
    spec: ModelSpec | dict[str, Any] | list[Any],
    config: TrainConfig | dict[str, Any] | None = None,
    *,
    store: RunStore | None = None,
    callbacks: Sequence[Callback] = (),
    control: RunControl | None = None,
    name: str = "",
    dataset: Dataset | None = None,
    lineage: dict[str, Any] | None = None,
) -> PreparedRun:
    """Build the dataset, model and trainer, then record the run as 'pending' in the store.

    Raises DatasetError / SpecError / TrainingError before anything is stored.
    """
    store = store or RunStore()
    dataset = dataset or load_dataset(dataset_name, **dataset_params)
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
    config = config if isinstance(config, TrainConfig) else TrainConfig.parse(config)
    trainer = Trainer(dataset, spec, config, callbacks=callbacks, control=control)
    run_id = store.create_run(
        dataset=dataset.name,
        dataset_params=dataset.params,
        spec=spec.model_dump(),
        config=config.model_dump(),
        param_count=trainer.built.total_params,
        name=name,
        lineage=lineage,
    )
    trainer.callbacks.append(StoreRecorder(store, run_id))
    # Weight/gradient histograms over training, written to the store as they are taken.
    trainer.callbacks.append(HistogramRecorder(store, run_id))
    return PreparedRun(run_id, trainer, store)


@dataclass
class LoadedRun:
    record: RunRecord
    dataset: Dataset
    spec: ModelSpec
    config: TrainConfig
    built: BuiltModel

    @property
    def model(self) -> nn.Module:
        return self.built.module


def load_run(run_id: str, store: RunStore | None = None, device: str = "cpu") -> LoadedRun:
    """Rebuild a stored run's dataset and model and load its saved weights (safetensors)."""
    store = store or RunStore()
    record = store.get_run(run_id)
    dataset = load_dataset(record.dataset, **record.dataset_params)
    spec = ModelSpec.parse(record.spec)
    built = build_model(spec, dataset, device=device)
    store.load_weights(run_id, built.module)
    built.module.eval()
    return LoadedRun(record, dataset, spec, TrainConfig.parse(record.config), built)


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Model outputs for `x` in eval mode, batched; returned on the CPU."""
    model.eval()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    outs = [model(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(outs)
