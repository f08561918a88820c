"""Transfer learning: a run starts from a stored run's weights, layer by layer (copied, new
head, frozen or slowed), with its lineage stored; an autoencoder's encoder starts a classifier;
and fine-tuning a pretrained run beats training from scratch on few samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground.errors import PlaygroundError
from playground.model.shorthand import parse_layers
from playground.runner import load_run
from playground.runs import RunRequest, run_request
from playground.runs.request import StartFrom
from playground.store import RunStore
from tests.run_helpers import Grab

MLP = parse_layers("flatten linear:64 relu linear:64 relu linear")
FIRST_FIVE = {"keep_classes": [0, 1, 2, 3, 4]}


@pytest.fixture(scope="module")
def tl_store(tmp_path_factory) -> RunStore:
    return RunStore(tmp_path_factory.mktemp("transfer") / "data")


@pytest.fixture(scope="module")
def pretrained(tl_store: RunStore) -> str:
    """An MLP trained on digits 0-4 only (5 outputs)."""
    request = RunRequest.supervised("digits", FIRST_FIVE, MLP, {"epochs": 20, "lr": 0.003})
    outcome = run_request(request, tl_store)
    assert outcome.state.final_metrics["test_acc"] > 0.95
    return outcome.run_id


def fine_tune(store, run_id, params, seed=0, epochs=30, **start) -> tuple[str, Grab]:
    grab = Grab()
    request = RunRequest.supervised(
        "digits",
        {**params, "seed": seed},
        MLP,
        {"epochs": epochs, "lr": 0.003, "seed": seed, "batch_size": 16},
        start_from=StartFrom(run_id=run_id, **start) if run_id else None,
    )
    return run_request(request, store, callbacks=[grab]).run_id, grab


def test_a_new_head_is_made_when_the_classes_differ_and_the_lineage_says_so(
    tl_store, pretrained
) -> None:
    run_id, grab = fine_tune(tl_store, pretrained, {"per_class": 3}, epochs=1)
    record = tl_store.get_run(run_id)
    assert record.lineage == {
        "started_from": pretrained,
        "copied_layers": ["1", "3"],
        "new_layers": ["5"],  # 5 outputs stored, 10 needed: a fresh head
        "frozen_layers": [],
    }
    assert grab.trainer.modules["model"].output_shape == (10,)


def test_frozen_layers_keep_their_weights_and_slowed_ones_move_less(tl_store, pretrained) -> None:
    source = load_run(pretrained, tl_store).model
    _, frozen = fine_tune(tl_store, pretrained, {"per_class": 3}, epochs=5, freeze=["1"])
    model = frozen.trainer.model
    assert torch.equal(model[1].weight, source[1].weight)  # frozen: not one bit changed
    assert not model[1].weight.requires_grad
    assert not torch.equal(model[3].weight, source[3].weight)  # the rest learns
    _, slowed = fine_tune(
        tl_store, pretrained, {"per_class": 3}, epochs=5, freeze=["1"], frozen_lr_scale=0.1
    )
    _, free = fine_tune(tl_store, pretrained, {"per_class": 3}, epochs=5)

    def moved(trainer) -> float:
        return float((trainer.model[1].weight - source[1].weight).abs().mean())

    assert 0 < moved(slowed.trainer) < 0.5 * moved(free.trainer)
    optimizer = slowed.trainer.optimizers["model"]
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.003, 0.0003])


def test_only_the_chosen_layers_are_copied(tl_store, pretrained) -> None:
    source = load_run(pretrained, tl_store).model
    # Another seed: the fresh layers must not share the stored run's initialisation.
    run_id, grab = fine_tune(tl_store, pretrained, FIRST_FIVE, seed=1, epochs=1, layers=["1"])
    lineage = tl_store.get_run(run_id).lineage
    assert lineage["copied_layers"] == ["1"] and lineage["new_layers"] == []
    model = grab.trainer.model

    # After one epoch the copied layer still points where its source does; layer 3 started
    # fresh, unrelated to the stored one.
    def similarity(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0))

    assert similarity(model[1].weight, source[1].weight) > 0.9
    assert abs(similarity(model[3].weight, source[3].weight)) < 0.3


def test_bad_starts_are_refused_before_anything_is_stored(tl_store, pretrained) -> None:
    before = len(tl_store.list_runs())
    with pytest.raises(PlaygroundError, match="layers 0 to 5"):
        fine_tune(tl_store, pretrained, {}, freeze=["9"])
    with pytest.raises(PlaygroundError, match="no module 'encoder'"):
        fine_tune(tl_store, pretrained, {}, source_module="encoder")
    other = RunRequest.supervised("spiral", {}, parse_layers("linear:7 relu linear"), {"epochs": 1})
    with pytest.raises(PlaygroundError, match="None of run"):
        run_request(other.model_copy(update={"start_from": StartFrom(run_id=pretrained)}), tl_store)
    assert len(tl_store.list_runs()) == before


def test_an_autoencoders_encoder_starts_a_classifier(tl_store) -> None:
    encoder = parse_layers("flatten linear:64 relu linear")
    decoder = parse_layers("linear:64 relu linear sigmoid")
    ae = run_request(
        RunRequest.parse(
            {
                "dataset": "digits",
                "modules": {"encoder": encoder, "decoder": decoder},
                "mode": "autoencoder",
                "mode_options": {"latent": 8},
                "config": {"epochs": 5, "lr": 0.005},
            }
        ),
        tl_store,
    )
    run_id, grab = fine_tune(
        tl_store, ae.run_id, {"per_class": 3}, epochs=1, source_module="encoder"
    )
    lineage = tl_store.get_run(run_id).lineage
    assert lineage["source_module"] == "encoder" and lineage["copied_layers"] == ["1"]
    stored = load_run(ae.run_id, tl_store).modules["encoder"].module
    # One epoch at lr 0.003 moves the copied layer a little from the encoder's weights.
    assert torch.allclose(grab.trainer.model[1].weight, stored[1].weight, atol=0.05)


def test_fine_tuning_a_pretrained_run_beats_scratch_with_one_sample_per_class(
    tl_store, pretrained
) -> None:
    """Pretrained on digits 0-4; fine-tuned on all ten digits with one training image per
    class. Measured (seeds 0-2): fine-tuned 0.647, 0.625, 0.572 (mean 0.615); from scratch
    0.565, 0.613, 0.483 (mean 0.554)."""
    tuned, scratch = [], []
    for seed in range(3):
        for runs, start in ((tuned, pretrained), (scratch, None)):
            run_id, _ = fine_tune(tl_store, start, {"per_class": 1}, seed=seed)
            runs.append(tl_store.get_run(run_id).final_metrics["test_acc"])
    assert np.mean(tuned) > np.mean(scratch) + 0.03


def test_the_cli_fine_tunes_with_frozen_layers_and_shows_the_lineage(tmp_path, capsys) -> None:
    from playground.cli import main

    data = str(tmp_path / "data")
    layers = "flatten linear:32 relu linear"
    common = ["--data-dir", data, "train", "--dataset", "digits", "--layers", layers, "--quiet"]
    assert main([*common, "--param", "keep_classes=[0,1,2,3,4]", "--epochs", "3"]) == 0
    first = capsys.readouterr().out.split("run id: ")[1].strip()
    code = main(
        [*common, "--param", "per_class=3", "--epochs", "2", "--start-from", first, "--freeze", "1"]
    )
    out = capsys.readouterr().out
    assert code == 0 and f"starting from run {first}" in out
    second = out.split("run id: ")[1].strip()
    assert main(["--data-dir", data, "show", second]) == 0
    shown = capsys.readouterr().out
    assert f'"started_from": "{first}"' in shown
    assert '"new_layers": ["3"]' in shown and '"frozen_layers": ["1"]' in shown


def test_the_train_page_fine_tunes_and_draws_it_against_scratch(registry) -> None:
    import json

    from tests.app_helpers import open_page, wait_for

    pre = registry.submit(RunRequest.supervised("digits", FIRST_FIVE, MLP, {"epochs": 3}))
    wait_for(pre)
    at = open_page(
        "train",
        dataset={"name": "digits", "params": {"per_class": 3}},
        layers=MLP.model_dump()["layers"],
        config={"epochs": 4},
    )
    at.selectbox(key="start_from_run").set_value(pre.id).run()
    captions = [c.value.replace("\\", "") for c in at.caption]  # markdown escapes
    assert any(
        c.startswith("Copied from the stored run: 1 · Linear(64), 3 · Linear(64)") for c in captions
    )
    assert any(c.startswith("New (fresh weights): 5 · Linear(10)") for c in captions), captions
    at.multiselect(key="start_from_freeze").set_value(["1"]).run()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    tuned_id = at.session_state["job_id"]
    twin_id = at.session_state["compare_jobs"][tuned_id]
    wait_for(registry.get(tuned_id))
    wait_for(registry.get(twin_id))
    at.run()
    tuned, twin = registry.store.get_run(tuned_id), registry.store.get_run(twin_id)
    assert tuned.lineage["started_from"] == pre.id and tuned.lineage["frozen_layers"] == ["1"]
    assert tuned.name.endswith("· fine-tuned") and twin.name.endswith("· from scratch")
    assert "started_from" not in twin.lineage
    chart = next(
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if "from scratch" in c.proto.spec and "Fine-tuned" in c.proto.spec
    )
    lines = {t["name"].split(" (")[0]: t for t in chart["data"]}
    assert set(lines) == {"fine-tuned", "from scratch"}
    stored = [row["val_acc"] for row in registry.store.epochs(twin_id)]
    assert len(stored) == 4 and lines["from scratch"]["y"] == pytest.approx(stored)
