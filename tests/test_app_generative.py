"""AppTests of generative runs in the app: the Build page's modules, training from the Train
page, and the Generative page's views with the numbers they plot."""

from __future__ import annotations

import json

import pytest

from playground.data import load_dataset
from playground.jobs import JobRegistry
from playground.runs import RunRequest
from tests.app_helpers import open_page, wait_for
from tests.test_app_analysis import _numbers

DIGITS = {"name": "digits", "params": {}}
ENCODER = {
    "layers": [
        {"kind": "flatten"},
        {"kind": "linear", "out_features": 32},
        {"kind": "relu"},
        {"kind": "linear"},
    ]
}
DECODER = {"layers": [{"kind": "linear", "out_features": 32}, {"kind": "relu"}, {"kind": "linear"}]}


def _figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_build_page_edits_each_module_and_mirrors_the_encoder(registry: JobRegistry) -> None:
    at = open_page("build", dataset=DIGITS)
    at.radio[0].set_value("autoencoder").run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["encoder", "decoder"]
    metrics = {m.label: m.value for m in at.metric}
    assert {"encoder parameters", "decoder parameters"} <= set(metrics)
    # Each module is edited in the same layer boxes as a supervised model.
    stacks = at.session_state["module_layers"]["autoencoder"]
    assert [d["kind"] for d in stacks["encoder"]] == ["flatten", "linear", "relu", "linear"]
    encoder_ids = at.session_state["module_layer_ids"]["autoencoder.encoder"]
    at.text_input(key=f"f_{encoder_ids[1]}_out_features").input("48").run()
    assert at.session_state["module_layers"]["autoencoder"]["encoder"][1]["out_features"] == 48
    at.selectbox(key="add_kind_autoencoder_encoder").set_value("tanh")
    at.button(key="add_autoencoder_encoder").click().run()
    kinds = [d["kind"] for d in at.session_state["module_layers"]["autoencoder"]["encoder"]]
    assert kinds == ["flatten", "linear", "relu", "tanh", "linear"]  # before the output layer
    # A bad decoder (typed as text) names its module and layer, in red in its box too.
    text = next(t for t in at.text_area if t.label == "decoder layers (shorthand)")
    text.input("conv2d:4 linear")
    at.button(key="apply_autoencoder_decoder").click().run()
    assert any(e.value.startswith("decoder: ") and "conv2d" in e.value for e in at.error)
    assert any(m.value.startswith("🔴") and "Conv2d" in m.value for m in at.markdown)
    assert at.session_state["spec_valid"] is False
    # "Mirror the encoder" writes the decoder from the encoder's widths.
    at.button(key="mirror_autoencoder").click().run()
    decoder = at.session_state["module_layers"]["autoencoder"]["decoder"]
    assert [(d["kind"], d.get("out_features")) for d in decoder] == [
        ("linear", 48),
        ("relu", None),
        ("tanh", None),
        ("linear", None),
    ]
    text = next(t for t in at.text_area if t.label == "decoder layers (shorthand)")
    assert text.value == "linear:48 relu tanh linear"
    assert at.session_state["spec_valid"] is True


def test_the_train_page_trains_the_chosen_mode(registry: JobRegistry) -> None:
    at = open_page(
        "train",
        dataset=DIGITS,
        mode="autoencoder",
        module_layers={"autoencoder": {"encoder": ENCODER["layers"], "decoder": DECODER["layers"]}},
        mode_options={"autoencoder": {"latent": 2, "anomaly_class": None}},
        config={"epochs": 2},
    )
    assert at.text_input(key="run_name").placeholder.startswith("digits · autoencoder · MLP")
    next(b for b in at.button if b.label == "Start training").click().run()
    job_id = at.session_state["job_id"]
    wait_for(registry.get(job_id))
    record = registry.store.get_run(job_id)
    assert record.status == "completed" and record.mode == "autoencoder"
    assert set(record.module_specs) == {"encoder", "decoder"}
    assert "test_recon" in record.final_metrics


@pytest.fixture
def autoencoder_run(registry: JobRegistry) -> str:
    job = registry.submit(
        RunRequest.parse(
            {
                "dataset": "digits",
                "modules": {"encoder": ENCODER, "decoder": DECODER},
                "config": {"epochs": 3},
                "mode": "autoencoder",
                "mode_options": {"latent": 2, "anomaly_class": 0},
            }
        )
    )
    wait_for(job)
    return job.id


def test_the_generative_page_shows_codes_reconstructions_and_the_anomaly_roc(
    registry: JobRegistry, autoencoder_run: str
) -> None:
    at = open_page("generative", job_id=autoencoder_run)
    assert not at.exception and at.title[0].value == "Generative"
    figures = _figures(at)
    test_size = len(load_dataset("digits").test)
    latent = next(f for f in figures if "latent space" in json.dumps(f["layout"].get("title", {})))
    assert sum(len(_numbers(t["x"])) for t in latent["data"]) == test_size
    assert len(latent["data"]) == 10  # one trace per digit class
    assert any("grid of codes" in f["layout"].get("title", {}).get("text", "") for f in figures)
    anomaly = next(f for f in figures if any(t.get("type") == "histogram" for t in f["data"]))
    assert "AUC" in json.dumps(anomaly["layout"])
    assert any("held out of training" in c.value for c in at.caption)


