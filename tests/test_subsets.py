"""Dataset options that keep fewer rows (keep_classes, per_class, rare_class/rare_ratio),
class-balanced samplers, and each class's recall through training."""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest
import torch

from playground.charts.training import per_class_recall_figure
from playground.data import load_dataset
from playground.errors import DatasetError, TrainingError
from playground.runs import RunRequest, run_request
from playground.store import RunStore
from playground.train import TrainConfig, Trainer
from playground.train.samplers import BalancedSampler
from tests.app_helpers import open_page, wait_for

MLP = [
    {"kind": "flatten"},
    {"kind": "linear", "out_features": 32},
    {"kind": "relu"},
    {"kind": "linear"},
]
RARE = {"rare_class": 3, "rare_ratio": 0.05}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def counts(y: torch.Tensor, k: int) -> list[int]:
    return torch.bincount(y, minlength=k).tolist()


# -- dataset options ---------------------------------------------------------------------
def test_keep_classes_keeps_those_labels_and_names_in_every_split(digits) -> None:
    five = load_dataset("digits", keep_classes=[0, 1, 2, 3, 4])
    assert five.class_names == ["0", "1", "2", "3", "4"]
    assert five.task == "multiclass" and five.num_outputs == 5
    for split in ("train", "val", "test"):
        assert set(five.split(split).y.tolist()) == {0, 1, 2, 3, 4}
        assert len(five.split(split)) == int((digits.split(split).y < 5).sum())
    # Relabelled in the order given: 7 becomes class 0, and its rows are the sevens.
    pair = load_dataset("digits", keep_classes=[7, 2])
    assert pair.class_names == ["7", "2"] and pair.task == "binary"
    assert torch.equal(pair.train.x[pair.train.y == 0], digits.train.x[digits.train.y == 7])
    with pytest.raises(DatasetError, match="no class 12"):
        load_dataset("digits", keep_classes=[0, 12])


def test_raw_and_sensitive_columns_stay_on_the_rows_kept() -> None:
    data = load_dataset("german_credit", keep_classes=[1, 0], per_class=40)
    train = data.train
    assert data.class_names == ["good", "bad"] and counts(train.y, 2) == [40, 40]
    assert len(train.raw) == len(train.sensitive) == 80
    # Each row's encoding is its own raw row's, and its sensitive value its own.
    assert np.allclose(data.encoder.transform(train.raw), train.x.numpy(), atol=1e-6)
    assert (train.sensitive["sex"] == train.raw["sex"]).all()


def test_per_class_keeps_n_training_rows_per_class_seeded(digits) -> None:
    few = load_dataset("digits", per_class=7)
    assert counts(few.train.y, 10) == [7] * 10
    assert len(few.val) == len(digits.val) and len(few.test) == len(digits.test)
    again = load_dataset("digits", per_class=7)
    assert torch.equal(few.train.x, again.train.x) and torch.equal(few.train.y, again.train.y)
    other = load_dataset("digits", per_class=7, seed=1)
    assert not torch.equal(few.train.x, other.train.x)
    with pytest.raises(DatasetError, match="at least 1"):
        load_dataset("digits", per_class=0)


def test_rare_ratio_leaves_the_stated_count_of_the_rare_class(digits) -> None:
    rare = load_dataset("digits", **RARE)
    before, after = counts(digits.train.y, 10), counts(rare.train.y, 10)
    assert after[3] == max(1, round(before[3] * 0.05)) == 6
    assert after[:3] + after[4:] == before[:3] + before[4:]
    assert counts(rare.test.y, 10) == counts(digits.test.y, 10)  # judged on every row
    assert any("made rare" in note and "6 of its 129" in note for note in rare.notes)
    with pytest.raises(DatasetError, match=r"'rare_ratio'.*'rare_class'"):
        load_dataset("digits", rare_ratio=0.1)


def test_options_round_trip_through_a_stored_run(store: RunStore) -> None:
    params = {"keep_classes": [5, 1, 3], "per_class": 30, "rare_class": 2, "rare_ratio": 0.2}
    request = RunRequest.from_json(
        RunRequest.supervised("digits", params, MLP, {"epochs": 1}).to_json()
    )
    outcome = run_request(request, store)
    record = store.get_run(outcome.run_id)
    assert record.dataset_params == {"seed": 0, **params}
    rebuilt = load_dataset(record.dataset, **record.dataset_params)
    direct = load_dataset("digits", **params)
    assert counts(rebuilt.train.y, 3) == [30, 30, 6]
    for split in ("train", "val", "test"):
        assert torch.equal(rebuilt.split(split).x, direct.split(split).x)
        assert torch.equal(rebuilt.split(split).y, direct.split(split).y)


# -- samplers ----------------------------------------------------------------------------
def test_oversampling_draws_every_class_as_often_as_the_largest() -> None:
    y = load_dataset("digits", **RARE).train.y
    sampler = BalancedSampler(y, 10, "oversample", seed=0)
    order = sampler.order()
    assert counts(y[order], 10) == [int(torch.bincount(y).max())] * 10
    # Each of the 6 rare rows is repeated evenly (128 slots: 21 or 22 times), not by luck.
    repeats = torch.bincount(order[y[order] == 3])
    assert set(repeats[repeats > 0].tolist()) == {21, 22}
    assert torch.equal(BalancedSampler(y, 10, "oversample", seed=0).order(), order)
    assert not torch.equal(sampler.order(), order)  # a new draw each epoch
    under = BalancedSampler(y, 10, "undersample", seed=0).order()
    assert counts(y[under], 10) == [6] * 10 and len(set(under.tolist())) == 60


