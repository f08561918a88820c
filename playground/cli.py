"""Command line: `python -m playground train | runs | show RUN | report RUN | datasets | layers`."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from playground.errors import PlaygroundError
from playground.train.config import TrainConfig


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except PlaygroundError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(exc.hint, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


EXTRA_COMMANDS = ("playground.cli_compress", "playground.cli_ensemble", "playground.cli_sweep")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m playground", description="The Neural Network Playground engine."
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where runs are stored (default: $PLAYGROUND_DATA_DIR or ./playground_data)",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a model and store the run")
    add_data_and_model_args(train)
    modes = train.add_argument_group("mode (autoencoders, GANs: several modules)")
    modes.add_argument(
        "--mode",
        default="supervised",
        help="supervised (default), autoencoder, denoising, vae or gan (see playground.train.modes)",
    )
    modes.add_argument(
        "--module",
        action="append",
        default=[],
        metavar="NAME=LAYERS",
        help='one module\'s layers, e.g. --module "encoder=flatten linear:64 relu linear" '
        "(repeatable; modules not given start from the mode's default stack)",
    )
    modes.add_argument(
        "--mode-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a mode option, e.g. latent=2, noise=0.3, kl_weight=1, loss=wasserstein_gp",
    )
    modes.add_argument(
        "--module-lr",
        action="append",
        default=[],
        metavar="NAME=LR",
        help="a module's own learning rate, e.g. discriminator=0.0004 (repeatable)",
    )
    transfer = train.add_argument_group("transfer learning (start from a stored run)")
    transfer.add_argument("--start-from", metavar="RUN_ID", help="copy a stored run's weights")
    transfer.add_argument(
        "--copy-layers",
        metavar="0,2",
        help="only these layers (default: every layer whose shapes fit; a head for another "
        "number of classes is always new)",
    )
    transfer.add_argument("--freeze", metavar="0,2", help="layers that do not learn")
    transfer.add_argument(
        "--frozen-lr-scale",
        type=float,
        default=0.0,
        metavar="X",
        help="frozen layers learn at X times the learning rate instead (default 0: not at all)",
    )
    transfer.add_argument(
        "--source-module",
        metavar="NAME",
        help="take this module of the stored run, e.g. encoder (self-supervised pretraining)",
    )
    add_training_args(train)
    train.add_argument("--name", default="", help="a name for the run")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)

    runs = sub.add_parser("runs", help="list stored runs")
    runs.add_argument("--limit", type=int, default=50)
    runs.set_defaults(func=cmd_runs)

    show = sub.add_parser("show", help="a stored run's config and final metrics")
    show.add_argument("run_id", metavar="RUN")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=cmd_show)

    report = sub.add_parser("report", help="write a stored run's report (HTML, Markdown, JSON)")
    report.add_argument("run_id", metavar="RUN")
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="a folder, or a file path such as report.html (default: reports/ in the data dir)",
    )
    report.add_argument(
        "--format", default="html,md,json", help="comma-separated: html, md, json (default all)"
    )
    report.add_argument(
        "--attribute",
        action="append",
        default=None,
        metavar="A",
        help="audit by this sensitive attribute, or 'a & b' (repeatable; default: all of them "
        "and the first intersection)",
    )
    report.add_argument(
        "--threshold", type=float, default=0.5, help="decision threshold (default 0.5)"
    )
    report.add_argument("--rows", type=int, default=200, help="test rows to explain (default 200)")
    report.add_argument("--quiet", action="store_true", help="no progress messages")
    report.set_defaults(func=cmd_report)

    datasets = sub.add_parser("datasets", help="list built-in datasets")
    datasets.set_defaults(func=cmd_datasets)
    layers = sub.add_parser("layers", help="list layer kinds")
    layers.set_defaults(func=cmd_layers)
    # Commands kept in modules of their own (one concern each); imported when the CLI runs.
    for module in EXTRA_COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def add_data_and_model_args(parser: argparse.ArgumentParser) -> None:
    """The data and model flags of every command that trains (train, ensemble, cv)."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--dataset", default="spiral", help="a built-in dataset (see `datasets`); default spiral"
    )
    data.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="dataset parameter, e.g. noise=0.2 (repeatable)",
    )
    data.add_argument("--csv", type=Path, help="train on your own CSV file instead")
    data.add_argument("--target", help="the CSV's target column")
    model = parser.add_argument_group("model (one of)")
    model.add_argument(
        "--layers", help='layer shorthand, e.g. "linear:32 relu linear:32 relu linear"'
    )
    model.add_argument("--spec", type=Path, help="a model spec JSON file")
    model.add_argument(
        "--preset", help="a preset: mlp, residual_mlp, cnn, lstm, lstm_tokens, transformer"
    )


