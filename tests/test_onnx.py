"""ONNX export: each run's modules exported with a dynamic batch axis and run by onnxruntime
give PyTorch's outputs within 1e-5 (an MLP, a CNN, an LSTM and a GRU, and both modules of an
autoencoder run); a module the exporter cannot take fails with an error that names it."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from playground.model.onnx_export import OnnxExportError, export_module, export_run
from playground.model.shorthand import parse_layers
from playground.runner import load_run
from playground.runs import RunRequest, run_request
from playground.store import RunStore

TOLERANCE = 1e-5
CONFIG = {"epochs": 1, "lr": 0.01, "seed": 0, "batch_size": 64}


def _stored(store: RunStore, request: RunRequest):
    outcome = run_request(request, store)
    assert outcome.state.status == "completed", outcome.state.message
    return load_run(outcome.run_id, store)


@pytest.mark.parametrize(
    ("dataset", "params", "layers"),
    [
        ("iris", {}, "linear:8 relu linear"),
        ("digits", {}, "conv2d:4:3:padding=same relu maxpool2d flatten linear"),
        ("long_memory", {"n_samples": 300, "seq_len": 8}, "lstm:8 linear"),
        ("long_memory", {"n_samples": 300, "seq_len": 8}, "gru:8 linear"),
    ],
    ids=["mlp", "cnn", "lstm", "gru"],
)
def test_a_supervised_model_exports_with_the_same_outputs(
    store: RunStore, dataset: str, params: dict, layers: str
) -> None:
    loaded = _stored(
        store, RunRequest.supervised(dataset, params, parse_layers(layers).model_dump(), CONFIG)
    )
    exports = export_run(loaded)
    assert list(exports) == ["model"]
    result = exports["model"]
    assert result.rows_checked > 3  # a different batch size from the exported one
    assert result.max_abs_diff < TOLERANCE
    # The file stands alone: a fresh session on one row (batch axis dynamic) matches too.
    onnx.checker.check_model(onnx.load_from_string(result.data))
    session = ort.InferenceSession(result.data, providers=["CPUExecutionProvider"])
    x = loaded.dataset.test.x[:1]
    ours = session.run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        theirs = loaded.model(x).numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=TOLERANCE, rtol=0)


def test_each_module_of_an_autoencoder_run_exports(store: RunStore) -> None:
    request = RunRequest.parse(
        {
            "dataset": "digits",
            "modules": {
                "encoder": parse_layers("flatten linear:16 relu linear").model_dump(),
                "decoder": parse_layers("linear:16 relu linear").model_dump(),
            },
            "mode": "autoencoder",
            "mode_options": {"latent": 2},
            "config": CONFIG,
        }
    )
    loaded = _stored(store, request)
    exports = export_run(loaded)
    assert list(exports) == ["encoder", "decoder"]
    assert exports["encoder"].input_shape == (1, 8, 8)
    assert exports["decoder"].input_shape == (2,)  # the latent code
    assert all(e.max_abs_diff < TOLERANCE for e in exports.values())


def test_a_module_the_exporter_cannot_take_raises_an_error_naming_it() -> None:
    """An int8 (dynamically quantised) model has no ONNX translation here."""
    from playground.compress.quantize import QUANTIZERS

    torch.manual_seed(0)
    int8 = QUANTIZERS["int8_dynamic"].apply(
        nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    )
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(OnnxExportError) as info:
        export_module(int8, x[:3], x, "int8 model")
    assert "int8 model" in info.value.message
    assert "safetensors" in (info.value.hint or "")
