"""Training modes and run requests: the supervised step, a two-module mode that trains,
stores and loads both modules, requests as JSON, and the layering the engine keeps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from playground.errors import SpecError, TrainingError
from playground.runner import load_run
from playground.runs import RunRequest, StartFrom, check_request, run_request
from playground.store import RunStore
from playground.train import TrainConfig, Trainer
from playground.train.modes import MODES, TrainingMode
from tests.run_helpers import Grab

ROOT = Path(__file__).resolve().parents[1]
ENCODER = [{"kind": "linear", "out_features": 32}, {"kind": "relu"}, {"kind": "linear"}]
HEAD = [{"kind": "linear", "out_features": 16}, {"kind": "relu"}, {"kind": "linear"}]


def two_module_request(**fields) -> RunRequest:
    return RunRequest.parse(
        {
            "dataset": "moons",
            "dataset_params": {"n_samples": 400},
            "modules": {"encoder": ENCODER, "head": HEAD},
            "mode": "alternating",
            "mode_options": {"features": 6},
            "config": {"epochs": 40, "lr": 0.01, "seed": 1},
            "module_configs": {"head": {"optimizer": "sgd", "lr": 0.05}},
            **fields,
        }
    )


def test_modes_are_a_registry_of_training_modes() -> None:
    assert {"supervised", "alternating"} <= set(MODES)
    assert all(issubclass(m, TrainingMode) and m.name == n for n, m in MODES.items())
    with pytest.raises(TrainingError, match="Unknown training mode 'diffusion'"):
        check_request(RunRequest.supervised("xor", {}, ENCODER, mode="diffusion"))


def test_a_two_module_mode_trains_stores_and_loads_both_modules(store: RunStore) -> None:
    grab = Grab()
    outcome = run_request(two_module_request(), store, callbacks=[grab])
    trainer = grab.trainer
    assert outcome.state.status == "completed"
    # Each module has its own optimiser with its own options.
    assert type(trainer.optimizers["encoder"]).__name__ == "Adam"
    assert type(trainer.optimizers["head"]).__name__ == "SGD"
    assert trainer.optimizers["head"].param_groups[0]["lr"] == 0.05
    # The encoder's output width comes from the mode's options, the head follows it.
    assert trainer.modules["encoder"].output_shape == (6,)
    assert trainer.modules["head"].input_shape == (6,)
    # Scores of the mode's own beside accuracy, and gradient norms per module's layer.
    row = store.epochs(outcome.run_id)[-1]
    assert {"train_encoder_loss", "train_head_loss", "val_acc"} <= set(row)
    assert {"encoder.0", "encoder.2", "head.0", "head.2"} == set(row["grad_norms"])
    assert outcome.state.final_metrics["test_acc"] > 0.8  # both halves learned

    record = store.get_run(outcome.run_id)
    assert record.mode == "alternating" and set(record.modules) == {"encoder", "head"}
    loaded = load_run(outcome.run_id, store)
    assert set(loaded.modules) == {"encoder", "head"}
    for name in ("encoder", "head"):
        for key, value in trainer.modules[name].module.state_dict().items():
            assert torch.equal(loaded.modules[name].module.state_dict()[key], value.cpu())
    x = loaded.dataset.test.x
    with torch.no_grad():
        pred = loaded.modules["head"].module(loaded.modules["encoder"].module(x)).argmax(-1)
    accuracy = float((pred == loaded.dataset.test.y).float().mean())
    assert accuracy == pytest.approx(outcome.state.final_metrics["test_acc"])


def test_the_alternating_step_moves_one_module_at_a_time(xor) -> None:
    trainer = Trainer(
        xor,
        modules={"encoder": ENCODER, "head": HEAD},
        mode="alternating",
        config=TrainConfig(epochs=1, batch_size=len(xor.train)),  # one step
    )
    encoder_before = [p.clone() for p in trainer.modules["encoder"].module.parameters()]
    head_before = [p.clone() for p in trainer.modules["head"].module.parameters()]
    trainer.run()  # step 0 trains the head only
    assert all(
        torch.equal(a, b)
        for a, b in zip(encoder_before, trainer.modules["encoder"].module.parameters(), strict=True)
    )
    assert not all(
        torch.equal(a, b)
        for a, b in zip(head_before, trainer.modules["head"].module.parameters(), strict=True)
    )


def test_a_request_names_what_is_wrong_before_anything_is_stored(store: RunStore) -> None:
    with pytest.raises(TrainingError, match="trains the modules encoder, head"):
        check_request(two_module_request(modules={"encoder": ENCODER}))
    with pytest.raises(SpecError, match="Encoder layer 0"):
        check_request(
            two_module_request(
                mode_options={"features": 6},
                modules={"encoder": [{"kind": "conv2d"}], "head": HEAD},
            )
        )
    with pytest.raises(TrainingError, match="not a module of this run"):
        check_request(two_module_request(module_configs={"decoder": {"lr": 0.1}}))
    with pytest.raises(TrainingError, match="Training option 'lr'"):
        check_request(two_module_request(module_configs={"head": {"lr": -1}}))
    with pytest.raises(TrainingError, match="Run request field 'colour'"):
        RunRequest.parse({"dataset": "xor", "modules": {"model": HEAD}, "colour": "red"})
    assert store.list_runs() == []


def test_a_request_round_trips_through_json_and_is_stored_with_its_run(store: RunStore) -> None:
    request = two_module_request(name="two <modules>", lineage={"sweep": "s1", "trial": 3})
    assert RunRequest.from_json(request.to_json()) == request
    outcome = run_request(request, store)
    record = store.get_run(outcome.run_id)
    assert RunRequest.parse(record.request) == request
    assert record.name == "two <modules>" and record.lineage == {"sweep": "s1", "trial": 3}


def test_a_run_can_start_from_a_stored_runs_weights(store: RunStore) -> None:
    first = run_request(
        RunRequest.supervised("xor", {"n_samples": 200}, HEAD, {"epochs": 30}), store
    )
    trained = load_run(first.run_id, store)
    grab = Grab()
    request = RunRequest.supervised(
        "xor",
        {"n_samples": 200},
        HEAD,
        {"epochs": 1, "lr": 1e-9},  # barely moves: the start is what we see
        start_from=StartFrom(run_id=first.run_id),
        lineage={"parent": first.run_id, "variant": "fine_tune"},
    )
    second = run_request(request, store, callbacks=[grab])
    assert second.state.final_metrics["test_acc"] == pytest.approx(
        first.state.final_metrics["test_acc"], abs=0.02
    )
    weight = grab.trainer.model[0].weight
    assert torch.allclose(weight, trained.model[0].weight, atol=1e-6)


def test_the_store_and_trainer_keep_their_layering() -> None:
    # The trainer takes sample weights; it does not reach into the fairness package.
    code = (
        "import sys, playground.train.trainer;"
        "bad = [m for m in sys.modules if m.startswith('playground.fairness')];"
        "assert not bad, bad; print('ok')"
    )
    # The store knows nothing of training: what it stores arrives as plain RunUpdates.
    store_only = (
        "import sys, playground.store;"
        "bad = [m for m in sys.modules if m.startswith(('playground.train', 'playground.runs'))];"
        "assert not bad, bad; print('ok')"
    )
    for snippet in (code, store_only):
        out = subprocess.run(
            [sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert out.stdout.strip() == "ok", out.stderr
