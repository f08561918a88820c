"""Runs that stay finite but do not learn (issue 10): found, stopped early with advice that
works, never confused with a healthy run; and gradient clipping tried on settings that really
diverge."""

from __future__ import annotations

import math
import re

import pytest
import torch

from playground.analysis.health import gradient_warnings
from playground.cli import main
from playground.data import load_dataset
from playground.model.shorthand import parse_layers
from playground.store import RunStore
from playground.train import TrainConfig, Trainer
from playground.train.not_learning import Reference, not_learning, window_for
from playground.train.objectives import Objective
from tests.app_helpers import open_page

MLP = parse_layers("linear:32 relu linear:32 relu linear")


@pytest.fixture(scope="module")
def spiral():
    return load_dataset("spiral", n_samples=400, seed=0)


def _spiral_run(spiral, **options):
    return Trainer(spiral, MLP, TrainConfig(epochs=200, seed=0, **options)).run()


def _advised_clip(message: str) -> float:
    return float(re.search(r"grad_clip=([0-9.e-]+)\)", message).group(1))


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_learning_rate_10_on_the_spiral_stops_early_with_advice(spiral, optimizer) -> None:
    state = _spiral_run(spiral, optimizer=optimizer, lr=10.0)
    assert state.status == "diverged"
    assert state.epoch <= 20  # of 200: the window is 10 epochs
    assert state.message.startswith("Not learning:")
    assert "lower learning rate (now 10;" in state.message
    assert f"Stopped at epoch {state.epoch} of 200" in state.message
    # The losses it quotes are the run's own, above chance (ln 2 for two classes).
    quoted = float(re.search(r"training loss stayed at ([0-9.]+)", state.message).group(1))
    assert quoted > 1.1 * math.log(2) and "above 0.693, the loss of a model" in state.message
    if optimizer == "sgd":
        assert _advised_clip(state.message) == pytest.approx(0.01)
    else:
        assert "barely helps Adam" in state.message and "grad_clip" not in state.message


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_healthy_run_is_never_flagged(spiral, optimizer) -> None:
    # SGD at 0.01 learns slowly (its loss sits near chance for epochs): still not flagged.
    state = _spiral_run(spiral, optimizer=optimizer, lr=0.01, stop_when_not_learning=False)
    assert state.status == "completed" and state.epoch == 200
    assert state.message == "Finished 200 epochs."
    assert not any("not_learning" in row for row in state.history)
    assert state.final_metrics["test_acc"] > 0.85


def test_with_the_option_off_the_run_goes_on_and_says_why(spiral) -> None:
    state = _spiral_run(spiral, optimizer="adam", lr=10.0, stop_when_not_learning=False)
    assert state.status == "completed" and state.epoch == 200
    assert state.message.startswith("Not learning:")
    assert "'stop a run that is not learning' is off" in state.message
    flagged = [row for row in state.history if "not_learning" in row]
    assert flagged and flagged[0]["epoch"] == 10
    # The Train page's live health warnings show it, as an error, with the advice.
    warnings = gradient_warnings(flagged[-1])
    assert warnings[0].kind == "not_learning" and warnings[0].level == "error"
    assert "lower learning rate" in warnings[0].text
    assert state.final_metrics["test_acc"] < 0.65  # it really did not learn


def test_sgd_clipped_as_advised_learns_the_spiral(spiral) -> None:
    advised = _advised_clip(_spiral_run(spiral, optimizer="sgd", lr=10.0).message)
    state = _spiral_run(spiral, optimizer="sgd", lr=10.0, grad_clip=advised)
    assert state.status == "completed"
    assert state.final_metrics["test_acc"] > 0.9


def test_clipping_does_not_rescue_adam_as_the_advice_says(spiral) -> None:
    # Adam divides each step by the gradient's running size, so a clipped gradient still
    # moves every weight by about the learning rate.
    state = _spiral_run(spiral, optimizer="adam", lr=10.0, grad_clip=0.01)
    assert state.status == "diverged" and state.message.startswith("Not learning:")


def test_clipping_rescues_the_settings_that_diverge_to_nan() -> None:
    # The NaN guard's settings (tests/test_training.py): SGD at 5 with momentum on `plane`.
    plane = load_dataset("plane", seed=0)
    spec = parse_layers("linear:64 relu linear:64 relu linear")
    settings = {"optimizer": "sgd", "lr": 5.0, "momentum": 0.9, "epochs": 30, "record_every": 5}
    nan = Trainer(plane, spec, TrainConfig(**settings)).run()
    assert nan.status == "diverged" and "loss became nan" in nan.message
    # A loose clip keeps the loss finite but the run still goes nowhere; the advised one
    # (each step about 0.1) learns the plane.
    loose = Trainer(plane, spec, TrainConfig(**settings, grad_clip=1.0)).run()
    assert loose.status == "diverged" and loose.message.startswith("Not learning:")
    advised = _advised_clip(nan.message)
    assert advised == pytest.approx(0.02)
    state = Trainer(plane, spec, TrainConfig(**settings, grad_clip=advised)).run()
    assert state.status == "completed" and state.epoch == 30
    assert state.final_metrics["test_r2"] > 0.9