def add_training_args(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, the same names and meanings for every command."""
    opts = parser.add_argument_group("training")
    for name, field in TrainConfig.model_fields.items():
        flag = "--" + name.replace("_", "-")
        help_text = field.description or ""
        default = field.default
        if field.annotation is bool:
            opts.add_argument(
                flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
            continue
        if getattr(field.annotation, "__origin__", None) is dict:
            # A mapping option is repeated NAME=VALUE pairs: --augment shift=1 --augment rotate=10.
            opts.add_argument(
                flag, dest=name, action="append", metavar="NAME=VALUE", help=help_text
            )
            continue
        choices = getattr(field.annotation, "__args__", None)
        choices = list(choices) if choices and all(isinstance(c, str) for c in choices) else None
        opts.add_argument(
            flag,
            dest=name,
            default=None,
            choices=choices,
            metavar=None if choices else "X",
            help=f"{help_text} (default {default})".strip(),
        )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig the training flags give (NAME=VALUE pairs for mapping options)."""
    options = {
        k: _value(v) if isinstance(v, str) else v
        for k, v in vars(args).items()
        if k in TrainConfig.model_fields and v is not None
    }
    for key in [k for k, v in options.items() if isinstance(v, list)]:  # NAME=VALUE pairs
        pairs = _pairs(options[key], "--" + key.replace("_", "-"), "shift=1")
        options[key] = {n: _value(v) for n, v in pairs.items()}
    return TrainConfig.parse(options)


def _store(args: argparse.Namespace):
    from playground.store import RunStore

    return RunStore(args.data_dir)


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _pairs(items: list[str], flag: str, example: str) -> dict[str, str]:
    """NAME=VALUE arguments as a dict; a malformed one is a clear error."""
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise PlaygroundError(
                f"{flag} {item!r} is not NAME=VALUE.", f"Example: {flag} {example}"
            )
        pairs[name.strip()] = value.strip()
    return pairs


def _mode_request(
    args: argparse.Namespace, dataset: str, params: dict[str, Any], config: TrainConfig
) -> Any:
    """A run request for a mode of several modules: each module's layers from --module or the
    mode's default stack, its options from --mode-option, per-module rates from --module-lr."""
    from playground.model.shorthand import parse_layers
    from playground.runs import RunRequest
    from playground.train.modes import get_mode

    mode = get_mode(args.mode)
    given = _pairs(args.module, "--module", '"encoder=linear:64 relu linear"')
    modules = {
        name: parse_layers(given.get(name) or mode.default_stacks.get(name, "linear"))
        for name in mode.module_names
    }
    unknown = [n for n in given if n not in mode.module_names]
    if unknown:
        raise PlaygroundError(
            f"Mode {args.mode!r} has no module named {', '.join(map(repr, unknown))}.",
            f"Its modules: {', '.join(mode.module_names)}.",
        )
    options = {
        k: _value(v) for k, v in _pairs(args.mode_option, "--mode-option", "latent=2").items()
    }
    rates = _pairs(args.module_lr, "--module-lr", "discriminator=0.0004")
    return RunRequest.parse(
        {
            "dataset": dataset,
            "dataset_params": params,
            "modules": modules,
            "config": config,
            "mode": args.mode,
            "mode_options": options,
            "module_configs": {name: {"lr": _value(lr)} for name, lr in rates.items()},
            "name": args.name,
        }
    )


def _dataset_args(args: argparse.Namespace, store) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    for item in args.param:
        if "=" not in item:
            raise PlaygroundError(
                f"--param {item!r} is not NAME=VALUE.", "Example: --param noise=0.2"
            )
        key, raw = item.split("=", 1)
        params[key.strip()] = _value(raw)
    if args.csv:
        if not args.target:
            raise PlaygroundError("--csv needs --target, the column to predict.")
        from playground.data.uploads import keep_upload

        params.update(path=str(keep_upload(args.csv, store.root)), target=args.target)
        return "csv", params
    if args.target:
        raise PlaygroundError("--target only applies with --csv.")
    return args.dataset, params


def _spec_arg(args: argparse.Namespace):
    from playground.model import ModelSpec
    from playground.model.presets import PRESETS
    from playground.model.shorthand import parse_layers

    given = [x for x in (args.layers, args.spec, args.preset) if x]
    if len(given) > 1:
        raise PlaygroundError("Give only one of --layers, --spec and --preset.")
    if args.spec:
        try:
            return ModelSpec.parse(args.spec.read_text())
        except OSError as exc:
            raise PlaygroundError(f"Cannot read spec file {args.spec}: {exc.strerror}.") from None
    if args.preset:
        if args.preset not in PRESETS:
            raise PlaygroundError(
                f"Unknown preset {args.preset!r}.", f"Choose one of: {', '.join(PRESETS)}."
            )
        return PRESETS[args.preset].spec()
    return parse_layers(args.layers or PRESETS["mlp"].layers)


def _start_from(args: argparse.Namespace):
    from playground.runs.request import StartFrom

    def layers(text: str | None) -> list[str] | None:
        return None if text is None else [t.strip() for t in text.split(",") if t.strip()]

    return StartFrom(
        run_id=args.start_from,
        layers=layers(args.copy_layers),
        freeze=layers(args.freeze) or [],
        frozen_lr_scale=args.frozen_lr_scale,
        source_module=args.source_module,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from playground.cli_progress import ProgressBar
    from playground.runs import RunRequest, check_request, run_request
    from playground.train.augment import check_augment
    from playground.train.device import resolve_device

    store = _store(args)
    dataset_name, dataset_params = _dataset_args(args, store)
    spec = _spec_arg(args)
    config = config_from_args(args)
    if args.mode == "supervised":
        request = RunRequest.supervised(dataset_name, dataset_params, spec, config, name=args.name)
    else:
        request = _mode_request(args, dataset_name, dataset_params, config)
    if args.start_from:
        request = request.model_copy(update={"start_from": _start_from(args)})
    checked = check_request(request)
    ds = checked.dataset
    check_augment(config.augment, ds.kind, ds.task, args.mode)  # suits this data and mode?
    print(
        f"dataset {ds.name}: {ds.task}, input {tuple(ds.input_shape)}, "
        f"{len(ds.train)}/{len(ds.val)}/{len(ds.test)} train/val/test"
    )
    for name, built in checked.modules.items():
        if len(checked.modules) > 1:
            print(f"{name}:")
        print(built.format_table())
    print(f"device {resolve_device(request.config.device)}")
    callbacks = [] if args.quiet else [ProgressBar()]
    if request.start_from is not None:
        print(f"starting from run {request.start_from.run_id}")
    start = time.perf_counter()
    outcome = run_request(request, store, callbacks=callbacks, dataset=ds)
    state = outcome.state
    print(f"{state.status}: {state.message} ({time.perf_counter() - start:.1f}s)")
    for key, value in state.final_metrics.items():
        print(f"  {key:<12} {value:.4f}")
    print(f"run id: {outcome.run_id}")
    return 0 if state.status in ("completed", "stopped") else 1


def cmd_runs(args: argparse.Namespace) -> int:
    runs = _store(args).list_runs(limit=args.limit)
    if not runs:
        print("no runs yet: try `python -m playground train`")
        return 0
    print(
        f"{'run':<24}{'status':<13}{'dataset':<16}{'epochs':>7}{'params':>10}  {'test':<14}started"
    )
    for r in runs:
        score = next(
            (
                f"{k.removeprefix('test_')} {v:.3f}"
                for k, v in r.final_metrics.items()
                if k in ("test_acc", "test_r2")
            ),
            "-",
        )
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        print(
            f"{r.id:<24}{r.status:<13}{r.dataset:<16}{r.epochs_done:>7}{r.param_count:>10,}  {score:<14}{started}"
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from playground.model import ModelSpec
    from playground.model.shorthand import format_layers

    store = _store(args)
    r = store.get_run(args.run_id)
    if args.json:
        print(json.dumps({**vars(r), "history": store.epochs(r.id)}, indent=2, default=str))
        return 0
    print(f"run {r.id}  {r.name}".rstrip())
    print(f"status   {r.status}" + (f": {r.message}" if r.message else ""))
    print(f"dataset  {r.dataset} {json.dumps(r.dataset_params)}")
    print(f"model    {format_layers(ModelSpec.parse(r.spec))}  ({r.param_count:,} parameters)")
    config = TrainConfig.parse(r.config)
    changed = {
        k: v
        for k, v in config.model_dump().items()
        if v != TrainConfig.model_fields[k].get_default(call_default_factory=True)
    }
    print(f"config   {json.dumps(changed) if changed else 'defaults'}")
    if r.lineage:
        print(f"lineage  {json.dumps(r.lineage)}")
    print(f"epochs   {r.epochs_done}, {r.duration:.1f}s")
    for key, value in r.final_metrics.items():
        print(f"  {key:<12} {value:.4f}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from playground.report.build import build_report, check_formats, write_report

    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    check_formats(formats)
    store = _store(args)
    store.get_run(args.run_id)  # an unknown run fails before anything is loaded

    def progress(fraction: float, message: str) -> None:
        if not args.quiet:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    report = build_report(
        args.run_id,
        store,
        explain_rows=args.rows,
        attributes=args.attribute,
        threshold=args.threshold,
        progress=progress,
    )
    for path in write_report(report, args.out or store.root / "reports", formats):
        print(path)
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from playground.data import list_datasets

    for info in list_datasets():
        params = ", ".join(f"{k}={v}" for k, v in info.defaults().items())
        print(f"{info.name:<16}{info.task:<12}{info.kind:<10}{params}")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    from playground.model import layer_kinds

    kinds = layer_kinds()
    # Columns as wide as their longest entry plus two spaces: a long description must never
    # run into the parameter list.
    kind_width = max(len(k) for k in kinds) + 2
    expects_width = max(len(c.expects) for c in kinds.values()) + 2
    print(f"{'kind':<{kind_width}}{'input':<{expects_width}}parameters")
    for kind, cls in kinds.items():
        fields = [f for f in cls.model_fields if f != "kind"]
        print(f"{kind:<{kind_width}}{cls.expects:<{expects_width}}{', '.join(fields) or '-'}")
    return 0
