"""Command line: `python -m playground sweep`, a hyperparameter sweep of the `train` command's
run (same data, model and training flags), searched with Optuna:

    python -m playground sweep --epochs 30 --param lr=log:1e-4:1e-1 \\
        --param layers.0.out_features=int:8:64 --param optimizer=choice:adam,sgd --trials 20
    python -m playground sweep --space space.json --workers 2 --pruner median
    python -m playground sweep ... --ray auto          # trials on a Ray cluster (or RAY_ADDRESS)
    python -m playground sweep --resume SWEEP_ID       # finish a stopped or interrupted sweep
    python -m playground sweep --list

`--param` here names a sweep parameter; dataset parameters are `--data-param NAME=VALUE`.
Ctrl+C stops the sweep (its unfinished trials run again on --resume).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from playground.cli import (
    _dataset_args,
    _spec_arg,
    _store,
    add_data_and_model_args,
    add_training_args,
    config_from_args,
)
from playground.errors import PlaygroundError

DEFAULT_TRIALS = 20


def register(sub: Any) -> None:
    """Add the `sweep` subcommand to an argparse subparsers object."""
    # "resolve": this command's --param (a sweep parameter) replaces train's dataset --param,
    # which becomes --data-param here.
    sweep = sub.add_parser(
        "sweep",
        help="a hyperparameter sweep (Optuna): many runs, the best one found",
        conflict_handler="resolve",
        description="Search training options and layer parameters with Optuna; every trial "
        "is a stored run.",
    )
    add_data_and_model_args(sweep)
    add_training_args(sweep)
    sweep.add_argument(
        "--data-param",
        dest="param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="dataset parameter, e.g. noise=0.2 (repeatable)",
    )
    space = sweep.add_argument_group("search space")
    space.add_argument(
        "--param",
        dest="space_param",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="a sweep parameter (repeatable): lr=log:1e-4:1e-1, layers.0.out_features=int:8:64, "
        "layers.2.p=float:0:0.5, layers.1.kind=choice:relu,tanh, repeat.0-1=int:1:3 (depth), "
        "optimizer=choice:adam,sgd, epochs=40 (fixed)",
    )
    space.add_argument(
        "--space", type=Path, help='a JSON file: {"params": [...]} or a list of "NAME=SPEC"'
    )
    how = sweep.add_argument_group("search")
    how.add_argument(
        "--trials", type=int, help="trial budget (default 20; with --resume: a new budget)"
    )
    how.add_argument("--timeout", type=float, help="time budget in seconds (default none)")
    how.add_argument(
        "--workers", type=int, default=2, help="trials at once (default 2: worker processes)"
    )
    how.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run trials on a Ray cluster: auto, HOST:6379 or ray://HOST:10001; 'local' starts "
        "Ray here (default: $RAY_ADDRESS, else this machine's worker processes)",
    )
    how.add_argument(
        "--sampler", dest="sweep_sampler", default="tpe", help="tpe (default), random or grid"
    )
    # Train's --sampler (class balance) is the search's sampler here.
    sweep.add_argument(
        "--class-sampler",
        dest="sampler",
        choices=["none", "oversample", "undersample"],
        help="balance classes by sampling (train's --sampler)",
    )
    how.add_argument("--pruner", default="median", help="median (default), halving or none")
    how.add_argument(
        "--objective", default="auto", help="val_acc, val_r2, val_loss... (default auto)"
    )
    how.add_argument("--direction", default="auto", choices=["auto", "maximize", "minimize"])
    how.add_argument("--sweep-seed", type=int, default=0, help="the sampler's seed (default 0)")
    how.add_argument("--resume", metavar="SWEEP_ID", help="go on with a stored sweep")
    how.add_argument("--list", action="store_true", help="list stored sweeps")
    sweep.add_argument("--name", default="", help="a name for the sweep")
    sweep.add_argument("--quiet", action="store_true", help="no progress lines")
    sweep.set_defaults(func=cmd_sweep)


def space_from_args(args: argparse.Namespace) -> Any:
    """The search space: the --space file's parameters, then each --param (which wins)."""
    from playground.sweeps import Param, SearchSpace

    params: dict[str, Param] = {}
    if args.space:
        try:
            data = json.loads(args.space.read_text())
        except OSError as exc:
            raise PlaygroundError(f"Cannot read {args.space}: {exc.strerror}.") from None
        except json.JSONDecodeError as exc:
            raise PlaygroundError(f"{args.space} is not JSON: {exc.msg}.") from None
        items = (
            data.get("params", data.get("space", {}).get("params"))
            if isinstance(data, dict)
            else data
        )
        if not isinstance(items, list):
            raise PlaygroundError(
                f"{args.space} holds no parameters.",
                'Write {"params": [{"name": "lr", "kind": "float", "low": 0.0001, "high": '
                '0.1, "log": true}]} or ["lr=log:1e-4:1e-1"].',
            )
        for item in items:
            param = Param.parse_text(item) if isinstance(item, str) else Param.model_validate(item)
            params[param.name] = param
    for text in args.space_param:
        param = Param.parse_text(text)
        params[param.name] = param
    return SearchSpace(params=list(params.values()))


