"""Mitigation: reweighing weights and weighted training, and on the synthetic hiring data
with its injected bias: the audit finds the bias, and reweighing, dropping the attribute and
ThresholdOptimizer post-processing each reduce it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from playground.cli import main
from playground.data import load_dataset
from playground.errors import PlaygroundError, TrainingError
from playground.fairness import (
    audit_model,
    audit_predictions,
    groups_for_split,
    reweighing_weights,
    threshold_optimizer,
)
from playground.model.shorthand import parse_layers
from playground.runner import load_run, predict_logits
from playground.runs import RunRequest, build_trainer, check_request
from playground.train import TrainConfig, Trainer
from playground.train.objectives import Objective
from tests.run_helpers import train_stored

MLP = parse_layers("linear:32 relu linear")
FAST = {"epochs": 10, "lr": 0.01, "batch_size": 64, "seed": 0}


def test_reweighing_weights_follow_the_formula_and_balance_labels() -> None:
    groups = pd.Series(["a", "a", "a", "a", "b", "b"])
    y = np.array([1, 1, 1, 0, 1, 0])
    w = reweighing_weights(groups, y)
    # P(a)=4/6, P(b)=2/6, P(y=1)=4/6, P(y=0)=2/6; P(a,1)=3/6, P(a,0)=1/6, P(b,1)=1/6, P(b,0)=1/6.
    expected = {
        ("a", 1): (4 / 6) * (4 / 6) / (3 / 6),
        ("a", 0): (4 / 6) * (2 / 6) / (1 / 6),
        ("b", 1): (2 / 6) * (4 / 6) / (1 / 6),
        ("b", 0): (2 / 6) * (2 / 6) / (1 / 6),
    }
    np.testing.assert_allclose(w, [expected[(g, int(v))] for g, v in zip(groups, y, strict=True)])
    assert w.mean() == pytest.approx(1.0)
    # Weighted, every group has the overall positive rate.
    for g in ("a", "b"):
        rows = (groups == g).to_numpy()
        assert np.average(y[rows], weights=w[rows]) == pytest.approx(y.mean())


@pytest.mark.parametrize("layers", ["linear:4", "linear:1"])  # cross-entropy and BCE
def test_weighted_loss_with_unit_weights_is_the_plain_loss(layers: str) -> None:
    width = int(layers.split(":")[1])
    torch.manual_seed(0)
    out, y = torch.randn(16, width), torch.randint(0, 2 if width == 1 else 4, (16,))
    objective = Objective("binary" if width == 1 else "multiclass", "auto", width, None)
    plain = objective.loss(out, y)
    assert objective.weighted_loss(out, y, torch.ones(16)) == pytest.approx(float(plain))
    weights = torch.zeros(16)
    weights[0] = 16.0  # all the weight on the first sample
    one = objective.loss(out[:1], y[:1])
    assert objective.weighted_loss(out, y, weights) == pytest.approx(float(one), rel=1e-5)


def test_reweigh_is_stored_reloaded_and_checked_before_training(store) -> None:
    params = {"n_samples": 400}
    outcome, trainer = train_stored(
        "hiring", params, MLP, {"epochs": 2, "reweigh": "gender"}, store
    )
    assert trainer.sample_weights is not None
    assert trainer.sample_weights.shape == (len(trainer.dataset.train),)
    assert outcome.state.status == "completed"
    assert load_run(outcome.run_id, store).config.reweigh == "gender"
    plain = build_trainer(RunRequest.supervised("hiring", params, MLP, {"epochs": 1}))
    assert plain.sample_weights is None
    before = len(store.list_runs())
    with pytest.raises(TrainingError, match="not a sensitive attribute"):
        check_request(RunRequest.supervised("hiring", params, MLP, {"reweigh": "skill"}))
    with pytest.raises(TrainingError, match="no sensitive attributes"):
        check_request(RunRequest.supervised("spiral", {}, MLP, {"reweigh": "sex"}))
    with pytest.raises(TrainingError, match="classification"):
        check_request(RunRequest.supervised("plane", {}, MLP, {"reweigh": "sex"}))
    with pytest.raises(TrainingError, match="needs its sample weights"):
        Trainer(load_dataset("hiring", **params), MLP, TrainConfig(reweigh="gender"))
    assert len(store.list_runs()) == before  # nothing half-made was stored


def test_cli_takes_the_reweigh_flag(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--data-dir", str(tmp_path), "train", "--dataset", "hiring", "--param", "n_samples=300"]
    args += ["--layers", "linear:8 relu linear", "--epochs", "1", "--quiet"]
    assert main([*args, "--reweigh", "gender"]) == 0
    out = capsys.readouterr().out
    run_id = out.strip().splitlines()[-1].removeprefix("run id: ")
    assert main(["--data-dir", str(tmp_path), "show", run_id]) == 0
    assert '"reweigh": "gender"' in capsys.readouterr().out
    assert main([*args, "--reweigh", "height"]) == 2
    assert "reweigh='height'" in capsys.readouterr().err


def _test_scores(trainer: Trainer, split: str = "test") -> np.ndarray:
    logits = predict_logits(trainer.model, trainer.dataset.split(split).x)
    return torch.softmax(logits, -1)[:, 1].numpy()


@pytest.fixture(scope="module")
def hiring_baseline() -> tuple[Trainer, pd.Series, np.ndarray]:
    data = load_dataset("hiring")
    trainer = Trainer(data, MLP, TrainConfig(**FAST))
    assert trainer.run().status == "completed"
    return trainer, groups_for_split(data, "test", "gender"), data.test.y.numpy()


def test_audit_finds_the_injected_bias(hiring_baseline) -> None:
    trainer, groups, y = hiring_baseline
    audit = audit_model(y, _test_scores(trainer), groups, n_boot=200)
    assert audit.overall["accuracy"] > 0.8
    assert audit.disparities["demographic_parity_difference"] > 0.15
    by = audit.by_group
    assert by.loc["female", "selection_rate"] < by.loc["male", "selection_rate"]
    # The gap is not chance: the two groups' intervals do not overlap.
    assert by.loc["female", "selection_rate_ci_high"] < by.loc["male", "selection_rate_ci_low"]
    assert audit.disparity_ci["demographic_parity_difference"][0] > 0.1


def test_reweighing_reduces_the_gap_and_keeps_accuracy(hiring_baseline) -> None:
    base, groups, y = hiring_baseline
    before = audit_model(y, _test_scores(base), groups, n_boot=0)
    reweighed = build_trainer(
        RunRequest.supervised("hiring", {}, MLP, {**FAST, "reweigh": "gender"}), base.dataset
    )
    assert reweighed.run().status == "completed"
    after = audit_model(y, _test_scores(reweighed), groups, n_boot=0)
    dp = "demographic_parity_difference"
    assert after.disparities[dp] < before.disparities[dp] - 0.05
    assert abs(after.overall["accuracy"] - before.overall["accuracy"]) < 0.05


def test_dropping_gender_alone_narrows_the_gap(hiring_baseline) -> None:
    base, groups, y = hiring_baseline
    before = audit_model(y, _test_scores(base), groups, n_boot=0)
    blind = Trainer(load_dataset("hiring", drop_columns=("gender",)), MLP, TrainConfig(**FAST))
    assert blind.run().status == "completed"
    assert "gender=female" not in blind.dataset.feature_names
    after = audit_model(y, _test_scores(blind), groups, n_boot=0)
    dp = "demographic_parity_difference"
    assert after.disparities[dp] < before.disparities[dp]


def test_threshold_optimizer_fitted_on_validation_reduces_the_gap_on_test(hiring_baseline) -> None:
    base, groups, y = hiring_baseline
    data = base.dataset
    post = threshold_optimizer(
        data.val.y.numpy(),
        _test_scores(base, "val"),
        groups_for_split(data, "val", "gender"),
        constraint="demographic_parity",
        seed=0,
    )
    scores = _test_scores(base)
    pred = post.apply(scores, groups)
    assert (pred == post.apply(scores, groups)).all()  # seeded: same predictions again
    assert set(post.rules()) == {"female", "male"}
    before = audit_model(y, scores, groups, n_boot=0)
    after = audit_predictions(y, pred, groups, n_boot=0)
    dp = "demographic_parity_difference"
    assert after.disparities[dp] < before.disparities[dp] / 2
    assert after.overall["accuracy"] > before.overall["accuracy"] - 0.1
    eo = threshold_optimizer(
        data.val.y.numpy(),
        _test_scores(base, "val"),
        groups_for_split(data, "val", "gender"),
        constraint="equalized_odds",
    )
    assert set(np.unique(eo.apply(scores, groups))) <= {0, 1}
    with pytest.raises(PlaygroundError, match="did not occur"):
        post.apply(scores[:3], pd.Series(["female", "male", "other"]))