def test_a_sampler_sets_the_epochs_steps_and_is_refused_where_it_means_nothing() -> None:
    data = load_dataset("digits", **RARE)
    config = TrainConfig(epochs=2, batch_size=100, sampler="oversample", schedule="onecycle")
    trainer = Trainer(data, MLP, config)
    # 10 classes x 128 rows: 13 batches, which one-cycle must know (it fails past its end).
    assert trainer.steps_per_epoch == 13
    state = trainer.run()
    assert state.status == "completed", state.message
    assert state.step == 26 and state.samples_seen == 2 * 1280
    with pytest.raises(TrainingError, match="regression"):
        Trainer(load_dataset("diabetes"), [{"kind": "linear"}], TrainConfig(sampler="oversample"))
    with pytest.raises(TrainingError, match="does not train on the labels"):
        Trainer(
            data,
            modules={"encoder": MLP, "decoder": [{"kind": "linear", "out_features": 64}]},
            mode="autoencoder",
            mode_options={"latent": 2},
            config=TrainConfig(sampler="undersample"),
        )


def test_oversampling_or_class_weights_lift_the_rare_class_recall(store: RunStore) -> None:
    """Digit 3 kept at 6 training rows (5%): plain training hardly ever predicts it."""

    def rare_recall(**config) -> float:
        recalls = []
        for seed in (0, 1, 2):
            request = RunRequest.supervised(
                "digits", RARE, MLP, {"epochs": 3, "lr": 0.01, "seed": seed, **config}
            )
            outcome = run_request(request, store)
            assert outcome.state.status == "completed"
            recalls.append(outcome.state.final_metrics["test_recall_3"])
        return statistics.mean(recalls)

    plain = rare_recall()
    # Measured: plain 0.06, oversample 0.69, class weights 0.79 (3 seeds, 3 epochs).
    assert rare_recall(sampler="oversample") >= plain + 0.3
    assert rare_recall(class_weighting=True) >= plain + 0.3


# -- per-class recall --------------------------------------------------------------------
def test_each_epoch_records_every_class_recall_and_the_chart_draws_them(
    store: RunStore,
) -> None:
    request = RunRequest.supervised("digits", {"keep_classes": [4, 9, 1]}, MLP, {"epochs": 3})
    outcome = run_request(request, store)
    history = store.epochs(outcome.run_id)
    assert len(history) == 3
    for row in history:
        assert {"val_recall_0", "val_recall_1", "val_recall_2"} <= set(row)
        assert all(0.0 <= row[f"val_recall_{c}"] <= 1.0 for c in range(3))
    # Recalls weighted by each class's rows are the accuracy: they count the same hits.
    final = outcome.state.final_metrics
    sizes = counts(load_dataset("digits", keep_classes=[4, 9, 1]).test.y, 3)
    weighted = sum(final[f"test_recall_{c}"] * n for c, n in enumerate(sizes)) / sum(sizes)
    assert weighted == pytest.approx(final["test_acc"])
    figure = per_class_recall_figure(history, ["4", "9", "1"])
    assert [trace.name for trace in figure.data] == ["4", "9", "1"]
    assert list(figure.data[2].y) == [row["val_recall_2"] for row in history]
    # Regression has no classes: no recall columns.
    request = RunRequest.supervised("diabetes", {}, [{"kind": "linear"}], {"epochs": 1})
    regression = run_request(request, store).state.final_metrics
    assert "test_r2" in regression and not any("recall" in key for key in regression)


def test_the_data_page_sets_dataset_options_from_its_expander(registry) -> None:
    at = open_page("data")  # the Data page, on the spiral (arm A, arm B)
    assert at.session_state["dataset"]["name"] == "spiral"
    at.selectbox(key="dso_spiral_rare_class").set_value(1).run()
    at.number_input(key="dso_spiral_rare_ratio").set_value(0.1).run()
    assert not at.exception
    assert at.session_state["dataset"]["params"] == {"rare_class": 1, "rare_ratio": 0.1}
    assert any("arm B made rare" in info.value for info in at.info)
    at.multiselect(key="dso_spiral_keep_classes").set_value([1, 0]).run()
    assert at.session_state["dataset"]["params"]["keep_classes"] == [1, 0]


def test_the_train_page_draws_each_class_recall_with_class_names(registry) -> None:
    at = open_page(
        "train",
        dataset={"name": "digits", "params": {"keep_classes": [4, 9, 1]}},
        layers=MLP,
        config={"epochs": 2, "sampler": "oversample"},
    )
    assert at.selectbox(key="cfg_sampler").value == "oversample"
    next(b for b in at.button if b.label == "Start training").click().run()
    wait_for(registry.get(at.session_state["job_id"]))
    at.run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"].get("yaxis", {}).get("title", {}).get("text") for c in charts]
    recall = charts[titles.index("validation recall")]
    assert [trace["name"] for trace in recall["data"]] == ["4", "9", "1"]
