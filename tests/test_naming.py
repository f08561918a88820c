"""Default run names: the dataset as the user knows it, the model in a few words, and the
options that differ from the defaults."""

from __future__ import annotations

from playground.model.presets import PRESETS
from playground.model.shorthand import parse_layers
from playground.runs import RunRequest, run_request
from playground.runs.naming import default_run_name, model_summary, option_changes
from playground.store import RunStore


def test_models_are_summarised_by_family_and_widths() -> None:
    assert model_summary(parse_layers("linear:32 relu linear:32 relu linear")) == "MLP 32-32"
    assert model_summary(PRESETS["cnn"].spec()).startswith("CNN ")
    assert model_summary(PRESETS["lstm"].spec()).startswith("LSTM ")
    assert model_summary({"layers": [{"kind": "relu"}]}) == "MLP (1 layers)"


def test_only_changed_options_are_named_in_words() -> None:
    assert option_changes({}) == []
    assert option_changes({"lr": 0.001, "optimizer": "sgd", "seed": 7}) == ["sgd", "lr 0.001"]
    many = {"optimizer": "sgd", "lr": 0.1, "batch_size": 8, "l2": 1e-4, "l1": 1e-5}
    assert option_changes(many) == ["sgd", "lr 0.1", "batch 8", "L2 0.0001"]  # at most four


def test_a_csv_run_is_named_after_its_file_and_a_given_name_wins(store: RunStore, tmp_path) -> None:
    name = default_run_name(
        "csv",
        {"path": "/srv/uploads/3f2a9c.csv", "file_name": "titanic.csv"},
        parse_layers("linear:32 relu linear:32 relu linear"),
        {"lr": 0.001},
    )
    assert name == "titanic.csv · MLP 32-32 · lr 0.001"
    spec = parse_layers("linear:8 relu linear")
    unnamed = run_request(
        RunRequest.supervised("xor", {"n_samples": 100}, spec, {"epochs": 1, "lr": 0.05}), store
    )
    assert store.get_run(unnamed.run_id).name == "xor · MLP 8 · lr 0.05 · epochs 1"
    named = run_request(
        RunRequest.supervised("xor", {"n_samples": 100}, spec, {"epochs": 1}, name="my run"),
        store,
    )
    assert store.get_run(named.run_id).name == "my run"


def test_runs_on_subsets_of_one_dataset_are_named_apart() -> None:
    from playground.model.shorthand import parse_layers
    from playground.runs.naming import default_run_name

    spec = parse_layers("flatten linear:64 relu linear")
    names = {
        default_run_name("digits", params, spec, {})
        for params in (
            {},
            {"per_class": 2},
            {"keep_classes": [0, 1, 2, 3, 4]},
            {"rare_class": 3, "rare_ratio": 0.05},
            {"folds": 3, "fold": 0},
            {"outliers": 0.1},
        )
    }
    assert names == {
        "digits · MLP 64",
        "digits · 2 per class · MLP 64",
        "digits · classes 0-4 · MLP 64",
        "digits · class 3 rare (0.05) · MLP 64",
        "digits · fold 1/3 · MLP 64",
        "digits · 10% outliers · MLP 64",
    }


def test_lineage_says_where_a_run_comes_from() -> None:
    from playground.runs.naming import lineage_words

    names = {"a1": "digits 0-4"}
    assert lineage_words({"started_from": "a1", "copied_layers": ["1"]}, names) == (
        "fine-tuned from digits 0-4"
    )
    assert lineage_words({"parent": "a1", "variant": "reweigh"}, names) == "reweigh of digits 0-4"
    assert lineage_words({"cross_validation": "g", "fold": 1, "folds": 3}, names) == "fold 2 of 3"
    assert lineage_words({}, names) == ""
