"""Compression: pruning keeps the score within a margin while the measured file shrinks,
structured pruning zeroes whole units/channels, int8 stays close to float and is smaller,
every level's file reloads with identical outputs, the CLI prints the table and writes ONNX,
and the Compress page measures a stored run."""

from __future__ import annotations

import argparse
import time

import pytest
import torch

from playground.charts.compression import compression_chart
from playground.cli_compress import register
from playground.compress import (
    PRUNERS,
    CompressionError,
    CompressOptions,
    compress_run,
    prunable_layers,
    reload_level,
    zero_units,
)
from playground.errors import PlaygroundError
from playground.jobs import JobRegistry
from playground.model.shorthand import parse_layers
from playground.runner import load_run
from playground.runs import RunRequest, run_request
from playground.store import RunStore
from tests.app_helpers import open_page, wait_for

MLP = "linear:64 relu linear:64 relu linear"
CNN = "conv2d:8:3:padding=same relu maxpool2d flatten linear:32 relu linear"
CONFIG = {"epochs": 4, "lr": 0.01, "seed": 0}
# Fast options for tests: timing figures are measured but not asserted (no timing tests).
FAST = {"repeats": 2, "threads": 1}
PRUNE_MARGIN = 0.05  # accuracy points a 50% magnitude prune may lose on these models
INT8_RELATIVE_TOL = 0.03  # max |int8 - float logit| / max |float logit| (measured: ~1%)
INT8_AGREEMENT = 0.98  # fraction of test rows where int8 predicts the float model's class


def _train(store: RunStore, dataset: str, layers: str, params: dict | None = None) -> str:
    request = RunRequest.supervised(
        dataset, params or {}, parse_layers(layers).model_dump(), CONFIG
    )
    outcome = run_request(request, store)
    assert outcome.state.status == "completed", outcome.state.message
    return outcome.run_id


@pytest.fixture(scope="module")
def digits_cnn(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("compress") / "data")
    run_id = _train(store, "digits", CNN)
    loaded = load_run(run_id, store)
    result = compress_run(
        loaded,
        CompressOptions(methods=["unstructured", "structured"], sparsities=[0.5], **FAST),
    )
    return store, run_id, loaded, result


def test_pruning_half_the_weights_keeps_the_score_and_shrinks_the_file(digits_cnn) -> None:
    _, _, _, result = digits_cnn
    original, pruned = result.level("original"), result.level("unstructured 50%")
    assert original.score > 0.8  # a model worth compressing
    assert pruned.score >= original.score - PRUNE_MARGIN
    assert pruned.nonzero <= 0.51 * pruned.params and original.nonzero == original.params
    # The dense file keeps the zeros; the sparse file (measured bytes) drops them.
    assert len(pruned.files["dense"]) == len(original.files["dense"])
    # Half the values plus a 1-bit mask, and a safetensors header per tensor.
    assert len(pruned.files["sparse"]) < 0.65 * len(original.files["dense"])
    table = result.table()
    assert list(table["level"]) == [
        "original",
        "unstructured 50%",
        "structured 50%",
        "int8_dynamic",
    ]
    assert {"latency_ms_b1", "latency_ms_b256", "test_acc", "size_bytes"} <= set(table.columns)
    assert (table[["latency_ms_b1", "latency_ms_b256"]] > 0).all().all()


def test_structured_pruning_zeroes_whole_units_and_channels(digits_cnn) -> None:
    _, _, _, result = digits_cnn
    model = result.level("structured 50%").model
    conv, hidden, output = prunable_layers(model)
    assert zero_units(conv) == 4  # half of 8 channels, weights and bias
    assert zero_units(hidden) == 16  # half of 32 units
    assert zero_units(output) == 0  # every class keeps its score
    # Whole rows are zero, not scattered weights: every non-zero row is entirely non-zero
    # in its L2-norm sense (the mask is per row).
    rows = conv.weight.flatten(1)
    assert ((rows == 0).all(1) | (rows != 0).any(1)).all()


