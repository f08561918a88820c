"""Model size limits, checked before anything is allocated, and out-of-memory runs that end
'failed' with advice instead of a traceback.

The out-of-memory tests ask PyTorch for far more memory than the machine has, so the
allocator refuses at once without using any; they are skipped where the kernel would grant
such a request lazily (and then let the weight init touch it).
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
import torch

from playground.cli import main
from playground.errors import PlaygroundError, SpecError
from playground.jobs import JobRegistry
from playground.model import DataSignature, build_model, check_model, check_model_partial
from playground.model.limits import activation_bytes
from playground.model.shorthand import parse_layers
from playground.runs import RunRequest, check_request, run_request
from playground.runs.execute import is_out_of_memory, out_of_memory_message
from playground.settings import DEFAULT_MAX_PARAMS, model_limits
from playground.store import RunStore
from playground.train import Callback
from tests.app_helpers import open_page
from tests.signatures import FLAT, TOKENS

HUGE_MLP = "linear:65536 relu linear:65536 relu linear"  # 4.3 billion parameters
# Passes the meta check with the limits raised; its second Conv2d's weight is 4096 x 4096 x
# 63 x 63 float32 values, 266 GB, which the CPU allocator refuses at once.
HUGE_CONV = "conv2d:4096:3:padding=same conv2d:4096:63:padding=same flatten linear"
HUGE_CONV_BYTES = 4096 * 4096 * 63 * 63 * 4
FOUR_TIB = 2**40 * 4  # bytes of torch.empty(2**40)


def _refused_at_once(n_bytes: int) -> bool:
    """Whether asking for `n_bytes` fails at once here: Linux with heuristic or strict
    overcommit, and much less memory than that."""
    if sys.platform != "linux":
        return False
    if Path("/proc/sys/vm/overcommit_memory").read_text().strip() == "1":
        return False
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    swap = next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("SwapTotal:")
    )
    return n_bytes > 2 * (ram + swap)


needs_refusal = pytest.mark.skipif(
    not _refused_at_once(HUGE_CONV_BYTES),
    reason="this machine could grant a 266 GB allocation lazily; not safe to try",
)


# --- parameters --------------------------------------------------------------------------


def test_a_4e9_parameter_model_is_refused_on_the_meta_device_naming_the_layer() -> None:
    check_model(parse_layers("linear:8 relu linear"), FLAT)  # PyTorch's one-time meta imports
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        check_model(parse_layers(HUGE_MLP), FLAT)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Initialising 16 GB of weights takes many seconds; the meta check takes milliseconds.
    assert seconds < 1.0 and peak < 10 * 2**20
    error = caught.value
    assert (error.layer_index, error.layer_kind) == ("2", "linear")
    text = str(error)
    assert "The model has 4.3 billion parameters, more than the limit of 50 million." in text
    assert "This layer, Linear(65536), holds 4.3 billion of them" in text
    assert "fewer out_features" in text and "PLAYGROUND_MAX_PARAMS (now 50000000)" in text


def test_a_huge_embedding_is_refused_too() -> None:
    spec = [
        {"kind": "embedding", "num_embeddings": 1_000_000, "embedding_dim": 4096},
        {"kind": "flatten"},
        {"kind": "linear"},
    ]
    with pytest.raises(SpecError) as caught:
        check_model(spec, TOKENS)
    assert (caught.value.layer_index, caught.value.layer_kind) == ("0", "embedding")
    assert "4.1 billion parameters" in str(caught.value)
    assert "smaller embedding_dim" in str(caught.value)


def test_the_layer_named_is_the_biggest_not_the_block_around_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "1000")
    # The residual block holds 3,408 parameters, its first Linear 1,800 of them.
    spec = parse_layers("linear:8 residual[linear:200 relu linear:8] linear")
    with pytest.raises(SpecError) as caught:
        check_model(spec, FLAT)
    assert caught.value.layer_index == "1.0"
    assert "3,450 parameters, more than the limit of 1,000" in str(caught.value)
    assert "holds 1,800 of them (52%)" in str(caught.value)


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = parse_layers("linear:64 relu linear:64 relu linear")  # 4,482 parameters
    assert model_limits().max_params == DEFAULT_MAX_PARAMS
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "4481")
    with pytest.raises(SpecError, match="4,482 parameters, more than the limit of 4,481"):
        check_model(spec, FLAT)
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "4482")
    assert check_model(spec, FLAT).total_params == 4482
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "5e7")
    assert model_limits().max_params == 50_000_000
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "lots")
    with pytest.raises(PlaygroundError, match="PLAYGROUND_MAX_PARAMS='lots' is not a positive"):
        check_model(spec, FLAT)


def test_the_partial_check_keeps_the_whole_table_and_marks_the_dominant_layer() -> None:
    check = check_model_partial(parse_layers(HUGE_MLP).model_dump(), FLAT)
    assert check.built is None and check.error is not None
    assert check.error.layer_index == "2" and not check.failed
    assert [r.params for r in check.rows] == [196_608, 0, 4_295_032_832, 0, 131_074]


def test_the_build_page_shows_the_limit_like_any_spec_error(registry: JobRegistry) -> None:
    at = open_page("build", layers=parse_layers(HUGE_MLP).model_dump()["layers"])
    table = at.dataframe[0].value
    assert list(table["#"]) == ["0", "1", "2", "3", "4"]
    assert table["layer"][2].startswith("❌") and table["params"][2] == "4,295,032,832"
    assert any(
        e.value.startswith("Layer 2 (linear): The model has 4.3 billion parameters")
        for e in at.error
    )
    assert not at.session_state["spec_valid"] and not at.exception


def test_a_run_of_several_modules_is_limited_as_a_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "5000")
    request = RunRequest.parse(
        {
            "dataset": "xor",
            "dataset_params": {"n_samples": 100},
            "mode": "alternating",
            "modules": {  # 3,280 and 1,826 parameters: each fits, not both
                "encoder": parse_layers("linear:48 relu linear:48 relu linear").model_dump(),
                "head": parse_layers("linear:96 relu linear").model_dump(),
            },
        }
    )
    with pytest.raises(SpecError) as caught:
        check_request(request)
    text = str(caught.value)
    assert "modules have 5,106 parameters together, more than the limit of 5,000" in text
    assert "Module 'encoder' holds 3,280, 2,352 of them in its layer 2, Linear(48)." in text
    assert caught.value.layer_index is None  # an index alone would not say which module


# --- activation memory -------------------------------------------------------------------


def test_activation_memory_depends_on_the_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # Per example 4096 + 4096 + 2 values, 4 bytes each, twice for the backward pass: 65,552
    # bytes, so a 1 MiB limit fits 15 examples and not 16.
    monkeypatch.setenv("PLAYGROUND_MAX_ACTIVATION_MB", "1")
    spec = parse_layers("linear:4096 relu linear").model_dump()

    def request(batch_size: int) -> RunRequest:
        return RunRequest.supervised("xor", {"n_samples": 200}, spec, {"batch_size": batch_size})

    assert len(check_request(request(15)).dataset.train) == 140
    with pytest.raises(SpecError) as caught:
        check_request(request(16))
    text = str(caught.value)
    assert caught.value.layer_index == "0"
    assert (
        "Training with batch size 16 needs about 1,048,832 bytes of activation memory per " in text
    )
    assert "more than the limit of 1,048,576 bytes. This layer, Linear(4096), keeps 512 KiB" in text
    assert "use a batch size of at most 15 (now 16)" in text
    assert "PLAYGROUND_MAX_ACTIVATION_MB (now 1)" in text
    # A batch never holds more than the training set: 140 examples, whatever batch_size asks.
    small = parse_layers("linear:8 relu linear").model_dump()
    check_request(RunRequest.supervised("xor", {"n_samples": 200}, small, {"batch_size": 10**6}))


def _kept_by_autograd(module: torch.nn.Module, x: torch.Tensor) -> int:
    """Values autograd keeps for the backward pass of one forward pass (not the weights or
    the input), counted by storage so a tensor two operations keep counts once."""
    skip = {p.untyped_storage().data_ptr() for p in module.parameters()}
    skip.add(x.untyped_storage().data_ptr())
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            kept[storage.data_ptr()] = storage.nbytes() // 4
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x)
    return sum(kept.values())


@pytest.mark.parametrize(
    ("layers", "signature", "low", "high"),
    [
        ("linear:256 relu linear:256 relu linear", DataSignature((64,), 2, "binary"), 1, 2.5),
        (
            "conv2d:8:3:padding=same relu maxpool2d conv2d:16:3:padding=same relu flatten linear",
            DataSignature((3, 16, 16), 10, "multiclass"),
            1,
            2.5,
        ),
        ("lstm:32:sequence gru:32 linear", DataSignature((24, 8), 4, "multiclass"), 0.75, 1.5),
        ("transformer:2 transformer:2:mean linear", DataSignature((48, 16), 4), 0.75, 1.5),
    ],
)
def test_the_activation_estimate_is_close_to_what_autograd_keeps(
    layers: str, signature: DataSignature, low: float, high: float
) -> None:
    torch.manual_seed(0)
    built = build_model(parse_layers(layers), signature)
    batch = 4
    kept = _kept_by_autograd(built.module, torch.randn(batch, *signature.input_shape))
    estimate = sum(r.activations for r in built.rows) * batch
    assert low <= estimate / kept <= high, (estimate, kept)
    # Bytes: 4 per value, twice for the backward pass.
    assert activation_bytes(built.rows, batch) == estimate * 8


# --- out of memory -----------------------------------------------------------------------


@needs_refusal
def test_out_of_memory_while_building_fails_the_run_in_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "1e12")
    data = ["--data-dir", str(tmp_path)]
    code = main([*data, "train", "--dataset", "digits", "--layers", HUGE_CONV, "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    last = out.strip().splitlines()
    assert last[-2].startswith("failed: Ran out of memory while building the model:")
    assert "one allocation asked for 248 GiB" in out
    # Building does not depend on the batch size: the advice leaves it out.
    assert "What to try: a smaller model" in out and "batch size" not in out
    run_id = last[-1].removeprefix("run id: ")
    stored = RunStore(tmp_path).get_run(run_id)
    assert stored.status == "failed" and stored.message.startswith("Ran out of memory")
    # The same process trains the next run as usual.
    small = ["--dataset", "xor", "--layers", "linear:8 relu linear", "--epochs", "2", "--quiet"]
    code = main([*data, "train", *small])
    assert code == 0 and "completed" in capsys.readouterr().out


def test_the_cli_refuses_a_model_over_the_limit_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--data-dir", str(tmp_path), "train", "--dataset", "xor", "--layers", HUGE_MLP])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in out + err
    assert err.startswith("error: Layer 2 (linear): The model has 4.3 billion parameters")
    assert "Fix: give this Linear fewer out_features" in err
    assert RunStore(tmp_path).list_runs() == []  # refused before anything was stored


class AsksForFourTiB(Callback):
    """A real allocator failure inside the training loop, after the second step, without
    using any memory: what a batch too big for the device does mid-run."""

    def on_batch_end(self, trainer: object, loss: torch.Tensor) -> None:
        if trainer.state.step == 2:  # type: ignore[attr-defined]
            torch.empty(2**40)


@pytest.mark.skipif(not _refused_at_once(FOUR_TIB), reason="4 TiB could be granted lazily here")
def test_out_of_memory_mid_training_fails_the_run_with_advice(store: RunStore) -> None:
    spec = parse_layers("linear:8 relu linear").model_dump()
    config = {"epochs": 2, "batch_size": 16, "device": "cpu", "seed": 0}
    request = RunRequest.supervised("xor", {"n_samples": 200}, spec, config)
    outcome = run_request(request, store, callbacks=[AsksForFourTiB()])
    state = outcome.state
    assert state.status == "failed"
    assert state.message.startswith("Ran out of memory while training (epoch 1, after 2 steps)")
    assert "one allocation asked for 4 TiB" in state.message
    assert "a smaller batch size (now 16, e.g. 4)" in state.message
    assert "closing other programs" in state.message  # on the CPU, not "train on the CPU"
    stored = store.get_run(outcome.run_id)
    assert (stored.status, stored.message) == ("failed", state.message)
    again = run_request(request, store)  # the process is fine
    assert again.state.status == "completed"


def test_a_gpu_out_of_memory_advises_the_cpu_and_other_errors_are_not_memory() -> None:
    gpu = torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 7.6 GiB"
    )
    assert is_out_of_memory(gpu)
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    request = RunRequest.supervised("xor", {}, parse_layers("linear").model_dump())
    text = out_of_memory_message(f"OutOfMemoryError: {gpu}", request, "while training")
    assert text.startswith("Ran out of memory while training: the GPU has no room")
    assert "(one allocation asked for 2.00 GiB)" in text
    assert "training on the CPU (device 'cpu'" in text
    assert "a smaller batch size (now 32, e.g. 8)" in text