def sweep_config(args: argparse.Namespace, store: Any) -> Any:
    from playground.runs import RunRequest
    from playground.sweeps import SweepConfig, ray_address_from_env

    dataset, params = _dataset_args(args, store)
    base = RunRequest.supervised(dataset, params, _spec_arg(args), config_from_args(args))
    space = space_from_args(args)
    if not space.params:
        raise PlaygroundError(
            "The sweep has no parameters.",
            "Add e.g. --param lr=log:1e-4:1e-1 --param layers.0.out_features=int:8:64.",
        )
    return SweepConfig.parse(
        {
            "name": args.name,
            "base": base,
            "space": space,
            "objective": args.objective,
            "direction": args.direction,
            "sampler": args.sweep_sampler,
            "pruner": args.pruner,
            "trials": args.trials or DEFAULT_TRIALS,
            "timeout": args.timeout,
            "workers": args.workers,
            "seed": args.sweep_seed,
            "ray_address": args.ray or ray_address_from_env(),
        }
    )


def cmd_sweep(args: argparse.Namespace) -> int:
    from playground.jobs import JobRegistry
    from playground.sweeps import SweepRegistry, SweepStore

    store = _store(args)
    if args.list:
        return _list(SweepStore(store.root))
    registry = JobRegistry(max_workers=max(1, args.workers), store=store)
    sweeps = SweepRegistry(registry)
    start = time.perf_counter()

    def progress(line: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - start:7.1f}s] {line}", flush=True)

    try:
        if args.resume:
            driver = sweeps.resume(args.resume, args.trials, progress, args.ray)
        else:
            driver = sweeps.start(sweep_config(args, store), progress)
        try:
            while not driver.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("stopping the sweep (Ctrl+C again to leave at once)...", file=sys.stderr)
            driver.stop()
            driver.wait(60)
        return _summary(SweepStore(store.root), driver.sweep_id)
    finally:
        registry.shutdown()


def _summary(sweeps: Any, sweep_id: str) -> int:
    from playground.sweeps import best_trial, load_trials

    record = sweeps.get(sweep_id)
    rows = load_trials(record, sweeps)
    print(f"sweep {record.id}: {record.status}. {record.message}")
    print(f"{'trial':>5}  {'state':<9}{record.metric:>10}{'epochs':>8}  parameters")
    for row in rows:
        value = f"{row.value:.4f}" if row.value is not None else "-"
        params = ", ".join(f"{k}={_short(v)}" for k, v in row.params.items())
        print(f"{row.number:>5}  {row.state:<9}{value:>10}{row.epochs:>8}  {params}")
    best = best_trial(rows, record.direction)
    if best is not None:
        print(
            f"best: trial {best.number}, {record.metric} {best.value:.4f}, "
            + ", ".join(f"{k}={_short(v)}" for k, v in best.params.items())
            + f"; run id {best.run_id}"
        )
    if record.status != "completed":
        print(f"resume with: python -m playground sweep --resume {record.id}")
    return 0 if record.status == "completed" else 1


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _list(sweeps: Any) -> int:
    from playground.sweeps import best_trial, load_trials

    records = sweeps.list()
    if not records:
        print("no sweeps yet: try `python -m playground sweep --param lr=log:1e-4:1e-1`")
        return 0
    print(f"{'sweep':<30}{'status':<13}{'trials':>8}  {'best':<16}started")
    for record in records:
        rows = load_trials(record, sweeps)
        best = best_trial(rows, record.direction)
        shown = f"{record.metric} {best.value:.3f}" if best and best.value is not None else "-"
        done = sum(r.state in ("complete", "pruned", "failed") for r in rows)
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created_at))
        print(
            f"{record.id:<30}{record.status:<13}{done:>4}/{record.config.trial_budget:<3}  "
            f"{shown:<16}{started}"
        )
    return 0
