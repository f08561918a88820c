"""AppTest: the Inspect page shows only the controls that apply to the run (a feature-map
sample picker for a CNN on images, none for an MLP on a table), draws feature maps beside their
input image, and ends with the next step."""

from __future__ import annotations

import base64
import json

import numpy as np

from playground.data import load_dataset
from playground.jobs import JobRegistry
from playground.model.shorthand import parse_layers
from playground.runs import RunRequest
from tests.app_helpers import open_page, wait_for

MLP = {"layers": [{"kind": "linear", "out_features": 8}, {"kind": "relu"}, {"kind": "linear"}]}
CNN = "conv2d:4:3:padding=same relu maxpool2d flatten linear"


def _train(registry: JobRegistry, dataset: str, spec: object) -> str:
    job = registry.submit(
        RunRequest.supervised(dataset, {}, spec, {"epochs": 1, "lr": 0.01, "seed": 0})
    )
    wait_for(job)
    assert registry.snapshot(job.id).status == "completed"
    return job.id


def _array(encoded: object) -> np.ndarray:
    """A Plotly array from a figure's JSON: nested lists, or numpy's binary form."""
    if isinstance(encoded, dict):
        raw = np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"])
        shape = encoded.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return raw.reshape(shape) if shape else raw
    return np.asarray(encoded, dtype=float)


def _figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _has_next_step(at) -> bool:
    return any("Next: explain its predictions" in str(link.proto) for link in at.get("page_link"))


def test_an_mlp_on_a_table_gets_no_feature_map_or_neuron_controls(registry: JobRegistry) -> None:
    run_id = _train(registry, "iris", MLP)
    at = open_page("inspect", job_id=run_id)
    assert [t.label for t in at.tabs] == [
        "Activations",
        "Weights & gradients",
        "Evaluation",
        "Representation",
    ]
    keys = {w.key for w in at.number_input} | {w.key for w in at.selectbox}
    assert "act_ex" not in keys and "act_maps" not in keys
    assert "act_rows" in keys  # the batch size does apply
    assert not at.slider  # the neurons' resolution is for 2-D data only
    assert not any(f["data"] and f["data"][0].get("name") == "input" for f in _figures(at))
    assert _has_next_step(at)


def test_a_cnn_on_digits_shows_its_maps_beside_the_chosen_input(registry: JobRegistry) -> None:
    run_id = _train(registry, "digits", parse_layers(CNN).model_dump())
    at = open_page("inspect", job_id=run_id)
    assert at.selectbox(key="act_maps").value.startswith("0 ")
    at.number_input(key="act_ex").set_value(5).run()
    assert not at.exception
    grid = next(f for f in _figures(at) if f["data"] and f["data"][0].get("name") == "input")
    pixels = _array(grid["data"][0]["z"])
    expected = load_dataset("digits").test.x[5, 0].numpy()
    assert pixels.shape == (8, 8) and np.allclose(pixels, expected)
    assert len(grid["data"]) == 1 + 4  # the input, then the 4 channels
    assert all(t["coloraxis"] == "coloraxis" for t in grid["data"][1:])
    assert grid["layout"]["coloraxis"]["colorbar"]["title"]["text"] == "activation"
    assert grid["layout"]["yaxis"]["scaleanchor"] == "x"
    assert grid["layout"]["yaxis2"]["scaleanchor"] == "x2"
    assert "test row 5" in grid["layout"]["title"]["text"]
    assert _has_next_step(at)


def test_a_2d_run_shows_neurons_with_their_colour_bars(registry: JobRegistry) -> None:
    run_id = _train(registry, "xor", MLP)
    at = open_page("inspect", job_id=run_id)
    assert "Neurons" in [t.label for t in at.tabs]
    assert "act_ex" not in {w.key for w in at.number_input}
    neurons = next(
        f
        for f in _figures(at)
        if any(a["text"].endswith("neurons") for a in f["layout"].get("annotations", []))
    )
    assert neurons["layout"]["coloraxis"]["colorbar"]["title"]["text"] == "activation"
    assert len(neurons["data"]) == 8
