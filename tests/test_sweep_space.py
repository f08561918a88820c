"""The search space as plain data: JSON round trip, the text form of --param, applying a
trial's values to a run request (training options, layer fields, activations, repeated
blocks), the errors that name the parameter, and the sweep charts' numbers."""

from __future__ import annotations

import json

import pytest

from playground.charts.sweep import optimisation_history, parallel_coordinates, trial_curves
from playground.errors import PlaygroundError
from playground.runs import RunRequest
from playground.sweeps import (
    Param,
    SearchSpace,
    SweepConfig,
    SweepSpaceError,
    apply_params,
    resolve_objective,
    tunable_parameters,
)
from playground.sweeps.study import TrialRow, best_trial

MLP = [
    {"kind": "linear", "out_features": 32},
    {"kind": "relu"},
    {"kind": "dropout", "p": 0.1},
    {"kind": "linear", "out_features": 32},
    {"kind": "relu"},
    {"kind": "linear"},
]
TEXTS = [
    "lr=log:1e-4:1e-1",
    "layers.0.out_features=int:8:64",
    "layers.3.out_features=int:8:64:step=8",
    "layers.2.p=float:0:0.5",
    "optimizer=choice:adam,sgd",
    "layers.1.kind=choice:relu,tanh,gelu",
    "repeat.3-4=int:1:3",
    "epochs=12",
]


def _base() -> RunRequest:
    return RunRequest.supervised("spiral", {}, MLP, {"epochs": 5})


def test_the_space_and_the_sweep_round_trip_through_json() -> None:
    space = SearchSpace.from_texts(TEXTS)
    assert SearchSpace.model_validate_json(space.model_dump_json()) == space
    assert [p.to_text() for p in space.params] == [
        "lr=log:0.0001:0.1",
        "layers.0.out_features=int:8:64",
        "layers.3.out_features=int:8:64:step=8",
        "layers.2.p=float:0:0.5",
        "optimizer=choice:adam,sgd",
        "layers.1.kind=choice:relu,tanh,gelu",
        "repeat.3-4=int:1:3",
        "epochs=fixed:12",
    ]
    # The text form parses back to the same parameters.
    assert SearchSpace.from_texts([p.to_text() for p in space.params]) == space
    config = SweepConfig(base=_base(), space=space, trials=7, sampler="random", pruner="halving")
    again = SweepConfig.parse(json.loads(config.to_json()))
    assert again == config
    assert again.base.primary_spec.layers[0].out_features == 32


def test_applying_values_sets_options_layers_activations_and_repeats_blocks() -> None:
    space = SearchSpace.from_texts(TEXTS)
    space.check(_base())
    values = {
        "lr": 0.003,
        "layers.0.out_features": 16,
        "layers.3.out_features": 24,
        "layers.2.p": 0.25,
        "optimizer": "sgd",
        "layers.1.kind": "tanh",
        "repeat.3-4": 3,
        **space.fixed_values(),
    }
    request = apply_params(_base(), values)
    assert (request.config.lr, request.config.optimizer, request.config.epochs) == (
        0.003,
        "sgd",
        12,
    )
    # Indices name the base spec's layers; the block 3-4 (Linear(24), ReLU) appears 3 times.
    assert [layer.describe() for layer in request.primary_spec.layers] == [
        "Linear(16)",
        "Tanh",
        "Dropout(p=0.25)",
        "Linear(24)",
        "ReLU",
        "Linear(24)",
        "ReLU",
        "Linear(24)",
        "ReLU",
        "Linear(auto)",
    ]
    # The base request is unchanged.
    assert len(_base().primary_spec.layers) == 6


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("layers.9.out_features=int:8:64", "there is no layer 9"),
        ("layers.1.out_features=int:8:64", "a relu layer has no field 'out_features'"),
        ("learning_rate=log:1e-4:1e-1", "is no training option"),
        ("repeat.4-9=int:1:3", "are not a block"),
    ],
)
def test_a_space_that_does_not_fit_the_run_names_the_parameter(text: str, words: str) -> None:
    with pytest.raises(SweepSpaceError, match=words):
        SearchSpace.from_texts([text]).check(_base())