def test_int8_stays_close_to_float_and_its_file_is_smaller(digits_cnn) -> None:
    _, _, loaded, result = digits_cnn
    original, int8 = result.level("original"), result.level("int8_dynamic")
    x = loaded.dataset.test.x
    with torch.no_grad():
        ours, theirs = int8.model(x), original.model(x)
    diff = (ours - theirs).abs().max().item()
    assert 0 < diff < INT8_RELATIVE_TOL * theirs.abs().max().item()  # changed, but a little
    agree = (ours.argmax(1) == theirs.argmax(1)).float().mean().item()
    assert agree >= INT8_AGREEMENT
    assert abs(int8.score - original.score) <= 0.02
    assert len(int8.files["int8"]) < len(original.files["dense"])


def test_every_level_reloads_from_its_file_with_identical_outputs(digits_cnn) -> None:
    _, _, loaded, result = digits_cnn
    x = loaded.dataset.test.x[:64]
    for level in result.levels:
        for fmt in level.files:
            again = reload_level(level, loaded.model, fmt)
            with torch.no_grad():
                assert torch.equal(again(x), level.model(x)), (level.name, fmt)


def test_fine_tuning_after_pruning_keeps_pruned_weights_at_zero(tmp_path) -> None:
    store = RunStore(tmp_path / "data")
    loaded = load_run(_train(store, "iris", MLP), store)
    options = CompressOptions(methods=["unstructured"], sparsities=[0.75], quantize=[], **FAST)
    plain = compress_run(loaded, options).level("unstructured 75%")
    tuned = compress_run(loaded, options.model_copy(update={"finetune_epochs": 3})).level(
        "unstructured 75%"
    )
    assert tuned.finetune_epochs == 3
    assert tuned.nonzero == plain.nonzero  # the same weights pruned, still zero
    before = [p for n, p in plain.model.named_parameters() if n.endswith("weight")]
    after = [p for n, p in tuned.model.named_parameters() if n.endswith("weight")]
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_an_lstm_is_quantised_and_reloads(tmp_path) -> None:
    store = RunStore(tmp_path / "data")
    run_id = _train(store, "long_memory", "lstm:16 linear", {"n_samples": 300, "seq_len": 8})
    loaded = load_run(run_id, store)
    result = compress_run(loaded, CompressOptions(methods=[], **FAST))
    int8 = result.level("int8_dynamic")
    assert "DynamicQuantizedLSTM" in repr(int8.model)
    again = reload_level(int8, loaded.model, "int8")
    x = loaded.dataset.test.x[:32]
    assert torch.equal(again(x), int8.model(x))
    assert result.notes and "deprecated" in result.notes[0]


def test_a_run_of_several_modules_is_refused_with_what_to_do_instead(tmp_path) -> None:
    store = RunStore(tmp_path / "data")
    request = RunRequest.parse(
        {
            "dataset": "digits",
            "modules": {
                "encoder": parse_layers("flatten linear:8 relu linear").model_dump(),
                "decoder": parse_layers("linear:8 relu linear").model_dump(),
            },
            "mode": "autoencoder",
            "mode_options": {"latent": 2},
            "config": {"epochs": 1, "seed": 0},
        }
    )
    run_id = run_request(request, store).run_id
    with pytest.raises(CompressionError) as info:
        compress_run(load_run(run_id, store))
    assert "autoencoder" in info.value.message and "ONNX" in info.value.hint


def test_bad_options_name_the_option() -> None:
    with pytest.raises(CompressionError, match="sparsities"):
        CompressOptions.make(sparsities=[1.5])
    with pytest.raises(CompressionError, match="methods"):
        CompressOptions.make(methods=["random"])
    assert set(PRUNERS) == {"unstructured", "structured"}


def test_the_chart_plots_the_measured_numbers(digits_cnn) -> None:
    _, _, _, result = digits_cnn
    table = result.table()
    fig = compression_chart(table, latency_batch=256)
    size_traces = [t for t in fig.data if t.xaxis == "x"]
    latency_traces = [t for t in fig.data if t.xaxis == "x2"]
    unstructured = next(t for t in size_traces if t.name == "unstructured")
    row = table[table["level"] == "unstructured 50%"].iloc[0]
    assert unstructured.x[0] == pytest.approx(row["sparse_bytes"] / 1024)
    assert unstructured.y[0] == pytest.approx(row["test_acc"])
    lat = next(t for t in latency_traces if t.name == "int8_dynamic")
    assert lat.x[0] == pytest.approx(table.iloc[-1]["latency_ms_b256"])


