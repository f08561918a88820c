"""Generative runs from the CLI and as exported PyTorch source: every module's file rebuilds
the module, takes the stored run's weights and gives the same outputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from playground.cli import main
from playground.model.export_modules import export_module_sources
from playground.model.spec import ModelSpec
from playground.runner import load_run
from playground.store import RunStore


def _load(source: str, path: Path):
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train(tmp_path: Path, capsys, *args: str) -> tuple[int, str]:
    code = main(["--data-dir", str(tmp_path), "train", "--quiet", "--epochs", "2", *args])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize(
    ("dataset", "mode", "options"),
    [
        ("digits", "vae", ["--mode-option", "latent=2"]),
        ("ring", "gan", ["--mode-option", "noise=2"]),
    ],
)
def test_the_cli_trains_a_mode_and_every_module_exports_with_the_same_outputs(
    tmp_path: Path, capsys, dataset: str, mode: str, options: list[str]
) -> None:
    code, out = _train(tmp_path, capsys, "--dataset", dataset, "--mode", mode, *options)
    assert code == 0, out
    run_id = out.strip().splitlines()[-1].split()[-1]
    store = RunStore(tmp_path)
    run = load_run(run_id, store)
    assert run.record.mode == mode and len(run.modules) == 2
    for name in run.modules:
        assert f"{name}:" in out  # each module's shape table is printed
    specs = {n: ModelSpec.parse(s) for n, s in run.record.module_specs.items()}
    options_used = run.record.request["mode_options"]
    sources = export_module_sources(mode, run.dataset, specs, options_used)
    assert list(sources) == [f"{n}.py" for n in run.modules]
    for name, built in run.modules.items():
        generated = _load(sources[f"{name}.py"], tmp_path / f"{name}.py").build_model()
        generated.load_state_dict(built.module.state_dict(), strict=True)
        generated.eval()
        x = torch.randn(5, *built.input_shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            torch.testing.assert_close(generated(x), built.module.eval()(x))


def test_the_cli_names_a_wrong_module_and_option(tmp_path: Path, capsys) -> None:
    code, out = _train(
        tmp_path,
        capsys,
        "--dataset",
        "digits",
        "--mode",
        "autoencoder",
        "--module",
        "generator=linear",
    )
    assert code != 0 and "no module named 'generator'" in out and "encoder, decoder" in out
    code, out = _train(
        tmp_path, capsys, "--dataset", "digits", "--mode", "vae", "--mode-option", "noise=0.3"
    )
    assert code != 0 and "'noise'" in out and "denoising" in out
    assert RunStore(tmp_path).list_runs() == []


@pytest.mark.parametrize(("dataset", "mode"), [("digits", "autoencoder"), ("ring", "gan")])
def test_the_report_has_a_generative_section(
    tmp_path: Path, capsys, dataset: str, mode: str
) -> None:
    from playground.report import build_report, to_html

    extra = ["--mode-option", "anomaly_class=0"] if mode == "autoencoder" else []
    code, out = _train(tmp_path, capsys, "--dataset", dataset, "--mode", mode, *extra)
    assert code == 0, out
    run_id = out.strip().splitlines()[-1].split()[-1]
    report = build_report(run_id, RunStore(tmp_path), explain_rows=8, n_boot=10)
    titles = [s.title for s in report.sections]
    assert titles.index("Generative model") == titles.index("Training") + 1
    section = report.sections[titles.index("Generative model")]
    assert set(section.tables[0].frame["module"]) == set(
        load_run(run_id, RunStore(tmp_path)).modules
    )
    if mode == "autoencoder":
        assert 0.0 <= section.facts["anomaly AUC (test split)"] <= 1.0
        explained = report.sections[titles.index("Explanations")]
        assert "reconstruction error" in explained.paragraphs[0]
    else:
        assert section.facts["modes covered"].endswith("of 8")
    assert "Generative model" in to_html(report)
