"""K-fold cross-validation: the folds partition the pooled rows, the runs carry their lineage,
the summary's mean and std are the runs' own final scores, the CLI and the page."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch

from playground.charts.ensemble import fold_curves, fold_scores
from playground.data import load_dataset
from playground.data.folds import fold_assignment
from playground.errors import DatasetError
from playground.runs import RunRequest
from playground.runs.cross_validation import (
    fold_requests,
    run_cross_validation,
    summarise,
    summarise_runs,
)
from playground.store import RunStore
from tests.app_helpers import open_page, wait_for

MLP = {"layers": [{"kind": "linear", "out_features": 8}, {"kind": "relu"}, {"kind": "linear"}]}


def _keys(x: torch.Tensor) -> list[tuple[float, ...]]:
    return [tuple(row) for row in x.flatten(1).tolist()]


@pytest.mark.parametrize(("name", "params"), [("moons", {"n_samples": 120}), ("wine", {})])
def test_every_pooled_row_validates_exactly_once_and_never_trains_its_own_fold(
    name: str, params: dict
) -> None:
    folds = 4
    plain = load_dataset(name, **params)
    pooled = _keys(torch.cat([plain.train.x, plain.val.x]))
    assert len(set(pooled)) == len(pooled)  # rows are told apart by their features
    validated: list[tuple[float, ...]] = []
    for fold in range(folds):
        ds = load_dataset(name, **params, folds=folds, fold=fold)
        train, val = _keys(ds.train.x), _keys(ds.val.x)
        assert not set(train) & set(val)
        assert sorted(train + val) == sorted(pooled)
        assert torch.equal(ds.test.x, plain.test.x)  # the test split is untouched
        validated += val
        # Stratified: each class's share of the fold within one row of its share overall.
        classes = len(plain.class_names or [])
        counts = np.bincount(ds.val.y.numpy(), minlength=classes)
        overall = np.bincount(torch.cat([plain.train.y, plain.val.y]).numpy(), minlength=classes)
        assert np.all(np.abs(counts - overall / folds) <= 1)
    assert sorted(validated) == sorted(pooled)


def test_raw_and_sensitive_columns_follow_their_rows() -> None:
    plain = load_dataset("hiring", n_samples=300)
    assert plain.train.raw is not None and plain.train.sensitive is not None

    def rows(split) -> dict[tuple[float, ...], tuple]:
        raw = split.raw.astype(str).to_numpy()
        sensitive = split.sensitive.astype(str).to_numpy()
        return {
            k: (tuple(r), tuple(s)) for k, r, s in zip(_keys(split.x), raw, sensitive, strict=True)
        }

    truth = {**rows(plain.train), **rows(plain.val)}
    ds = load_dataset("hiring", n_samples=300, folds=3, fold=2)
    for split in (ds.train, ds.val):
        assert len(split.raw) == len(split.sensitive) == len(split)
        for key, value in rows(split).items():
            assert truth[key] == value


def test_fold_assignment_is_seeded_and_balanced() -> None:
    y = np.array([0] * 10 + [1] * 5)
    a = fold_assignment(y, 3, seed=1, stratify=True)
    assert np.array_equal(a, fold_assignment(y, 3, seed=1, stratify=True))
    assert not np.array_equal(a, fold_assignment(y, 3, seed=2, stratify=True))
    assert sorted(np.bincount(a)) == [5, 5, 5]
    assert all(
        sorted(np.bincount(a[y == c], minlength=3)) in ([3, 3, 4], [1, 2, 2]) for c in (0, 1)
    )


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"fold": 1}, "needs 'folds'"),
        ({"folds": 3, "fold": 3}, "from 0 to 2"),
        ({"folds": 1}, "from 2"),
    ],
)
def test_bad_fold_options_say_what_to_fix(params: dict, says: str) -> None:
    with pytest.raises(DatasetError, match=says):
        load_dataset("moons", n_samples=60, **params)


def test_three_fold_cv_stores_three_runs_whose_scores_give_its_mean_and_std(
    store: RunStore,
) -> None:
    request = RunRequest.supervised(
        "moons", {"n_samples": 150}, MLP, {"epochs": 2, "seed": 3}, name="tiny"
    )
    cv = run_cross_validation(request, 3, store)
    assert cv.folds == 3 and cv.complete and cv.score_name == "acc"
    records = [store.get_run(i) for i in cv.run_ids]
    assert [r.lineage for r in records] == [
        {"cross_validation": cv.group, "fold": i, "folds": 3} for i in range(3)
    ]
    assert [r.name for r in records] == [f"tiny · fold {i} of 3" for i in (1, 2, 3)]
    assert [r.dataset_params.get("folds") for r in records] == [3, 3, 3]
    stored = [r.final_metrics["val_acc"] for r in records]
    assert cv.scores() == stored
    assert cv.mean() == pytest.approx(np.mean(stored))
    assert cv.std() == pytest.approx(np.std(stored))
    assert len(set(stored)) > 1  # different validation rows, different scores
    # Per-fold curves are each fold's own history; the summary reads the same from the store.
    assert [len(r.history) for r in cv.results] == [2, 2, 2]
    again = summarise(store, cv.group)
    assert again.scores() == stored and again.run_ids == cv.run_ids
    assert summarise_runs(store, cv.run_ids[::-1]).run_ids == cv.run_ids
    curves = fold_curves(cv)
    assert [t.name for t in curves.data] == ["fold 1", "fold 2", "fold 3", "mean of folds"]
    assert list(curves.data[1].y) == [row["val_acc"] for row in cv.results[1].history]
    assert curves.data[3].y[-1] == pytest.approx(
        np.mean([h[-1]["val_acc"] for h in (r.history for r in cv.results)])
    )
    bars = fold_scores(cv)
    assert list(bars.data[0].y) == pytest.approx(stored)
    assert bars.data[1].y[0] == pytest.approx(cv.mean())


def test_fold_requests_keep_the_request_and_the_lineage_it_had() -> None:
    request = RunRequest.supervised("moons", {"noise": 0.2}, MLP, lineage={"sweep": "s1"})
    group, requests = fold_requests(request, 2, group="cv-x")
    assert group == "cv-x"
    assert [r.dataset_params for r in requests] == [
        {"noise": 0.2, "folds": 2, "fold": 0},
        {"noise": 0.2, "folds": 2, "fold": 1},
    ]
    assert requests[1].lineage == {"sweep": "s1", "cross_validation": "cv-x", "fold": 1, "folds": 2}
    assert request.dataset_params == {"noise": 0.2}  # the original is not changed
    assert all(RunRequest.from_json(r.to_json()) == r for r in requests)


def test_the_cli_prints_each_folds_score_and_the_mean_and_std(tmp_path, capsys) -> None:
    from playground.cli_ensemble import register

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=tmp_path / "d")
    register(parser.add_subparsers(required=True))
    argv = ["cv", "--folds", "3", "--dataset", "moons", "--param", "n_samples=150"]
    args = parser.parse_args(
        [*argv, "--layers", "linear:8 relu linear", "--epochs", "2", "--quiet"]
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    runs = sorted(RunStore(tmp_path / "d").list_runs(), key=lambda r: r.lineage["fold"])
    scores = [r.final_metrics["val_acc"] for r in runs]
    assert len(runs) == 3
    for i, (run, score) in enumerate(zip(runs, scores, strict=True)):
        assert f"fold {i + 1}  {run.id}" in out and f"val acc {score:.4f}" in out
    assert f"{np.mean(scores):.4f} ± {np.std(scores):.4f}" in out


def test_the_page_runs_the_folds_in_workers_and_shows_mean_and_std(registry) -> None:
    at = open_page(
        "ensembles",
        dataset={"name": "moons", "params": {"n_samples": 150}},
        layers=MLP["layers"],
        config={"epochs": 2},
    )
    at.number_input(key="cv_folds").set_value(2)
    at.button(key="cv_start").click().run()
    assert not at.exception, at.exception
    run_ids = at.session_state["cv_runs"]
    assert len(run_ids) == 2
    for run_id in run_ids:
        wait_for(registry.get(run_id))
    at.run()
    assert not at.exception, at.exception
    scores = [registry.store.get_run(i).final_metrics["val_acc"] for i in run_ids]
    shown = next(m for m in at.metric if "over 2 folds" in m.label)
    assert shown.value == f"{np.mean(scores):.4f} ± {np.std(scores):.4f}"
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bars = next(f for f in figures if f["data"][0]["type"] == "bar")
    assert bars["data"][0]["y"] == pytest.approx(scores)
