"""Benchmark the playground's trainer against baselines measured in the same run.

1. Trainer vs a plain hand-written PyTorch loop: same model, data, batch size, device and
   optimiser; the trainer keeps its metric recording on (validation each epoch, gradient and
   weight norms every `record_every` steps, dead-ReLU fractions). Aim: at least 0.95 of its
   throughput.
2. Trainer vs scikit-learn's MLPClassifier on the same spiral data and hidden sizes: wall time
   until each first reaches the same test accuracy (median of the repeats). Aim: 2x faster.

Run: .venv/bin/python bench/bench_trainer.py [--device cpu|cuda] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

from playground.data import load_dataset
from playground.model.shorthand import parse_layers
from playground.train import Callback, TrainConfig, Trainer


def plain_loop(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    batch: int,
    lr: float,
    seed: int,
) -> None:
    """What a person would write by hand: no metrics, no events, no checks."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)  # the fastest plain choice
    gen = torch.Generator().manual_seed(seed)
    n = len(y)
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen).to(x.device)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    if x.device.type == "cuda":
        torch.cuda.synchronize()


def bench_overhead(device: str, repeats: int) -> tuple[float, float, float]:
    data = load_dataset("spiral", n_samples=6000, seed=0)
    spec = parse_layers("linear:64 relu linear:64 relu linear")
    epochs, batch, lr = 10, 64, 0.01
    n = len(data.train)
    config = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, device=device)
    trainer_times, plain_times = [], []
    for r in range(repeats):
        trainer = Trainer(data, spec, config)
        t0 = time.perf_counter()
        trainer.run()
        trainer_times.append(time.perf_counter() - t0)

        torch.manual_seed(0)
        model = Trainer(data, spec, config).model  # same architecture and initial weights
        x, y = data.train.x.to(trainer.device), data.train.y.to(trainer.device)
        t0 = time.perf_counter()
        plain_loop(model, x, y, epochs, batch, lr, seed=r)
        plain_times.append(time.perf_counter() - t0)
    # Best of N for the rates, and the median of per-repeat ratios: each repeat runs the two
    # back to back, so a slow spell on this shared 2-core machine hits both alike.
    trainer_sps = epochs * n / min(trainer_times)
    plain_sps = epochs * n / min(plain_times)
    ratios = sorted(p / t for p, t in zip(plain_times, trainer_times, strict=True))
    return trainer_sps, plain_sps, ratios[len(ratios) // 2]


class StopAtAccuracy(Callback):
    """Checks test accuracy each epoch (as the scikit-learn side does) and stops at the target."""

    def __init__(self, target: float) -> None:
        self.target = target
        self.reached_at: float | None = None

    def on_epoch_end(self, trainer: Trainer, row: dict) -> None:
        _, acc = trainer.evaluate(trainer.dataset.test)
        if acc >= self.target:
            self.reached_at = time.perf_counter()
            trainer.state.stop_training = True


def time_to_accuracy_sklearn(
    data, hidden: tuple[int, ...], target: float, max_epochs: int
) -> tuple[float | None, int]:
    from sklearn.neural_network import MLPClassifier

    x, y = data.train.x.numpy(), data.train.y.numpy()
    xt, yt = data.test.x.numpy(), data.test.y.numpy()
    clf = MLPClassifier(
        hidden_layer_sizes=hidden, learning_rate_init=0.01, batch_size=32, random_state=0
    )
    classes = np.unique(y)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(1, max_epochs + 1):
            clf.partial_fit(x, y, classes=classes)
            if clf.score(xt, yt) >= target:
                return time.perf_counter() - t0, epoch
    return None, max_epochs


def time_to_accuracy_trainer(
    data, hidden: tuple[int, ...], target: float, max_epochs: int, device: str
) -> tuple[float | None, int]:
    layers = " ".join(f"linear:{h} relu" for h in hidden) + " linear"
    stop = StopAtAccuracy(target)
    config = TrainConfig(epochs=max_epochs, batch_size=32, lr=0.01, device=device)
    trainer = Trainer(data, parse_layers(layers), config, callbacks=[stop])
    t0 = time.perf_counter()
    trainer.run()
    return (stop.reached_at - t0 if stop.reached_at else None), trainer.state.epoch


def _median_run(runs: list[tuple[float | None, int]]) -> tuple[float | None, int]:
    """The median time of the runs that reached the target (None if any did not)."""
    if any(t is None for t, _ in runs):
        return None, max(e for _, e in runs)
    ordered = sorted(runs, key=lambda r: r[0])
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    print(f"device: {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    trainer_sps, plain_sps, median_ratio = bench_overhead(args.device, args.repeats)
    print("\n1. Trainer vs plain PyTorch loop (spiral 6000, MLP 64x64, batch 64, 10 epochs)")
    print(f"   plain loop : {plain_sps:12,.0f} samples/s")
    print(f"   trainer    : {trainer_sps:12,.0f} samples/s")
    print(
        f"   ratio trainer/plain = {trainer_sps / plain_sps:.3f} best-of, {median_ratio:.3f} median of pairs  (aim >= 0.95)"
    )

    data = load_dataset("spiral", seed=0)
    hidden, target, max_epochs = (32, 32), 0.95, 400
    # Interleaved repeats, medians: one run takes a tenth of a second on this shared machine.
    sk_runs, pg_runs = [], []
    for _ in range(args.repeats):
        sk_runs.append(time_to_accuracy_sklearn(data, hidden, target, max_epochs))
        pg_runs.append(time_to_accuracy_trainer(data, hidden, target, max_epochs, args.device))
    sk_time, sk_epochs = _median_run(sk_runs)
    pg_time, pg_epochs = _median_run(pg_runs)
    n = len(data.train)
    print(
        f"\n2. Time to {target:.0%} test accuracy on the spiral, hidden {hidden}, batch 32, Adam lr 0.01"
    )
    for name, t, e in (("scikit-learn", sk_time, sk_epochs), ("trainer", pg_time, pg_epochs)):
        if t is None:
            print(f"   {name:<12}: did not reach {target:.0%} in {e} epochs")
        else:
            print(f"   {name:<12}: {t:7.2f} s, {e:4d} epochs, {e * n / t:10,.0f} samples/s")
    if sk_time and pg_time:
        print(f"   speed-up trainer vs scikit-learn = {sk_time / pg_time:.2f}x  (aim >= 2)")


if __name__ == "__main__":
    main()
