"""AppTest: the Inspect and Explain pages open on stored runs and draw their views."""

from __future__ import annotations

import base64
import json
import time

import numpy as np

from playground.jobs import JobRegistry
from playground.runs import RunRequest
from tests.app_helpers import open_page, wait_for

MLP = {"layers": [{"kind": "linear", "out_features": 8}, {"kind": "relu"}, {"kind": "linear"}]}
CNN = "conv2d:4:3:padding=same relu maxpool2d flatten linear"


def _train(registry: JobRegistry, dataset: str, params: dict, spec, epochs: int = 3) -> str:
    job = registry.submit(
        RunRequest.supervised(dataset, params, spec, {"epochs": epochs, "lr": 0.01})
    )
    wait_for(job)
    assert registry.snapshot(job.id).status == "completed"
    return job.id


def test_inspect_page_opens_on_a_stored_2d_run(registry: JobRegistry) -> None:
    run_id = _train(registry, "xor", {"n_samples": 300}, MLP)
    at = open_page("inspect", job_id=run_id)
    assert at.title[0].value == "Inspect"
    assert [t.label for t in at.tabs] == [
        "Activations",
        "Neurons",
        "Weights & gradients",
        "Evaluation",
        "Representation",
    ]
    assert at.query_params["run"] == [run_id] or at.query_params["run"] == run_id
    # activations (2), neurons, histogram, confusion + class scores, mistakes, projection
    assert len(at.get("plotly_chart")) >= 7
    assert not at.info  # histograms were recorded during training
    at.radio(key="hist_kind").set_value("grad").run()
    assert not at.exception


def test_inspect_page_shows_feature_maps_for_a_cnn(registry: JobRegistry) -> None:
    from playground.model.shorthand import parse_layers

    spec = parse_layers(CNN).model_dump()
    run_id = _train(registry, "digits", {}, spec, epochs=1)
    at = open_page("inspect", job_id=run_id)
    assert "Neurons" not in [t.label for t in at.tabs]
    assert at.selectbox(key="act_maps").value.startswith("0 ")
    at.number_input(key="act_ex").set_value(5).run()
    assert not at.exception


def test_inspect_page_without_runs_says_what_to_do(registry: JobRegistry) -> None:
    at = open_page("inspect")
    assert any("Train page" in i.value for i in at.info)


def _explain(at, seconds: float = 60):
    """Press Explain, wait for the background task, redraw."""
    from playground.tasks import default_tasks

    at.button(key="explain").click().run()
    deadline = time.time() + seconds
    while time.time() < deadline:
        tasks = [t for t in default_tasks().tasks() if not t.done]
        if not tasks:
            break
        time.sleep(0.05)
    return at.run()


def test_explain_page_explains_a_tabular_run_and_checks_completeness(
    registry: JobRegistry,
) -> None:
    run_id = _train(registry, "german_credit", {}, MLP, epochs=3)
    at = open_page("explain", job_id=run_id)
    assert at.title[0].value == "Explain"
    assert at.selectbox(key="method").value == "integrated_gradients"
    at.number_input(key="rows").set_value(30).run()
    at = _explain(at)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Global", "One sample", "Trust"]
    # importance bars, beeswarm, dependence, waterfall, completeness
    assert len(at.get("plotly_chart")) >= 5
    assert any("Completeness" in s.value for s in at.success), [w.value for w in at.warning]
    # one-hot columns are summed into their column by default: "purpose" appears, not "purpose=…"
    assert "purpose" in at.selectbox(key="dependence_feature").options
    # The beeswarm colours numeric features by their values (once every value was NaN).
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    beeswarm = next(
        f for f in figures if any("coloraxis" in t.get("marker", {}) for t in f["data"])
    )
    colours = [_numbers(t["marker"].get("color")) for t in beeswarm["data"]]
    numbers = [c for trace in colours for c in trace if c == c]  # NaN != NaN
    # Categories are drawn mid-scale (0.5); numeric features spread over 0..1.
    assert len(numbers) >= 30 and len(set(numbers)) > 10
    # The dependence plot has one point per explained row, at the feature's own values.
    chosen = at.selectbox(key="dependence_feature").value
    dependence = next(
        f
        for f in figures
        if f["layout"].get("yaxis", {}).get("title", {}).get("text", "")
        == f"attribution of {chosen}"
    )
    xs = _numbers(dependence["data"][0]["x"])
    assert len(xs) == at.number_input(key="rows").value
    assert len(set(xs)) > 1


def _numbers(encoded: object) -> list[float]:
    """A Plotly array from a figure's JSON: a list, or numpy's binary form {"dtype", "bdata"}."""
    if isinstance(encoded, dict):
        raw = base64.b64decode(encoded["bdata"])
        return np.frombuffer(raw, dtype=encoded["dtype"]).astype(float).tolist()
    if isinstance(encoded, list):
        return [float(c) for c in encoded if isinstance(c, float | int)]
    return []


def test_explain_page_shows_grad_cam_on_the_digits_cnn(registry: JobRegistry) -> None:
    from playground.model.shorthand import parse_layers

    run_id = _train(registry, "digits", {}, parse_layers(CNN).model_dump(), epochs=1)
    at = open_page("explain", job_id=run_id)
    at.selectbox(key="method").select("grad_cam").run()
    assert at.selectbox(key="layer").value == "0"
    at.number_input(key="rows").set_value(4).run()
    at = _explain(at)
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 2  # mean map and the sample's overlay
    # The map is drawn over the 8x8 image, finite and not flat (Grad-CAM found something).
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    maps = [t for f in figures for t in f["data"] if t.get("type") == "heatmap"]
    assert maps
    values = [v for t in maps for row in t["z"] for v in _numbers(row) or row]
    assert len(values) >= 64 and max(values) > min(values)


def test_fairness_page_audits_a_stored_adult_run(registry: JobRegistry) -> None:
    run_id = _train(registry, "adult", {"n_samples": 3000}, MLP, epochs=2)
    at = open_page("fairness", job_id=run_id)
    assert at.title[0].value == "Fairness"
    assert at.selectbox(key="attribute").options[:3] == ["sex", "race", "age"]
    assert "sex & race" in at.selectbox(key="attribute").options
    metrics = {m.label: m.value for m in at.metric}
    assert "Demographic parity difference" in metrics
    assert metrics["Demographic parity difference"] != "n/a"
    assert any("not a verdict" in w.value for w in at.warning)
    at.slider(key="threshold").set_value(0.3).run()
    assert not at.exception
    # A lower threshold says yes to more people: the selection rates move.
    lowered = {m.label: m.value for m in at.metric}
    assert lowered["Demographic parity difference"] != "n/a"
    assert lowered != metrics
    at.selectbox(key="attribute").select("sex & race").run()
    assert not at.exception
    groups = {str(g) for d in at.dataframe for g in d.value.get("sex & race", [])}
    assert any(" & " in g for g in groups), groups  # intersections, e.g. "Female & White"
    # one click makes a post-processed variant, a stored run compared with the original
    at.selectbox(key="attribute").select("sex").run()
    at.button(key="variant_threshold").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    variants = registry.store.variants(run_id)
    assert [v.lineage["variant"] for v in variants] == ["threshold_optimizer"]
    assert len(at.dataframe) >= 3


def test_fairness_page_explains_why_a_regression_run_has_no_audit(registry: JobRegistry) -> None:
    run_id = _train(registry, "diabetes", {}, MLP, epochs=1)
    at = open_page("fairness", job_id=run_id)
    assert any("binary task with sensitive attributes" in i.value for i in at.info)
