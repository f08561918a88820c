"""What each fairness mitigation costs, on the hiring data (injected bias against women).

One table: for each mitigation, its wall time, test accuracy and the demographic parity and
equalized odds gaps by gender. The reductions are timed twice: with the playground's network
as Fairlearn's estimator, and with a scikit-learn LogisticRegression on the same encoded rows
(Fairlearn's usual setting), so the ratio says what the network costs. The baseline for
accuracy is the plain network trained on the same rows in the same run.

    .venv/bin/python bench/bench_fairness_mitigations.py [--rows 3000] [--epochs 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from fairlearn.reductions import DemographicParity, ExponentiatedGradient, GridSearch
from sklearn.linear_model import LogisticRegression

from playground.data import load_dataset
from playground.fairness.groups import groups_for_split
from playground.fairness.metrics import audit_predictions
from playground.fairness.postprocessing import threshold_optimizer
from playground.fairness.reductions import ReductionProblem, exponentiated_gradient, grid_search
from playground.fairness.reweighing import training_weights
from playground.train import TrainConfig, Trainer

SPEC = {"layers": [{"kind": "linear", "out_features": 32}, {"kind": "relu"}, {"kind": "linear"}]}
ADVERSARY = {
    "layers": [{"kind": "linear", "out_features": 16}, {"kind": "relu"}, {"kind": "linear"}]
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--grid", type=int, default=7)
    args = parser.parse_args()
    dataset = load_dataset("hiring", n_samples=args.rows, seed=0)
    config = {"epochs": args.epochs, "lr": 0.01, "batch_size": 64, "seed": 0}
    test = dataset.test
    groups = groups_for_split(dataset, "test", "gender")
    x_test, y_test = test.x.numpy(), test.y.numpy()

    def gaps(pred: np.ndarray) -> tuple[float, float, float]:
        audit = audit_predictions(y_test, pred, groups, n_boot=0)
        d = audit.disparities
        return (
            float((pred == y_test).mean()),
            d["demographic_parity_difference"],
            d["equalized_odds_difference"],
        )

    def network(mode: str = "supervised", options=None, weights=None, modules=None):
        trainer = Trainer(
            dataset,
            config=TrainConfig.parse(config),
            modules=modules or {"model": SPEC},
            mode=mode,
            mode_options=options or {},
            sample_weights=weights,
        )
        trainer.run()
        return trainer.modules["model"].module

    def decide(module) -> np.ndarray:
        with torch.no_grad():
            return module(test.x).argmax(-1).numpy()

    rows = []

    def row(name: str, seconds: float, pred: np.ndarray, versus: str = "") -> None:
        acc, dp, eo = gaps(pred)
        rows.append((name, seconds, acc, dp, eo, versus))

    network()  # warm-up: the first network pays for torch's start-up, not the baseline
    start = time.perf_counter()
    plain = network()
    base_seconds = time.perf_counter() - start
    row("plain network (baseline)", base_seconds, decide(plain))

    start = time.perf_counter()
    w = torch.as_tensor(training_weights(dataset, "gender"), dtype=torch.float32)
    reweighed = network(weights=w)
    row("reweighing", time.perf_counter() - start, decide(reweighed))

    start = time.perf_counter()
    with torch.no_grad():
        val_scores = torch.softmax(plain(dataset.val.x), -1)[:, 1].numpy()
        test_scores = torch.softmax(plain(test.x), -1)[:, 1].numpy()
    post = threshold_optimizer(
        dataset.val.y.numpy(), val_scores, groups_for_split(dataset, "val", "gender")
    )
    row(
        "ThresholdOptimizer (post-processing)",
        time.perf_counter() - start,
        post.apply(test_scores, groups),
    )

    start = time.perf_counter()
    adversarial = network(
        "adversarial_debiasing",
        {"attribute": "gender", "weight": 1.0},
        modules={"model": SPEC, "adversary": ADVERSARY},
    )
    row("adversarial debiasing", time.perf_counter() - start, decide(adversarial))

    problem = ReductionProblem.of(dataset, "gender", SPEC, config)
    x_train, y_train, g_train = problem.x, problem.y, problem.groups.to_numpy()

    start = time.perf_counter()
    eg = exponentiated_gradient(problem, "demographic_parity", eps=0.02, max_iter=20)
    eg_seconds = time.perf_counter() - start
    eg_row = eg.table.iloc[0]
    rows.append(
        (
            "ExponentiatedGradient, network",
            eg_seconds,
            eg_row["test_accuracy"],
            eg_row["test_disparity"],
            float("nan"),
            f"{eg.oracle_calls} fits",
        )
    )
    start = time.perf_counter()
    lr_eg = ExponentiatedGradient(
        LogisticRegression(max_iter=1000), DemographicParity(), eps=0.02, max_iter=20
    )
    lr_eg.fit(x_train, y_train, sensitive_features=g_train)
    lr_eg_seconds = time.perf_counter() - start
    row(
        "ExponentiatedGradient, LogisticRegression",
        lr_eg_seconds,
        np.asarray(lr_eg.predict(x_test, random_state=0)),
    )

    start = time.perf_counter()
    gs = grid_search(problem, "demographic_parity", grid_size=args.grid)
    gs_seconds = time.perf_counter() - start
    best = gs.table[gs.table["on_front"]].sort_values("val_disparity").iloc[0]
    rows.append(
        (
            "GridSearch, network (least-gap front point)",
            gs_seconds,
            best["test_accuracy"],
            best["test_disparity"],
            float("nan"),
            f"{args.grid} fits",
        )
    )
    start = time.perf_counter()
    lr_gs = GridSearch(
        LogisticRegression(max_iter=1000), DemographicParity(), grid_size=args.grid, grid_limit=1.0
    )
    lr_gs.fit(x_train, y_train, sensitive_features=g_train)
    lr_gs_seconds = time.perf_counter() - start
    row(
        "GridSearch, LogisticRegression (its pick)",
        lr_gs_seconds,
        np.asarray(lr_gs.predict(x_test)),
    )

    base_acc = rows[0][2]
    print(
        f"hiring, {args.rows} rows ({len(y_test)} test), {args.epochs} epochs per network; "
        f"gaps by gender on the test split (EO blank where the table reports DP only)"
    )
    print(
        f"{'mitigation':46s} {'seconds':>8s} {'x baseline':>10s} {'accuracy':>8s} {'cost':>7s} {'DP gap':>7s} {'EO gap':>7s}"
    )
    for name, seconds, acc, dp, eo, note in rows:
        print(
            f"{name:46s} {seconds:8.2f} {seconds / base_seconds:10.1f} {acc:8.3f} {acc - base_acc:+7.3f} "
            f"{dp:7.3f} {eo:7.3f} {note}"
        )
    print(
        f"reductions, network / LogisticRegression time: ExponentiatedGradient "
        f"{eg_seconds / lr_eg_seconds:.1f}x, GridSearch {gs_seconds / lr_gs_seconds:.1f}x"
    )


if __name__ == "__main__":
    main()
