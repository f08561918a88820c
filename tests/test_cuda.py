"""CUDA paths, run wherever a GPU is present (skipped without one): a run trained on the GPU is
saved, reloaded on the CPU with the same predictions, and a Captum method runs on CUDA."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground.explain import api
from playground.explain.base import ExplainRequest
from playground.explain.context import ExplainContext
from playground.model.shorthand import parse_layers
from playground.runner import load_run
from playground.store import RunStore
from tests.run_helpers import train_stored

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def test_a_run_trained_on_cuda_reloads_on_the_cpu_with_the_same_predictions(
    store: RunStore,
) -> None:
    outcome, trainer = train_stored(
        "spiral",
        {"n_samples": 400},
        parse_layers("linear:32 relu linear:32 relu linear"),
        {"epochs": 30, "device": "cuda", "seed": 0},
        store,
    )
    assert outcome.state.status == "completed"
    model = trainer.modules["model"].module
    assert next(model.parameters()).is_cuda
    loaded = load_run(outcome.run_id, store)  # the CPU, as every page loads it
    x = loaded.dataset.test.x
    with torch.no_grad():
        on_gpu = model.eval()(x.cuda()).cpu()
        on_cpu = loaded.model(x)
    torch.testing.assert_close(on_cpu, on_gpu, atol=1e-4, rtol=1e-4)
    assert store.get_run(outcome.run_id).final_metrics["test_acc"] > 0.8


def test_integrated_gradients_runs_on_cuda_and_adds_up(store: RunStore) -> None:
    outcome, _ = train_stored(
        "moons",
        {"n_samples": 300},
        parse_layers("linear:16 relu linear"),
        {"epochs": 10, "device": "cuda"},
        store,
    )
    loaded = load_run(outcome.run_id, store, device="cuda")
    ctx = ExplainContext.of(outcome.run_id, loaded.dataset, loaded.built)
    assert ctx.device.type == "cuda"
    attr = api.explain(ctx, ExplainRequest("integrated_gradients", tuple(range(16))))
    assert attr.values.shape == (16, 2) and np.isfinite(attr.values).all()
    # Completeness holds on the GPU as on the CPU.
    total = attr.values.sum(axis=1)
    np.testing.assert_allclose(total, attr.outputs - attr.baseline_outputs, atol=0.05)
