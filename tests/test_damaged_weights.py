"""A weights file that is cut short, tampered with or from another model is refused with a
clear message everywhere (load_run, the CLI's report, the Inspect page, start_from), nothing in
it is ever executed, and the run's record and history stay usable."""

from __future__ import annotations

import pytest

from playground.cli import main
from playground.errors import WeightsError
from playground.jobs import JobRegistry
from playground.model.shorthand import parse_layers
from playground.runner import load_run
from playground.runs import RunRequest, check_request
from playground.runs.execute import start_weights
from playground.store import RunStore
from tests.app_helpers import open_page
from tests.run_helpers import train_stored

SPEC = "linear:8 relu linear"


def _trained(store: RunStore) -> str:
    outcome, _ = train_stored("xor", {"n_samples": 120}, parse_layers(SPEC), {"epochs": 2}, store)
    return outcome.run_id


def _damage(store: RunStore, run_id: str, how: str) -> None:
    path = store.weights_path(run_id)
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(b"\x80\x04 not safetensors, maybe a pickle" * 10)
    else:  # a valid file of another model: the shapes do not fit
        bigger, _ = train_stored(
            "xor", {"n_samples": 120}, parse_layers("linear:16 relu linear"), {"epochs": 1}, store
        )
        path.write_bytes(store.weights_path(bigger.run_id).read_bytes())


@pytest.mark.parametrize("how", ["truncated", "garbage", "other model"])
def test_load_run_refuses_a_damaged_file_and_keeps_the_record(store: RunStore, how: str) -> None:
    run_id = _trained(store)
    epochs = store.epochs(run_id)
    _damage(store, run_id, how)
    with pytest.raises(WeightsError) as err:
        load_run(run_id, store)
    assert f"weights file of run {run_id} cannot be loaded" in err.value.message
    assert "train it again" in err.value.hint
    assert store.get_run(run_id).status == "completed" and store.epochs(run_id) == epochs


def test_the_cli_report_says_why_instead_of_a_traceback(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RunStore(tmp_path)
    run_id = _trained(store)
    _damage(store, run_id, "truncated")
    code = main(["--data-dir", str(tmp_path), "report", run_id, "--quiet"])
    out, err = capsys.readouterr()
    assert code != 0
    assert "cannot be loaded" in out + err and "Traceback" not in out + err


def test_starting_from_a_damaged_run_is_refused_before_anything_is_recorded(
    store: RunStore,
) -> None:
    run_id = _trained(store)
    _damage(store, run_id, "garbage")
    request = RunRequest.supervised(
        "xor", {"n_samples": 120}, parse_layers(SPEC), {"epochs": 1}, start_from={"run_id": run_id}
    )
    check_request(request)
    before = len(store.list_runs())
    with pytest.raises(WeightsError, match="cannot be read"):
        start_weights(request, store)
    assert len(store.list_runs()) == before


def test_a_run_that_ended_without_weights_does_not_say_wait(store: RunStore) -> None:
    # As a run that diverged in its first epoch is stored: an ended status and no weights.
    run_id = _trained(store)
    store.weights_path(run_id).unlink()
    store.set_status(run_id, "diverged", "The loss became NaN in epoch 1.", final=True)
    with pytest.raises(WeightsError) as err:
        load_run(run_id, store)
    assert "ended (diverged) before it saved any weights" in err.value.message
    assert "Wait" not in err.value.hint and "lower learning rate" in err.value.hint


def test_the_inspect_page_shows_the_message_not_an_exception(registry: JobRegistry) -> None:
    run_id = _trained(registry.store)
    _damage(registry.store, run_id, "truncated")
    at = open_page("inspect")
    assert not at.exception
    assert any("cannot be loaded" in e.value for e in at.error)