def test_bad_ranges_and_values_are_refused_with_what_to_try() -> None:
    with pytest.raises(PlaygroundError, match="needs low > 0"):
        Param.parse_text("lr=log:0:0.1")
    with pytest.raises(PlaygroundError, match="is not NAME=SPEC"):
        Param.parse_text("lr")
    with pytest.raises(PlaygroundError, match="make no valid run"):
        apply_params(_base(), {"layers.0.out_features": 0})
    with pytest.raises(PlaygroundError, match="overlap"):
        SearchSpace.from_texts(["repeat.0-1=int:1:2", "repeat.1-2=int:1:2"]).check(_base())


def test_grid_values_and_tunables_come_from_the_spec() -> None:
    space = SearchSpace.from_texts(["lr=log:1e-3:1e-1", "layers.3.out_features=int:8:64:step=8"])
    # A stepped range's grid points stay on its steps (8, 16, ..., 64).
    assert space.grid() == {"lr": [0.001, 0.01, 0.1], "layers.3.out_features": [8, 40, 64]}
    assert space.grid_size() == 9
    found = {t.address: t.default for t in tunable_parameters(MLP)}
    assert found["layers.0.out_features"].to_text() == "layers.0.out_features=int:16:64:log"
    assert found["layers.2.p"].to_text() == "layers.2.p=float:0:0.5"
    assert found["layers.1.kind"].choices[0] == "relu"
    assert "layers.5.out_features" not in found  # the output layer's width is the data's


def test_the_objective_follows_the_task() -> None:
    config = SweepConfig(base=_base(), space=SearchSpace.from_texts(["lr=log:1e-3:1e-1"]))
    assert resolve_objective(config, "multiclass") == ("val_acc", "maximize")
    assert resolve_objective(config, "regression") == ("val_r2", "maximize")
    loss = config.model_copy(update={"objective": "val_loss"})
    assert resolve_objective(loss, "binary") == ("val_loss", "minimize")


def _rows() -> list[TrialRow]:
    def row(n: int, state: str, value: float, lr: float, opt: str) -> TrialRow:
        history = {1: value - 0.1, 2: value}
        return TrialRow(
            n,
            state,
            {"lr": lr, "optimizer": opt},
            value,
            2,
            f"r{n}",
            state == "pruned",
            history=history,
        )

    return [
        row(0, "complete", 0.6, 0.01, "adam"),
        row(1, "complete", 0.8, 0.03, "sgd"),
        row(2, "pruned", 0.4, 0.0001, "sgd"),
        row(3, "complete", 0.7, 0.001, "adam"),
    ]


def test_the_charts_plot_the_trials_values() -> None:
    rows = _rows()
    fig = optimisation_history(rows, "val_acc", "maximize")
    assert list(fig.data[0].x) == [0, 1, 3] and list(fig.data[0].y) == [0.6, 0.8, 0.7]
    assert list(fig.data[1].x) == [2]  # the pruned trial, apart
    assert list(fig.data[2].y) == [0.6, 0.8, 0.8]  # best so far never gets worse
    space = SearchSpace.from_texts(["lr=log:1e-4:1e-1", "optimizer=choice:adam,sgd"])
    par = parallel_coordinates(rows, space, "val_acc", "maximize").data[0]
    dims = par.dimensions
    assert [d.label for d in dims] == ["log10 lr", "optimizer", "validation accuracy"]
    assert [round(v, 3) for v in dims[0].values] == [-2.0, -1.523, -3.0]
    assert list(dims[1].ticktext) == ["adam", "sgd"] and list(dims[1].values) == [0, 1, 0]
    curves = trial_curves(rows, "val_acc")
    assert curves.data[2].line.dash == "dash" and list(curves.data[2].y) == [
        0.30000000000000004,
        0.4,
    ]
    assert best_trial(rows, "maximize").number == 1
    assert best_trial(rows, "minimize").number == 0


def test_trials_report_at_most_about_fifty_epochs_at_the_same_steps() -> None:
    from playground.sweeps.driver import report_stride

    assert [report_stride(n) for n in (1, 20, 50, 51, 150, 1000)] == [1, 1, 1, 2, 3, 20]
    steps = [e for e in range(1, 151) if e % report_stride(150) == 0]
    assert len(steps) == 50 and steps[-1] == 150  # every 3rd epoch, the last one included
