"""Command line: `python -m playground ensemble` (K members trained at once) and
`python -m playground cv --folds K` (K-fold cross-validation).

Both take the `train` command's data, model and training flags; `register(sub)` adds them to
the CLI's subcommands (playground/cli.py calls it).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from playground.cli import (
    _dataset_args,
    _spec_arg,
    _store,
    add_data_and_model_args,
    add_training_args,
    config_from_args,
)


def register(sub: Any) -> None:
    """Add the `ensemble` and `cv` subcommands to an argparse subparsers object."""
    ensemble = sub.add_parser(
        "ensemble", help="train K copies of one model at once (an ensemble) and store the run"
    )
    _run_arguments(ensemble)
    ensemble.add_argument("--members", type=int, default=5, help="how many models (K, default 5)")
    ensemble.add_argument(
        "--bootstrap",
        action="store_true",
        help="train each member on its own resample (with replacement) of the training rows",
    )
    ensemble.set_defaults(func=cmd_ensemble)

    cv = sub.add_parser(
        "cv", help="K-fold cross-validation: train one run per fold, print mean ± std"
    )
    _run_arguments(cv)
    cv.add_argument("--folds", type=int, default=5, help="how many folds (K, default 5)")
    cv.add_argument(
        "--members",
        type=int,
        default=0,
        help="cross-validate an ensemble of this many members (default 0: one model)",
    )
    cv.set_defaults(func=cmd_cv)


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    """The `train` command's data, model and training flags (the same names and meanings)."""
    add_data_and_model_args(parser)
    add_training_args(parser)
    parser.add_argument("--name", default="", help="a name for the run(s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _request(args: argparse.Namespace, store: Any, members: int, bootstrap: bool) -> Any:
    from playground.runs import RunRequest

    dataset, params = _dataset_args(args, store)
    fields: dict[str, Any] = {"name": args.name}
    if members:
        fields.update(mode="ensemble", mode_options={"members": members, "bootstrap": bootstrap})
    return RunRequest.supervised(dataset, params, _spec_arg(args), config_from_args(args), **fields)


def _callbacks(args: argparse.Namespace) -> list[Any]:
    from playground.cli_progress import ProgressBar

    return [] if args.quiet else [ProgressBar()]


def cmd_ensemble(args: argparse.Namespace) -> int:
    from playground.analysis.ensemble import ensemble_scores
    from playground.runs import check_request, run_request

    store = _store(args)
    request = _request(args, store, args.members, args.bootstrap)
    checked = check_request(request)
    ds = checked.dataset
    print(
        f"dataset {ds.name}: {ds.task}, {len(ds.train)}/{len(ds.val)}/{len(ds.test)} "
        f"train/val/test; {args.members} members"
        + (", each on its own bootstrap sample" if args.bootstrap else "")
    )
    print(checked.modules["model"].format_table())
    start = time.perf_counter()
    outcome = run_request(request, store, callbacks=_callbacks(args), dataset=ds)
    state = outcome.state
    print(f"{state.status}: {state.message} ({time.perf_counter() - start:.1f}s)")
    metrics = state.final_metrics
    if metrics:
        score = "r2" if "val_r2" in metrics else "acc"
        header = ["", "ensemble", *(f"member {k + 1}" for k in range(args.members))]
        print("".join(f"{h:>10}" if i else f"{h:<10}" for i, h in enumerate(header)))
        for split in ("train", "val", "test"):
            s = ensemble_scores(metrics, split, score)
            cells = [f"{split} {score}", *(f"{v:.4f}" for v in (s.ensemble, *s.members))]
            print("".join(f"{c:>10}" if i else f"{c:<10}" for i, c in enumerate(cells)))
        s = ensemble_scores(metrics, "test", score)
        print(
            f"test {score}: the ensemble {s.ensemble:.4f}, its members {s.mean_member:.4f} on "
            f"average (best {s.best_member:.4f})"
        )
    print(f"run id: {outcome.run_id}")
    return 0 if state.status in ("completed", "stopped") else 1


def cmd_cv(args: argparse.Namespace) -> int:
    from playground.runs.cross_validation import run_cross_validation

    store = _store(args)
    request = _request(args, store, args.members, False)
    start = time.perf_counter()
    cv = run_cross_validation(request, args.folds, store, callbacks=_callbacks(args))
    score = cv.score_name
    print(f"cross-validation {cv.group}: {cv.folds} folds ({time.perf_counter() - start:.1f}s)")
    for result in cv.results:
        value = result.score(score)
        shown = f"{value:.4f}" if value is not None else "-"
        print(f"  fold {result.fold + 1}  {result.run_id}  {result.status:<10} val {score} {shown}")
    print(
        f"val {score} over {len(cv.scores())} folds: {cv.mean():.4f} ± {cv.std():.4f} (mean ± std)"
    )
    return 0 if cv.complete else 1