def test_explain_attributes_the_anomaly_score_of_an_autoencoder(
    registry: JobRegistry, autoencoder_run: str
) -> None:
    from tests.test_app_analysis import _explain

    at = open_page("explain", job_id=autoencoder_run)
    assert any("reconstruction error" in i.value for i in at.info)
    assert "grad_cam" not in at.selectbox(key="method").options  # no layers to map
    at.number_input(key="rows").set_value(8).run()
    at = _explain(at)
    assert not at.exception
    # Integrated Gradients on the scalar score adds up to score(x) - score(baseline).
    assert any("Completeness" in s.value for s in at.success), [w.value for w in at.warning]


def test_the_generative_page_draws_the_gan_lab_view_of_a_ring_gan(registry: JobRegistry) -> None:
    mlp = {"layers": [{"kind": "linear", "out_features": 32}, {"kind": "relu"}, {"kind": "linear"}]}
    job = registry.submit(
        RunRequest.parse(
            {
                "dataset": "ring",
                "dataset_params": {"n_samples": 400},
                "modules": {"generator": mlp, "discriminator": mlp},
                "config": {"epochs": 3, "lr": 0.001},
                "mode": "gan",
                "mode_options": {"noise": 2, "loss": "least_squares"},
            }
        )
    )
    wait_for(job)
    at = open_page("generative", job_id=job.id)
    assert not at.exception
    figures = _figures(at)
    field = next(f for f in figures if any(t.get("type") == "heatmap" for t in f["data"]))
    names = [t.get("name") for t in field["data"]]
    assert {"real", "generated", "generator's push"} <= set(names)
    assert "of 8 modes covered" in field["layout"]["title"]["text"]
    bars = next(f for f in figures if any(t.get("type") == "bar" for t in f["data"]))
    assert len(_numbers(bars["data"][0]["y"])) == 8
    losses = next(f for f in figures if "Both losses" in json.dumps(f["layout"].get("title", {})))
    assert [t["name"] for t in losses["data"]] == ["discriminator", "generator"]
    assert all(len(_numbers(t["y"])) == 3 for t in losses["data"])  # one point per epoch


def test_inspect_shows_an_autoencoder_module_by_module(
    registry: JobRegistry, autoencoder_run: str
) -> None:
    at = open_page("inspect", job_id=autoencoder_run)
    assert not at.exception
    assert at.selectbox(key="inspect_module").value == "encoder"  # the module the data enters
    assert [t.label for t in at.tabs] == ["Activations", "Weights & gradients"]
    layers = at.selectbox(key="hist_layer").options
    assert any(o.startswith("encoder ") for o in layers)
    assert any(o.startswith("decoder ") for o in layers)
    assert len(at.get("plotly_chart")) >= 2  # activations and a histogram over time
    # The decoder's activations, fed the encoder's codes of the test rows.
    at.selectbox(key="inspect_module").set_value("decoder").run()
    assert not at.exception
    assert any(c.value.startswith("The decoder fed the encoder's codes of") for c in at.caption)
    distributions = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(distributions["data"]) == len(DECODER["layers"])  # one violin per layer


def test_choosing_a_gan_sets_the_small_learning_rate_it_needs(registry: JobRegistry) -> None:
    at = open_page("build", dataset={"name": "ring", "params": {}})
    assert at.session_state["config"]["lr"] == 0.01
    at.radio[0].set_value("gan").run()
    assert at.session_state["config"]["lr"] == 0.001
    assert any("learning rate 0.001" in i.value for i in at.info)
    at.switch_page("app_pages/train.py").run()
    assert at.number_input(key="cfg_lr").value == 0.001
    # A rate the user chose is left alone.
    at = open_page("build", dataset={"name": "ring", "params": {}}, config={"lr": 0.05})
    at.radio[0].set_value("gan").run()
    assert at.session_state["config"]["lr"] == 0.05


def test_a_vae_shows_its_reparameterisation(registry: JobRegistry) -> None:
    job = registry.submit(
        RunRequest.parse(
            {
                "dataset": "digits",
                "modules": {"encoder": ENCODER, "decoder": DECODER},
                "config": {"epochs": 2},
                "mode": "vae",
                "mode_options": {"latent": 2},
            }
        )
    )
    wait_for(job)
    at = open_page("generative", job_id=job.id)
    assert not at.exception
    figures = _figures(at)
    post = next(f for f in figures if "reparameterisation" in json.dumps(f["layout"]))
    assert len(post["data"]) == 2 * 30  # an ellipse and its drawn codes for 30 test rows
    assert any("mean + sigma" in c.value for c in at.caption)


def test_the_train_page_names_each_module_and_tables_many_final_numbers(
    registry: JobRegistry,
) -> None:
    mlp = [{"kind": "linear", "out_features": 8}, {"kind": "relu"}, {"kind": "linear"}]
    at = open_page(
        "train",
        dataset={"name": "ring", "params": {"n_samples": 300}},
        mode="gan",
        module_layers={"gan": {"generator": mlp, "discriminator": mlp}},
        mode_options={"gan": {"noise": 2}},
        config={"epochs": 2, "lr": 0.001},
    )
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for(registry.get(at.session_state["job_id"]))
    at.run()
    captions = [c.value.replace("\\", "") for c in at.caption]  # Markdown escapes removed
    assert any(
        c.startswith("ring · generator: Linear(8) → ReLU → Linear(auto) · discriminator:")
        for c in captions
    )
    table = at.dataframe[0].value
    assert list(table.index) == ["train", "validation", "test"]
    assert {"modes covered", "d loss", "g loss"} <= set(table.columns)
    assert not at.metric  # 15 numbers would be cut off as metrics