def _cli(store: RunStore, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(store.root))
    register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_cli_prints_the_table_and_exports_onnx(digits_cnn, tmp_path, capsys) -> None:
    store, run_id, _, _ = digits_cnn
    code = _cli(
        store,
        [
            "compress",
            run_id,
            "--sparsity",
            "0.9",
            "--method",
            "unstructured",
            "--quantize",
            "--repeats",
            "2",
            "--out",
            str(tmp_path / "files"),
        ],
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "unstructured 90%" in printed and "int8_dynamic" in printed and "deprecated" in printed
    assert (tmp_path / "files" / "unstructured_90pct.sparse.safetensors").exists()
    from playground.compress.stored import stored_compression

    kept = stored_compression(store, run_id)  # the CLI keeps its measurement with the run
    assert kept is not None and "unstructured 90%" in list(kept.table["level"])
    assert f"kept with run {run_id}" in printed
    out = tmp_path / "model.onnx"
    assert _cli(store, ["onnx", run_id, "--out", str(out)]) == 0
    assert out.stat().st_size > 1000
    assert "max abs diff" in capsys.readouterr().out


def test_the_compress_page_measures_a_run_and_offers_its_files(registry: JobRegistry) -> None:
    job = registry.submit(RunRequest.supervised("iris", {}, parse_layers(MLP).model_dump(), CONFIG))
    wait_for(job)
    at = open_page("compress", job_id=job.id)
    assert at.title[0].value == "Compress"
    at.multiselect(key="compress_sparsities").set_value([0.5])
    at.number_input(key="compress_repeats").set_value(3)
    at = _click_and_wait(at, "compress_go")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["level"]) == [
        "original",
        "unstructured 50%",
        "structured 50%",
        "int8_dynamic",
    ]
    assert at.get("plotly_chart")
    assert any("deprecated" in i.value for i in at.info)
    labels = [b.proto.label for b in at.get("download_button")]
    assert any(label.startswith("int8 weights") for label in labels)  # the chosen level's
    at.selectbox(key="onnx_level").set_value("unstructured 50%")
    at = _click_and_wait(at, "onnx_go")
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert any(label.startswith("model.onnx") for label in labels)
    assert float(at.metric[0].value) < 1e-5  # onnxruntime vs PyTorch, pruned model
    # The measurement is kept with the run: a fresh session shows the same table and files.
    again = open_page("compress", job_id=job.id)
    assert not again.exception
    assert any(c.value.startswith("Kept with this run: measured") for c in again.caption)
    kept = again.dataframe[0].value
    assert list(kept["level"]) == list(table["level"])
    assert list(kept["size_bytes"]) == list(table["size_bytes"])
    assert list(kept["latency_ms_b1"]) == pytest.approx(list(table["latency_ms_b1"]))
    labels = [b.proto.label for b in again.get("download_button")]
    assert any(label.startswith("int8 weights") for label in labels)


def test_a_measurement_is_kept_with_its_run_and_deleted_with_it(digits_cnn) -> None:
    from playground.compress.serialize import load_int8
    from playground.compress.stored import save_compression, stored_compression

    store, run_id, loaded, result = digits_cnn
    kept = save_compression(store, result)  # replaces what the CLI test kept, if it ran
    again = stored_compression(store, run_id)
    assert again is not None and again.measured_at == pytest.approx(kept.measured_at)
    assert list(again.table["level"]) == list(result.table()["level"])
    assert list(again.table["size_bytes"]) == list(result.table()["size_bytes"])
    int8 = result.level("int8_dynamic")
    data = store.load_artifact(run_id, again.files["int8_dynamic"]["int8"])
    assert data == int8.files["int8"]  # the very bytes measured
    reloaded = load_int8(loaded.model, data)
    x = loaded.dataset.test.x[:16]
    assert torch.equal(reloaded(x), int8.model(x))
    with pytest.raises(PlaygroundError, match="not a valid artifact name"):
        store.save_artifact(run_id, "../escape", b"x")
    other = _train(store, "iris", MLP)  # a run of its own: the fixture's stays for the others
    store.save_artifact(other, "compression/table.json", b"{}")
    store.delete_run(other)
    assert not store.artifact_dir(other).exists()


def _click_and_wait(at, key: str):
    """Press a button that starts a background task, wait for it, redraw."""
    from playground.tasks import default_tasks

    at.button(key=key).click().run()
    deadline = time.time() + 60
    while any(not t.done for t in default_tasks().tasks()) and time.time() < deadline:
        time.sleep(0.05)
    return at.run()
