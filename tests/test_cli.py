"""The command line: train, runs, show, and clear messages for bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from playground.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_then_runs_then_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path)
    code, out, _ = run_cli(
        capsys,
        "--data-dir",
        data,
        "train",
        "--dataset",
        "xor",
        "--param",
        "n_samples=200",
        "--layers",
        "linear:8 relu linear",
        "--epochs",
        "3",
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
        "--quiet",
    )
    assert code == 0, out
    assert "Linear(8)" in out and "(B, 2)" in out  # the shape table
    assert "completed" in out and "test_acc" in out
    run_id = out.strip().splitlines()[-1].removeprefix("run id: ")

    code, out, _ = run_cli(capsys, "--data-dir", data, "runs")
    assert code == 0 and run_id in out and "completed" in out and "xor" in out

    code, out, _ = run_cli(capsys, "--data-dir", data, "show", run_id)
    assert code == 0
    assert '"optimizer": "sgd"' in out and '"epochs": 3' in out and "test_acc" in out
    assert "linear:8 relu linear" in out  # the shorthand as people type it

    code, out, _ = run_cli(capsys, "--data-dir", data, "show", run_id, "--json")
    shown = json.loads(out)
    assert shown["config"]["lr"] == 0.1 and len(shown["history"]) == 3


def test_train_from_a_spec_file_and_a_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "layers": [
                    {"kind": "linear", "out_features": 4},
                    {"kind": "tanh"},
                    {"kind": "linear"},
                ]
            }
        )
    )
    rows = ["a,b,label"] + [
        f"{i % 7},{(i * 3) % 5},{'yes' if i % 7 > 3 else 'no'}" for i in range(60)
    ]
    csv = tmp_path / "mine.csv"
    csv.write_text("\n".join(rows))
    code, out, err = run_cli(
        capsys,
        "--data-dir",
        str(tmp_path / "d"),
        "train",
        "--csv",
        str(csv),
        "--target",
        "label",
        "--spec",
        str(spec),
        "--epochs",
        "2",
        "--quiet",
    )
    assert code == 0, err
    assert "dataset csv: binary" in out
    assert list((tmp_path / "d" / "uploads").glob("*.csv"))  # the CSV is kept for reloading


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--dataset", "nope"], "Unknown dataset 'nope'"),
        (["train", "--layers", "linear:8 conv2d linear"], "Layer 1 (conv2d)"),
        (["train", "--lr", "-2"], "Training option 'lr'"),
        (["train", "--param", "noise"], "not NAME=VALUE"),
        (["train", "--param", "colour=red"], "has no parameter 'colour'"),
        (["train", "--param", "n_samples=lots"], "parameter 'n_samples' got 'lots'"),
        (["train", "--csv", "x.csv"], "--csv needs --target"),
        (["train", "--csv", "/nonexistent/x.csv", "--target", "y"], "Cannot read"),
        (["train", "--preset", "huge"], "Unknown preset"),
        (["train", "--device", "cuda"], "not available"),
        (["show", "20990101-000000-abcdef"], "No stored run"),
    ],
)
def test_bad_arguments_give_clear_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    if "--device" in args:
        pytest.importorskip("torch")
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    code, _, err = run_cli(capsys, "--data-dir", str(tmp_path), *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_module_entry_point_and_argparse_errors(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "playground", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "train" in ok.stdout and "runs" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "playground", "train", "--optimizer", "adamx"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "invalid choice: 'adamx'" in bad.stderr


def test_the_layers_listing_keeps_its_columns_apart(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "layers")
    assert code == 0
    lines = out.splitlines()
    start = lines[0].index("parameters")
    transformer = next(line for line in lines if line.startswith("transformer"))
    # The description ends before the parameters column, which starts with the first field.
    assert transformer[start:].startswith("nhead,") and transformer[start - 2 : start] == "  "
    assert "nheadnhead" not in out
