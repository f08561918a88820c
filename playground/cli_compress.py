"""Command line for compression and ONNX export; `register(sub)` adds the subcommands:

python -m playground compress RUN [--sparsity 0.5 0.9] [--method unstructured]
                                  [--finetune N] [--quantize] [--out DIR]
python -m playground onnx RUN --out model.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playground.compress.prune import PRUNERS
from playground.compress.quantize import QUANTIZERS


def register(sub: argparse._SubParsersAction) -> None:
    """Add `compress` and `onnx` to the CLI's subcommands."""
    compress = sub.add_parser(
        "compress",
        help="prune / quantise a stored run's model and print the measured table",
    )
    compress.add_argument("run_id", metavar="RUN")
    compress.add_argument(
        "--sparsity",
        type=float,
        nargs="+",
        default=[0.5, 0.9],
        metavar="S",
        help="fractions of weights to prune, e.g. 0.25 0.5 0.75 0.9 (default 0.5 0.9)",
    )
    compress.add_argument(
        "--method",
        nargs="+",
        choices=list(PRUNERS),
        default=list(PRUNERS),
        help="pruning methods (default: all)",
    )
    compress.add_argument(
        "--finetune", type=int, default=0, metavar="N", help="fine-tune N epochs after pruning"
    )
    compress.add_argument(
        "--quantize",
        action="store_true",
        help=f"add dynamic int8 quantisation ({', '.join(QUANTIZERS)})",
    )
    compress.add_argument("--threads", type=int, default=1, help="CPU threads while timing")
    compress.add_argument("--repeats", type=int, default=20, help="timed passes per batch")
    compress.add_argument("--out", type=Path, help="a folder to write every level's files to")
    compress.set_defaults(func=cmd_compress)

    onnx = sub.add_parser("onnx", help="export a stored run's modules to ONNX (checked)")
    onnx.add_argument("run_id", metavar="RUN")
    onnx.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the .onnx file (a run of several modules writes NAME_<module>.onnx beside it)",
    )
    onnx.set_defaults(func=cmd_onnx)


def _store(args: argparse.Namespace):
    from playground.store import RunStore

    return RunStore(getattr(args, "data_dir", None))


def cmd_compress(args: argparse.Namespace) -> int:
    from playground.compress import CompressOptions, compress_run
    from playground.runner import load_run

    options = CompressOptions.make(
        methods=args.method,
        sparsities=args.sparsity,
        finetune_epochs=args.finetune,
        quantize=list(QUANTIZERS) if args.quantize else [],
        threads=args.threads,
        repeats=args.repeats,
    )
    from playground.compress.stored import save_compression

    store = _store(args)
    result = compress_run(load_run(args.run_id, store), options)
    save_compression(store, result)  # kept with the run: the Compress page shows it
    table = result.table()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(
        f"latency: median of {result.repeats} passes, {result.threads} CPU thread(s); "
        "sizes: bytes of the files as written"
    )
    for note in result.notes:
        print(f"note: {note}")
    print(f"kept with run {result.run_id} (the Compress page shows it)")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for level in result.levels:
            for fmt, data in level.files.items():
                slug = level.name.replace(" ", "_").replace("%", "pct")
                (args.out / f"{slug}.{fmt}.safetensors").write_bytes(data)
        print(f"files written to {args.out}")
    return 0


def cmd_onnx(args: argparse.Namespace) -> int:
    from playground.model.onnx_export import export_run
    from playground.runner import load_run

    exports = export_run(load_run(args.run_id, _store(args)))
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    for name, export in exports.items():
        path = out if len(exports) == 1 else out.with_name(f"{out.stem}_{name}{out.suffix}")
        path.write_bytes(export.data)
        print(
            f"{name}: {path} ({len(export.data)} bytes); onnxruntime vs PyTorch on "
            f"{export.rows_checked} rows: max abs diff {export.max_abs_diff:.2e}"
        )
    return 0
