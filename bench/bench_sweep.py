"""Sweep throughput: 24 trials of a small spiral sweep with 1 local worker process, with 2,
and on a local Ray instance with 2 CPUs. Each setting first runs a 2-trial sweep to start its
workers (process start and imports are paid once per server, not per sweep), then the timed
one. Same space, sampler (random, seeded) and trials everywhere; no pruning, so every trial
trains its full epochs. Prints the wall times and the ratios against 1 worker.

    .venv/bin/python bench/bench_sweep.py [--trials 24] [--epochs 150] [--no-ray]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playground.jobs import JobRegistry
from playground.runs import RunRequest
from playground.store import RunStore
from playground.sweeps import SearchSpace, SweepConfig, SweepRegistry
from playground.sweeps.study import load_trials

SPEC = [{"kind": "linear", "out_features": 16}, {"kind": "relu"}, {"kind": "linear"}]


def config(trials: int, epochs: int, workers: int, ray: str | None) -> SweepConfig:
    base = RunRequest.supervised("spiral", {}, SPEC, {"epochs": epochs, "device": "cpu"})
    space = SearchSpace.from_texts(["lr=log:1e-3:1e-1", "layers.0.out_features=int:8:32"])
    return SweepConfig(
        base=base,
        space=space,
        trials=trials,
        workers=workers,
        sampler="random",
        pruner="none",
        ray_address=ray,
    )


def timed_sweep(sweeps: SweepRegistry, cfg: SweepConfig) -> tuple[float, int]:
    start = time.perf_counter()
    driver = sweeps.start(cfg)
    driver.wait()
    seconds = time.perf_counter() - start
    store = sweeps.sweeps
    rows = load_trials(store.get(driver.sweep_id), store)
    return seconds, sum(r.state == "complete" for r in rows)


def run_setting(workers: int, ray: str | None, trials: int, epochs: int) -> tuple[float, int]:
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    # Ray needs no local worker process: the registry only lends its store then.
    registry = JobRegistry(max_workers=workers, store=RunStore(root))
    sweeps = SweepRegistry(registry)
    try:
        timed_sweep(sweeps, config(2 * workers, epochs, workers, ray))  # warm the workers
        return timed_sweep(sweeps, config(trials, epochs, workers, ray))
    finally:
        registry.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    results: dict[str, tuple[float, int]] = {}
    results["local, 1 worker"] = run_setting(1, None, args.trials, args.epochs)
    results["local, 2 workers"] = run_setting(2, None, args.trials, args.epochs)
    if not args.no_ray:
        import ray

        from playground.sweeps.ray_backend import runtime_env

        ray.init(
            num_cpus=2,
            include_dashboard=False,
            runtime_env=runtime_env(),
            _node_ip_address="127.0.0.1",
            log_to_driver=False,
        )
        try:
            results["Ray, 2 CPUs"] = run_setting(2, "auto", args.trials, args.epochs)
        finally:
            ray.shutdown()
    baseline = results["local, 1 worker"][0]
    print(f"{args.trials} trials of spiral, {args.epochs} epochs each (after a warm-up sweep)")
    print(f"{'setting':<20}{'wall s':>9}{'trials':>8}{'speed-up vs 1 worker':>24}")
    for name, (seconds, done) in results.items():
        print(f"{name:<20}{seconds:>9.2f}{done:>8}{baseline / seconds:>23.2f}x")
    if "Ray, 2 CPUs" in results:
        ratio = results["local, 2 workers"][0] / results["Ray, 2 CPUs"][0]
        print(f"Ray (2 CPUs) against 2 local workers: {ratio:.2f}x")


if __name__ == "__main__":
    main()
