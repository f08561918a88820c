"""Benchmark compression on the 'cnn' preset trained on the 8x8 digits (fixed seed).

Prints the measured table (file sizes, non-zero weights, CPU latency at batch 1 and 256,
test accuracy) for the original, unstructured and structured pruning at 25/50/75/90% (with
optional fine-tuning) and dynamic int8, then each level's latency as a ratio to the original
model measured in the same run (the baseline), int8/float first.

Latency is the median of --repeats forward passes with torch.set_num_threads(--threads); on a
shared machine compare ratios, not absolute milliseconds.

Run: .venv/bin/python bench/bench_compression.py [--epochs 10] [--finetune 0] [--repeats 50]
     [--threads 1] [--preset cnn] [--run RUN_ID]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, no install

from playground.compress import CompressOptions, compress_run
from playground.model.presets import PRESETS
from playground.runner import load_run
from playground.runs import RunRequest, run_request
from playground.store import RunStore


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--finetune", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--preset", default="cnn")
    parser.add_argument("--run", help="a stored run instead of training one")
    parser.add_argument("--data-dir", type=Path, help="the store holding --run")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats}")
    if args.run:
        loaded = load_run(args.run, RunStore(args.data_dir))
    else:
        store = RunStore(Path(tempfile.mkdtemp()) / "data")
        request = RunRequest.supervised(
            "digits",
            {},
            PRESETS[args.preset].spec().model_dump(),
            {"epochs": args.epochs, "lr": 0.005, "seed": 0},
        )
        outcome = run_request(request, store)
        loaded = load_run(outcome.run_id, store)
        print(f"trained '{args.preset}' on digits for {args.epochs} epochs: {outcome.run_id}")
    options = CompressOptions(
        sparsities=[0.25, 0.5, 0.75, 0.9],
        finetune_epochs=args.finetune,
        threads=args.threads,
        repeats=args.repeats,
    )
    result = compress_run(loaded, options)
    table = result.table()
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.drop(columns=["method"]).to_string(index=False, float_format="{:.4g}".format))
    base = result.level("original")
    int8 = next((lv for lv in result.levels if lv.method == "int8_dynamic"), None)
    if int8 is not None:
        for batch in (1, 256):
            ratio = int8.latency_ms[batch] / base.latency_ms[batch]
            print(f"int8/float latency, batch {batch:3d}: {ratio:.2f}  (< 1: int8 faster)")
        print(f"int8/float file size: {int8.size_bytes / base.size_bytes:.2f}")
    print("latency ratio to the original, batch 1 / batch 256; smallest file / original file:")
    for lv in result.levels[1:]:
        ratios = [lv.latency_ms[b] / base.latency_ms[b] for b in (1, 256)]
        print(
            f"  {lv.name:<18} {ratios[0]:.2f} / {ratios[1]:.2f};  "
            f"{lv.smallest_bytes / base.size_bytes:.2f}"
        )


if __name__ == "__main__":
    main()