def test_the_command_line_and_the_store_keep_the_verdict(tmp_path, capsys) -> None:
    base = ["--data-dir", str(tmp_path), "train", "--dataset", "spiral", "--param"]
    base += ["n_samples=400", "--optimizer", "sgd", "--lr", "10", "--epochs", "200", "--quiet"]
    assert main(base) == 1
    out = capsys.readouterr().out
    assert "diverged: Not learning:" in out and "grad_clip=0.01" in out
    run_id = out.strip().splitlines()[-1].removeprefix("run id: ")
    record = RunStore(tmp_path).get_run(run_id)
    assert record.status == "diverged" and record.message.startswith("Not learning:")
    assert record.epochs_done <= 20

    assert main([*base, "--no-stop-when-not-learning"]) == 0
    assert "completed: Not learning:" in capsys.readouterr().out


def test_the_train_page_offers_the_option_in_words(registry) -> None:
    at = open_page("train")
    box = at.checkbox(key="cfg_stop_when_not_learning")
    assert box.label == "stop a run that is not learning" and box.value is True
    box.uncheck().run()
    assert at.session_state["config"]["stop_when_not_learning"] is False


# -- the rule itself, on made-up epoch rows ---------------------------------------------------

CHANCE = Reference(math.log(2), "chance")


def _rows(train: list[float], val: list[float] | None = None, norm: float = 1.0) -> list[dict]:
    val = train if val is None else val
    return [
        {"epoch": i + 1, "train_loss": t, "val_loss": v, "grad_norms": {"0": norm}}
        for i, (t, v) in enumerate(zip(train, val, strict=True))
    ]


def test_the_rule_reads_medians_over_the_window() -> None:
    bad = [5.0, 0.9, 0.8, 1.2, 0.9]
    assert not_learning(_rows(bad[:4]), CHANCE, 5) is None  # too few epochs yet
    assert "epochs 1-5" in not_learning(_rows(bad), CHANCE, 5)
    # One wild epoch in a run that learns does not count.
    assert not_learning(_rows([0.6, 40.0, 0.5, 0.45, 0.4]), CHANCE, 5) is None
    # Just above chance is not "worse than knowing nothing" by the 10% margin.
    assert not_learning(_rows([0.74] * 5), CHANCE, 5) is None


def test_the_rule_needs_both_losses_above_the_reference() -> None:
    # An L1 penalty lifts only the training loss; overfitting lifts only the validation loss.
    assert not_learning(_rows([2.0] * 5, [0.3] * 5), CHANCE, 5) is None
    assert not_learning(_rows([0.05] * 5, [3.0] * 5), CHANCE, 5) is None
    assert not_learning(_rows([2.0] * 5, [3.0] * 5), CHANCE, 5) is not None


def test_huge_gradients_count_only_while_the_loss_does_not_fall() -> None:
    flat = _rows([0.5] * 5, norm=5e4)
    assert "gradient norm stayed above" in not_learning(flat, CHANCE, 5)
    assert not_learning(_rows([0.5, 0.45, 0.4, 0.35, 0.3], norm=5e4), CHANCE, 5) is None
    assert not_learning(_rows([0.5] * 5, norm=5e3), CHANCE, 5) is None


def test_chance_levels_and_windows() -> None:
    y3 = torch.tensor([0, 1, 2, 2])
    assert Objective("multiclass", "auto", 3, None).chance_loss(y3) == pytest.approx(math.log(3))
    y2 = torch.tensor([0, 1, 1])
    assert Objective("binary", "auto", 1, None).chance_loss(y2) == pytest.approx(math.log(2))
    yr = torch.tensor([1.0, 2.0, 3.0, 6.0])
    assert Objective("regression", "mse", 1, None).chance_loss(yr) == pytest.approx(
        float(yr.var(unbiased=False))
    )
    assert [window_for(n) for n in (3, 20, 50, 200)] == [5, 5, 10, 10]
    # An untrained model well above chance is the level to beat; one near it is chance.
    assert Reference.of(0.69, 2.0, "binary").level == 2.0
    assert Reference.of(0.69, 0.70, "binary").level == 0.69
    assert Reference.of(None, 0.70, "binary").level == 0.70
