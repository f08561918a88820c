"""Ensembles trained at once (torch.func): the same members as trained one by one, stored and
reloaded whole, their disagreement over the plane, the charts' numbers, the CLI and the page."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from torch import nn

from playground.analysis.boundary import decision_grid
from playground.analysis.ensemble import disagreement_grid, ensemble_scores
from playground.charts.ensemble import disagreement_map, ensemble_vs_members
from playground.data.dataset import Dataset
from playground.errors import TrainingError
from playground.model.build import DataSignature, build_model
from playground.model.shorthand import parse_layers
from playground.runner import load_run
from playground.runs import RunRequest, check_request, run_request
from playground.store import RunStore
from playground.train import TrainConfig, Trainer
from playground.train.modes.ensemble import (
    MemberStack,
    bootstrap_rows,
    combine_outputs,
    member_seeds,
)
from playground.train.objectives import Objective
from playground.train.optimizers import make_optimizer
from tests.app_helpers import open_page, wait_for

MLP = {"layers": [{"kind": "linear", "out_features": 8}, {"kind": "tanh"}, {"kind": "linear"}]}
# Not a flat stack of Linear and activations: its members run through torch.func's vmap.
RESIDUAL = parse_layers("linear:8 tanh residual[linear:8 tanh linear:8] linear").model_dump()
MOONS = {"name": "moons", "params": {"n_samples": 200}}


def _alone(
    dataset: Dataset, spec: dict, config: TrainConfig, seed: int, rows: torch.Tensor | None
) -> nn.Module:
    """One member trained by hand, as a model of its own: same init seed, same shuffles
    (the trainer's generator), its bootstrap rows, clip_grad_norm_ on its own gradients."""
    torch.manual_seed(seed)
    built = build_model(spec, DataSignature.of(dataset))
    model = built.module
    optimizer = make_optimizer(list(model.parameters()), config)
    objective = Objective(dataset.task, config.loss, built.output_shape[0], None)
    x, y = dataset.train.x, dataset.train.y
    if rows is not None:
        x, y = x[rows], y[rows]
    shuffle = torch.Generator().manual_seed(config.seed)
    for _ in range(config.epochs):
        order = torch.randperm(len(y), generator=shuffle)
        for start in range(0, len(y), config.batch_size):
            idx = order[start : start + config.batch_size]
            loss = objective.loss(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            if config.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
    return model


@pytest.mark.parametrize(
    ("spec", "options", "bootstrap"),
    [
        (MLP, {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "l2": 0.001}, False),
        (MLP, {"optimizer": "adam", "lr": 0.02, "grad_clip": 0.05}, True),
        (RESIDUAL, {"optimizer": "adam", "lr": 0.02, "grad_clip": 0.05}, True),
    ],
)
def test_vmapped_members_equal_the_same_members_trained_one_by_one(
    xor: Dataset, spec: dict, options: dict, bootstrap: bool
) -> None:
    config = TrainConfig(epochs=3, batch_size=32, seed=4, stop_when_not_learning=False, **options)
    members = 3
    trainer = Trainer(
        xor,
        spec,
        config,
        mode="ensemble",
        mode_options={"members": members, "bootstrap": bootstrap},
    )
    assert trainer.run().status == "completed"
    stack = trainer.model
    assert isinstance(stack, MemberStack)
    assert stack._dense == (spec is MLP)  # both ways of running the members are covered
    rows = bootstrap_rows(config.seed, members, len(xor.train)) if bootstrap else None
    x = xor.test.x
    for k, seed in enumerate(member_seeds(config.seed, members)):
        alone = _alone(xor, spec, config, seed, None if rows is None else rows[k])
        mine = stack.member(k)
        for (name, p), q in zip(alone.named_parameters(), mine.parameters(), strict=True):
            assert torch.allclose(p, q, atol=1e-5), (k, name, (p - q).abs().max())
        # Trained: the weights moved away from the member's own initial ones.
        torch.manual_seed(seed)
        start = build_model(spec, DataSignature.of(xor)).module
        assert not torch.allclose(start[0].weight, mine[0].weight, atol=1e-3)
        assert torch.allclose(alone(x), mine(x), atol=1e-5)
    # The members differ (own seeds), and the ensemble's output is their mean probability.
    outs = stack.member_outputs(x)
    assert (outs[0] - outs[1]).abs().max() > 1e-2
    mean_p = torch.softmax(outs, dim=-1).mean(dim=0)
    assert torch.allclose(torch.softmax(stack(x), dim=-1), mean_p, atol=1e-6)
    if stack._dense:  # the batched-matmul shortcut gives what vmap gives
        stack._dense = False
        assert torch.allclose(stack.member_outputs(x), outs, atol=1e-6)


def test_member_zero_is_the_supervised_run_with_the_same_seed(xor: Dataset) -> None:
    config = TrainConfig(epochs=2, seed=7, stop_when_not_learning=False)
    single = Trainer(xor, MLP, config)
    single.run()
    ensemble = Trainer(xor, MLP, config, mode="ensemble", mode_options={"members": 2})
    ensemble.run()
    x = xor.val.x
    assert torch.allclose(single.model(x), ensemble.model.member(0)(x), atol=1e-5)
    assert not torch.allclose(single.model(x), ensemble.model.member(1)(x), atol=1e-3)


def test_combining_members_is_stable_and_means_probabilities() -> None:
    logits = torch.tensor([[[50.0], [-3.0]], [[-50.0], [1.0]], [[0.0], [2.0]]])  # (K=3, B=2, 1)
    combined = combine_outputs(logits, "sigmoid")
    assert torch.isfinite(combined).all()
    expected = torch.sigmoid(logits[..., 0]).mean(dim=0)
    assert torch.allclose(torch.sigmoid(combined[:, 0]), expected, atol=1e-6)
    values = torch.tensor([[[1.0]], [[3.0]]])
    assert combine_outputs(values, "mean").item() == pytest.approx(2.0)


def test_a_stored_ensemble_reloads_every_member_and_predicts_the_same(store: RunStore) -> None:
    request = RunRequest.parse(
        {
            "dataset": "moons",
            "dataset_params": {"n_samples": 200},
            "modules": {"model": MLP},
            "config": {"epochs": 3, "seed": 1},
            "mode": "ensemble",
            "mode_options": {"members": 4, "bootstrap": True},
        }
    )
    outcome = run_request(request, store)
    assert outcome.state.status == "completed"
    metrics = store.get_run(outcome.run_id).final_metrics
    loaded = load_run(outcome.run_id, store)
    stack = loaded.model
    assert isinstance(stack, MemberStack) and stack.members == 4
    assert stack[0].weight.shape == (4, 8, 2)  # every member's weights, stacked
    test = loaded.dataset.test
    with torch.no_grad():
        ensemble_acc = (stack(test.x).argmax(1) == test.y).float().mean().item()
        member_accs = [
            (stack.member(k)(test.x).argmax(1) == test.y).float().mean().item() for k in range(4)
        ]
    assert ensemble_acc == pytest.approx(metrics["test_acc"])
    assert member_accs == pytest.approx([metrics[f"test_member{k}_acc"] for k in range(4)])
    scores = ensemble_scores(metrics, "test", "acc")
    assert scores.members == pytest.approx(member_accs)
    # The chart plots exactly these numbers, members first, the ensemble last.
    fig = ensemble_vs_members(scores)
    assert list(fig.data[0].y) == pytest.approx([*member_accs, ensemble_acc])
    assert fig.data[0].x[-1] == "ensemble"
    assert fig.data[1].y[0] == pytest.approx(np.mean(member_accs))

    # Disagreement over the plane: one batched pass, numbers checked against each member.
    grid = disagreement_grid(stack, loaded.dataset, resolution=12)
    assert grid.disagreement.shape == (12, 12)
    assert np.allclose(grid.ensemble.values, decision_grid(stack, loaded.dataset, 12).values)
    point = torch.tensor([[grid.ensemble.xs[3], grid.ensemble.ys[5]]], dtype=torch.float32)
    with torch.no_grad():
        p1 = [torch.softmax(stack.member(k)(point), dim=1)[0, 1].item() for k in range(4)]
    assert grid.disagreement[5, 3] == pytest.approx(np.std(p1), abs=1e-5)
    assert grid.disagreement.min() >= 0 and grid.disagreement.max() <= 0.5
    assert grid.disagreement.max() > 0.01  # bootstrapped members do not all agree
    figure = disagreement_map(grid, loaded.dataset)
    assert np.allclose(np.asarray(figure.data[0].z), grid.disagreement)
    assert figure.data[1].name == "ensemble boundary"


@pytest.mark.parametrize(
    ("layers", "options", "says"),
    [
        (MLP["layers"], {"members": 0}, "members"),
        (MLP["layers"], {"trees": 3}, "no option 'trees'"),
        (MLP["layers"], {"bootstrap": "yes"}, "bootstrap"),
        ([{"kind": "lstm", "hidden_size": 4}, {"kind": "linear"}], {}, "recurrent"),
        (
            [{"kind": "linear", "out_features": 4}, {"kind": "batchnorm1d"}, {"kind": "linear"}],
            {},
            "running statistics",
        ),
    ],
)
def test_what_cannot_be_an_ensemble_is_refused_before_anything_runs(
    layers: list, options: dict, says: str
) -> None:
    dataset = "sine" if layers[0]["kind"] == "lstm" else "moons"
    request = RunRequest.parse(
        {
            "dataset": dataset,
            "modules": {"model": {"layers": layers}},
            "mode": "ensemble",
            "mode_options": options,
        }
    )
    with pytest.raises(TrainingError, match=says):
        check_request(request)


def test_the_cli_trains_an_ensemble_and_prints_every_members_score(tmp_path, capsys) -> None:
    from playground.cli_ensemble import register

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=lambda p: tmp_path / p, default=tmp_path / "d")
    register(parser.add_subparsers(required=True))
    argv = ["ensemble", "--dataset", "moons", "--param", "n_samples=200", "--members", "3"]
    argv += ["--layers", "linear:8 relu linear", "--epochs", "2", "--quiet", "--bootstrap"]
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    out = capsys.readouterr().out
    record = RunStore(tmp_path / "d").list_runs()[0]
    assert record.mode == "ensemble" and record.request["mode_options"]["bootstrap"] is True
    lines = out.splitlines()
    header = ["ensemble", "member", "1", "member", "2", "member", "3"]
    assert any(line.split() == header for line in lines)
    for split in ("train", "val", "test"):
        row = next(line for line in lines if line.startswith(f"{split} acc "))
        printed = [float(v) for v in row.split()[2:]]
        stored = [record.final_metrics[f"{split}_acc"]] + [
            record.final_metrics[f"{split}_member{k}_acc"] for k in range(3)
        ]
        assert printed == pytest.approx(stored, abs=5e-5)


def test_the_page_trains_an_ensemble_in_a_worker_and_shows_its_charts(registry) -> None:
    at = open_page("ensembles", dataset=MOONS, layers=MLP["layers"], config={"epochs": 2})
    assert at.title[0].value == "Ensembles & CV"
    at.number_input(key="ens_members").set_value(3)
    at.button(key="ens_start").click().run()
    assert not at.exception, at.exception
    job = registry.get(at.session_state["ens_job"])
    assert job is not None  # submitted to the executor: the page never trains
    wait_for(job)
    at.run()
    assert not at.exception, at.exception
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    record = registry.store.get_run(job.id)
    assert record.mode == "ensemble"
    bars = next(f for f in figures if f["data"][0]["type"] == "bar")
    expected = [record.final_metrics[f"val_member{k}_acc"] for k in range(3)]
    assert bars["data"][0]["y"] == pytest.approx([*expected, record.final_metrics["val_acc"]])
    assert any(f["data"][0]["type"] == "heatmap" for f in figures)  # the disagreement map


def test_inspect_explains_why_an_ensemble_has_no_layer_activations(registry) -> None:
    from tests.app_helpers import open_page, wait_for
    from tests.test_app_analysis import _numbers

    job = registry.submit(
        RunRequest.parse(
            {
                "dataset": "spiral",
                "dataset_params": {"n_samples": 300},
                "modules": {
                    "model": {
                        "layers": [
                            {"kind": "linear", "out_features": 8},
                            {"kind": "relu"},
                            {"kind": "linear"},
                        ]
                    }
                },
                "mode": "ensemble",
                "mode_options": {"members": 3},
                "config": {"epochs": 2},
            }
        )
    )
    wait_for(job)
    at = open_page("inspect", job_id=job.id)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Weights & gradients", "Evaluation"]
    assert any("stacked model" in i.value for i in at.info)
    # The evaluation is the ensemble's: a 2x2 confusion matrix whose rows are recalls.
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]

    def values(trace: dict) -> np.ndarray:
        z = trace["z"]
        return np.asarray([_numbers(r) for r in z] if isinstance(z, list) else _numbers(z))

    heatmaps = [values(t) for f in figures for t in f["data"] if t.get("type") == "heatmap"]
    matrix = next(v for v in heatmaps if v.size == 4).reshape(2, 2)
    assert np.allclose(matrix.sum(axis=1), 1.0)
