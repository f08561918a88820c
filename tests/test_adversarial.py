"""Adversarial debiasing as a training mode: both losses in the epoch rows, the projection
step, and on the hiring data a smaller equalized-odds gap than the same network trained
plainly (averaged over seeds: one seed's gap on a few hundred test rows is noisy)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground.data import load_dataset
from playground.errors import TrainingError
from playground.fairness.groups import groups_for_split
from playground.fairness.metrics import audit_model
from playground.fairness.mitigation_runs import adversarial_request
from playground.fairness.runs import scores_for_run
from playground.fairness.variants import VARIANTS, compare_variants
from playground.runner import load_run
from playground.runs import RunRequest, check_request, run_request
from playground.train import TrainConfig, Trainer
from playground.train.modes.adversarial import predictor_step

MODEL = {"layers": [{"kind": "linear", "out_features": 32}, {"kind": "relu"}, {"kind": "linear"}]}
ADVERSARY = {
    "layers": [{"kind": "linear", "out_features": 16}, {"kind": "relu"}, {"kind": "linear"}]
}
# 4000 rows: 600 test rows, where the plain network's equalized-odds gap is clear of noise.
HIRING = {"n_samples": 4000, "seed": 0}
SEEDS = (0, 1, 2, 3)


def _gaps(model, dataset) -> tuple[float, float]:
    with torch.no_grad():
        scores = torch.softmax(model(dataset.test.x), -1)[:, 1].numpy()
    audit = audit_model(
        dataset.test.y.numpy(), scores, groups_for_split(dataset, "test", "gender"), n_boot=0
    )
    return audit.disparities["equalized_odds_difference"], audit.overall["accuracy"]


def test_adversarial_debiasing_shrinks_the_equalized_odds_gap() -> None:
    dataset = load_dataset("hiring", **HIRING)
    plain, debiased = [], []
    for seed in SEEDS:
        config = TrainConfig(epochs=20, lr=0.01, batch_size=64, seed=seed)
        trainer = Trainer(dataset, config=config, modules={"model": MODEL})
        assert trainer.run().status == "completed"
        plain.append(_gaps(trainer.model, dataset))
        adversarial = Trainer(
            dataset,
            config=config,
            modules={"model": MODEL, "adversary": ADVERSARY},
            mode="adversarial_debiasing",
            mode_options={"attribute": "gender", "weight": 1.0, "goal": "equalized_odds"},
        )
        assert adversarial.run().status == "completed"
        debiased.append(_gaps(adversarial.modules["model"].module, dataset))
        row = adversarial.state.history[-1]
        # Both losses in every epoch row, for the Train page's curves.
        assert {"train_loss", "train_adversary_loss", "val_adversary_loss"} <= set(row)
    plain_gap, plain_acc = np.mean(plain, axis=0)
    gap, acc = np.mean(debiased, axis=0)
    assert plain_gap > 0.15  # the biased labels leave a clear gap
    assert gap < plain_gap - 0.05  # debiasing takes at least 5 points off it, on average
    assert acc > plain_acc - 0.03  # for at most 3 points of accuracy


def test_the_projection_removes_the_part_of_the_step_that_helps_the_adversary() -> None:
    g_p, g_a = torch.tensor([3.0, 4.0, 0.0]), torch.tensor([1.0, 0.0, 0.0])
    # Projection only: the step keeps g_p's part orthogonal to g_a, [0, 4, 0].
    assert predictor_step(g_p, g_a, 0.0).tolist() == pytest.approx([0.0, 4.0, 0.0])
    # Plus alpha g_A against the adversary: [-2, 4, 0] with alpha 2.
    assert predictor_step(g_p, g_a, 2.0).tolist() == pytest.approx([-2.0, 4.0, 0.0])
    assert predictor_step(g_p, g_a, 2.0, projection=False).tolist() == pytest.approx(
        [1.0, 4.0, 0.0]
    )
    # Along the adversary's gradient the step never helps it: (step . g_a) <= 0.
    torch.manual_seed(0)
    for _ in range(20):
        p, a = torch.randn(50), torch.randn(50)
        assert float(predictor_step(p, a, 0.5) @ a) <= 1e-5


def test_the_adversary_at_chance_is_the_entropy_of_the_groups() -> None:
    dataset = load_dataset("hiring", n_samples=400, seed=0)
    trainer = Trainer(
        dataset,
        config=TrainConfig(epochs=1, seed=0),
        modules={"model": MODEL, "adversary": ADVERSARY},
        mode="adversarial_debiasing",
        mode_options={"goal": "demographic_parity"},  # attribute: the first, gender
    )
    share = np.bincount(trainer.mode.s.numpy()) / len(dataset.train)
    assert trainer.mode.groups == ["female", "male"]
    assert trainer.modules["adversary"].input_shape == (1,)  # the output only
    assert trainer.mode.adversary_chance() == pytest.approx(-(share * np.log(share)).sum())


def test_a_variant_request_is_stored_and_audited_like_any_run(store) -> None:
    parent = run_request(
        RunRequest.supervised("hiring", {"n_samples": 600}, MODEL, {"epochs": 3}), store
    )
    request = adversarial_request(store.get_run(parent.run_id), "gender", weight=0.5)
    outcome = run_request(request, store)
    assert outcome.state.status == "completed"
    record = store.get_run(outcome.run_id)
    assert record.mode == "adversarial_debiasing" and record.lineage["variant"] == (
        "adversarial_debiasing"
    )
    y, scores = scores_for_run(load_run(outcome.run_id, store))  # the predictor is "model"
    assert len(y) == len(scores) and 0 <= scores.min() <= scores.max() <= 1
    table = compare_variants(store, parent.run_id, "gender").table
    assert list(table["variant"]) == ["original", VARIANTS["adversarial_debiasing"]]


def test_bad_options_are_refused_before_training() -> None:
    request = RunRequest.parse(
        {
            "dataset": "hiring",
            "dataset_params": {"n_samples": 300},
            "modules": {"model": MODEL, "adversary": ADVERSARY},
            "mode": "adversarial_debiasing",
            "mode_options": {"goal": "parity"},
        }
    )
    with pytest.raises(TrainingError, match="Option 'goal'"):
        check_request(request)
    with pytest.raises(TrainingError, match="needs a sensitive attribute"):
        check_request(
            request.model_copy(
                update={"dataset": "moons", "dataset_params": {}, "mode_options": {}}
            )
        )


def test_the_train_page_draws_both_losses_of_a_debiasing_run(registry) -> None:
    import json

    from tests.app_helpers import open_page, wait_for
    from tests.test_app_analysis import _numbers

    parent = registry.submit(
        RunRequest.supervised("hiring", {"n_samples": 600}, MODEL, {"epochs": 2})
    )
    wait_for(parent)
    job = registry.submit(
        adversarial_request(registry.store.get_run(parent.id), "gender", weight=0.5)
    )
    wait_for(job)
    at = open_page("train", job_id=job.id)
    assert not at.exception
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    chart = next(f for f in figures if any(t.get("name") == "adversary (train)" for t in f["data"]))
    adversary = next(t for t in chart["data"] if t["name"] == "adversary (train)")
    stored = [row["train_adversary_loss"] for row in registry.store.epochs(job.id)]
    assert _numbers(adversary["y"]) == pytest.approx(stored)
