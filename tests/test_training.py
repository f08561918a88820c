"""Training: learning on real data, control from another thread, divergence, determinism."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from playground.data import load_dataset
from playground.errors import TrainingError
from playground.model.shorthand import parse_layers
from playground.train import Callback, RunControl, TrainConfig, Trainer

MLP = parse_layers("linear:32 relu linear:32 relu linear")


def test_seeded_mlp_reaches_95_percent_on_the_spiral() -> None:
    spiral = load_dataset("spiral", seed=0)
    trainer = Trainer(spiral, MLP, TrainConfig(epochs=150, lr=0.01, batch_size=32, seed=0))
    state = trainer.run()
    assert state.status == "completed"
    assert state.final_metrics["test_acc"] >= 0.95
    assert len(state.history) == 150
    first, last = state.history[0], state.history[-1]
    assert last["train_loss"] < first["train_loss"] / 5


def test_small_cnn_on_digits_beats_chance_by_far() -> None:
    digits = load_dataset("digits", seed=0)
    cnn = parse_layers("conv2d:8:3:padding=same relu maxpool2d flatten linear")
    state = Trainer(digits, cnn, TrainConfig(epochs=5, lr=0.01, batch_size=64)).run()
    assert state.status == "completed"
    assert state.final_metrics["test_acc"] > 0.85  # chance is 0.10


def test_lstm_learns_the_long_range_sequence_task() -> None:
    data = load_dataset("long_memory", n_samples=1200, seq_len=12, seed=0)
    state = Trainer(
        data, parse_layers("lstm:32 linear"), TrainConfig(epochs=25, lr=0.01, batch_size=32)
    ).run()
    assert state.status == "completed"
    chance = 1 / len(data.class_names)
    assert state.final_metrics["test_acc"] > 0.9 > chance


def test_regression_reports_r2() -> None:
    plane = load_dataset("plane", seed=0)
    state = Trainer(plane, parse_layers("linear:16 tanh linear"), TrainConfig(epochs=30)).run()
    assert state.final_metrics["test_r2"] > 0.9
    assert "val_r2" in state.history[-1] and "val_acc" not in state.history[-1]


def test_same_seed_same_numbers_and_another_seed_differs(xor) -> None:
    spec = parse_layers("linear:16 relu dropout:0.2 linear")

    def losses(seed: int) -> list[float]:
        state = Trainer(xor, spec, TrainConfig(epochs=4, seed=seed)).run()
        return [row["train_loss"] for row in state.history]

    assert losses(3) == losses(3)
    assert losses(3) != losses(4)


class _StepGate(Callback):
    """Tells the test thread when training reached a given step, and counts steps."""

    def __init__(self, at_step: int) -> None:
        self.at_step = at_step
        self.reached = threading.Event()
        self.steps = 0

    def on_batch_end(self, trainer, loss) -> None:
        self.steps = trainer.state.step
        if self.steps >= self.at_step:
            self.reached.set()
        time.sleep(0.001)  # slow enough for the test thread to act mid-run


def test_pause_resume_and_stop_from_another_thread(xor) -> None:
    control = RunControl()
    gate = _StepGate(at_step=5)
    statuses: list[str] = []

    class Watch(Callback):
        def on_status(self, trainer, status) -> None:
            statuses.append(status)

    trainer = Trainer(
        xor, MLP, TrainConfig(epochs=1000, batch_size=8), callbacks=[gate, Watch()], control=control
    )
    worker = threading.Thread(target=trainer.run)
    worker.start()
    assert gate.reached.wait(10)
    control.pause()
    time.sleep(0.2)
    paused_at = gate.steps
    assert trainer.state.status == "paused"
    time.sleep(0.3)
    assert gate.steps == paused_at  # no step while paused
    assert paused_at - 5 <= 2  # took effect within a step or so of the request
    control.resume()
    time.sleep(0.2)
    assert gate.steps > paused_at
    control.stop()
    requested_at = gate.steps
    worker.join(10)
    assert not worker.is_alive()
    assert trainer.state.status == "stopped"
    assert trainer.state.step - requested_at <= 1
    assert statuses[:3] == ["running", "paused", "running"] and statuses[-1] == "stopped"
    assert "test_acc" in trainer.state.final_metrics  # a stopped run still reports


def test_nan_guard_stops_a_diverging_run() -> None:
    plane = load_dataset("plane", seed=0)
    spec = parse_layers("linear:64 relu linear:64 relu linear")
    config = TrainConfig(optimizer="sgd", lr=5.0, momentum=0.9, epochs=50, record_every=5)
    state = Trainer(plane, spec, config).run()
    assert state.status == "diverged"
    assert "lower learning rate" in state.message and "grad_clip" in state.message
    assert state.epoch < 50


def test_gradient_clipping_keeps_the_same_run_finite() -> None:
    plane = load_dataset("plane", seed=0)
    spec = parse_layers("linear:64 relu linear:64 relu linear")
    config = TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, epochs=5, grad_clip=0.5)
    assert Trainer(plane, spec, config).run().status == "completed"


def test_an_exception_fails_the_run_and_keeps_the_message(xor) -> None:
    class Broken(Callback):
        def on_epoch_end(self, trainer, row) -> None:
            if row["epoch"] == 2:
                raise RuntimeError("disk full")

    state = Trainer(xor, MLP, TrainConfig(epochs=5), callbacks=[Broken()]).run()
    assert state.status == "failed"
    assert "disk full" in state.message
    assert state.epoch == 2


def test_early_stopping_restores_the_best_epoch(xor) -> None:
    config = TrainConfig(epochs=500, lr=0.05, early_stopping_patience=3)
    trainer = Trainer(xor, MLP, config)
    state = trainer.run()
    assert state.status == "completed" and state.epoch < 500
    best = min(row["val_loss"] for row in state.history)
    assert "Early stopping" in state.message
    assert state.final_metrics["val_loss"] == pytest.approx(best, rel=1e-5)


@pytest.mark.parametrize(
    ("schedule", "check"),
    [
        ("step", lambda lrs: lrs[0] == 0.01 and lrs[2] == 0.005),
        ("exponential", lambda lrs: lrs[1] == pytest.approx(0.005)),
        ("cosine", lambda lrs: lrs[0] > lrs[2] > lrs[3]),
        ("plateau", lambda lrs: lrs[0] == 0.01),
        ("onecycle", lambda lrs: lrs[0] < 0.01 and max(lrs) > lrs[-1]),
    ],
)
def test_learning_rate_schedules(xor, schedule, check) -> None:
    config = TrainConfig(epochs=4, lr=0.01, schedule=schedule, step_size=2, gamma=0.5)
    state = Trainer(xor, MLP, config).run()
    lrs = [row["lr"] for row in state.history]
    assert check(lrs), lrs


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_every_optimizer_lowers_the_loss(xor, optimizer) -> None:
    config = TrainConfig(
        optimizer=optimizer,
        lr=0.01 if optimizer != "sgd" else 0.1,
        epochs=8,
        nesterov=optimizer == "sgd",
    )
    state = Trainer(xor, MLP, config).run()
    assert state.history[-1]["train_loss"] < state.history[0]["train_loss"]


def test_gradient_weight_norms_and_dead_relu_are_recorded(xor) -> None:
    state = Trainer(xor, MLP, TrainConfig(epochs=2, record_every=5)).run()
    row = state.history[-1]
    assert set(row["grad_norms"]) == {"0", "2", "4"}  # layers with parameters, by spec index
    assert all(v > 0 for v in row["weight_norms"].values())
    assert set(row["dead_relu"]) == {"1", "3"} and all(
        0 <= v <= 1 for v in row["dead_relu"].values()
    )
    assert [r["step"] for r in state.records] == list(range(5, state.step + 1, 5))


def test_dead_relu_fraction_sees_a_dead_layer(xor) -> None:
    spec = parse_layers("linear:16:init=zeros relu linear")
    trainer = Trainer(xor, spec, TrainConfig(epochs=1, lr=1e-6))
    with torch.no_grad():
        trainer.model[0].bias.fill_(-1.0)  # every pre-activation negative: all units dead
    state = trainer.run()
    assert state.history[0]["dead_relu"]["1"] == 1.0


def test_l1_penalty_shrinks_weights(xor) -> None:
    def weight_norm(l1: float) -> float:
        state = Trainer(xor, MLP, TrainConfig(epochs=10, l1=l1)).run()
        return sum(state.history[-1]["weight_norms"].values())

    assert weight_norm(0.01) < 0.8 * weight_norm(0.0)


def test_class_weighting_weighs_the_rare_class_up() -> None:
    from playground.train.objectives import class_weights_for

    weights = class_weights_for(torch.tensor([0, 0, 0, 1]), 2)
    assert weights.tolist() == pytest.approx([4 / 6, 2.0])
    data = load_dataset("breast_cancer", seed=0)
    state = Trainer(data, MLP, TrainConfig(epochs=3, class_weighting=True)).run()
    assert state.status == "completed"


def test_bce_loss_with_one_output(xor) -> None:
    state = Trainer(
        xor, parse_layers("linear:16 relu linear:1"), TrainConfig(epochs=30, lr=0.03)
    ).run()
    assert state.final_metrics["test_acc"] > 0.8


def test_bad_training_options_are_clear(xor) -> None:
    with pytest.raises(TrainingError, match="'lr'"):
        TrainConfig.parse({"lr": -1})
    with pytest.raises(TrainingError, match="not available"):
        Trainer(xor, MLP, TrainConfig(device="cuda" if not torch.cuda.is_available() else "mps"))
    with pytest.raises(TrainingError, match="does not fit a binary task"):
        Trainer(xor, MLP, TrainConfig(loss="mse"))
    with pytest.raises(TrainingError, match="Nesterov"):
        Trainer(xor, MLP, TrainConfig(optimizer="sgd", momentum=0.0, nesterov=True))


def test_one_step_per_click_takes_exactly_one_step_and_pauses_again(xor) -> None:
    control = RunControl()
    gate = _StepGate(at_step=3)
    trainer = Trainer(
        xor, MLP, TrainConfig(epochs=1000, batch_size=8), callbacks=[gate], control=control
    )
    worker = threading.Thread(target=trainer.run)
    worker.start()
    assert gate.reached.wait(10)
    control.pause()
    time.sleep(0.2)
    held = trainer.state.step
    for click in range(1, 4):
        control.step_once()
        time.sleep(0.2)
        assert trainer.state.step == held + click  # one step per click, no more
        assert trainer.state.status == "paused" and control.paused
    control.stop()
    worker.join(10)
    assert trainer.state.status == "stopped"
