"""Benchmark ensembles trained at once (torch.func vmap over stacked members) against the
same models trained one at a time, measured in the same run.

Three runs of the trainer on the same data, model, batch size and epochs:

    one        a supervised run of one model
    ensemble   mode "ensemble" with K members (one vmapped forward/backward per batch)
    sequence   K supervised runs, one after another (what K models cost without vmap)

Printed: each time (median of the repeats) and the ratios ensemble/one (aim: <= 2 for K=8 on
the CPU) and sequence/ensemble (the speed-up over training the members one by one). Each
repeat runs the three back to back and the ratios are medians of per-repeat ratios, so a slow
spell on a shared machine hits all three alike.

Run: .venv/bin/python bench/bench_ensemble.py [--members 8] [--repeats 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

from playground.data import load_dataset
from playground.model.shorthand import parse_layers
from playground.train import TrainConfig, Trainer


def timed(data, spec, config: TrainConfig, **mode) -> float:
    trainer = Trainer(data, spec, config, **mode)
    t0 = time.perf_counter()
    state = trainer.run()
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    assert state.status == "completed", state.message
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--layers", default="linear:32 relu linear:32 relu linear")
    args = parser.parse_args()
    k = args.members
    data = load_dataset("spiral", n_samples=2000, seed=0)
    spec = parse_layers(args.layers)

    def config(seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=args.epochs,
            batch_size=32,
            lr=0.01,
            seed=seed,
            device=args.device,
            stop_when_not_learning=False,
        )

    print(
        f"device {args.device}, torch {torch.__version__}; spiral {len(data.train)} training "
        f"rows, {args.layers}, batch 32, {args.epochs} epochs, K = {k}"
    )
    timed(data, spec, config(0))  # warm-up: first-call costs (allocator, vmap tracing)
    timed(data, spec, config(0), mode="ensemble", mode_options={"members": k})
    ones, ensembles, sequences = [], [], []
    for _ in range(args.repeats):
        ones.append(timed(data, spec, config(0)))
        ensembles.append(timed(data, spec, config(0), mode="ensemble", mode_options={"members": k}))
        sequences.append(sum(timed(data, spec, config(seed)) for seed in range(k)))
    one, ens, seq = (statistics.median(t) for t in (ones, ensembles, sequences))
    per_one = statistics.median(e / o for e, o in zip(ensembles, ones, strict=True))
    per_seq = statistics.median(s / e for s, e in zip(sequences, ensembles, strict=True))
    print(f"   one model          : {one:7.2f} s")
    print(f"   ensemble of {k:<2}     : {ens:7.2f} s  (members stacked, one optimiser)")
    print(f"   {k} in sequence      : {seq:7.2f} s")
    print(f"   ratio ensemble/one      = {per_one:.2f}  (aim <= 2 for K=8)")
    print(f"   speed-up sequence/ensemble = {per_seq:.2f}x")


if __name__ == "__main__":
    main()
