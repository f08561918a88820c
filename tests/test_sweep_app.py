"""The Sweep page in AppTest: the space prefilled from the session's model and options, a
3-trial sweep started from the page (its driver a thread of this process, its trials the
registry's workers), the table of trials, the charts' numbers, and a trial opened in the
other pages."""

from __future__ import annotations

import json

import pytest

import playground.sweeps.driver as driver_module
from playground.jobs import JobRegistry
from playground.sweeps import SweepRegistry
from tests.app_helpers import open_page

LAYERS = [{"kind": "linear", "out_features": 16}, {"kind": "relu"}, {"kind": "linear"}]


@pytest.fixture
def sweeps(registry: JobRegistry, monkeypatch: pytest.MonkeyPatch) -> SweepRegistry:
    """The process's sweep registry, over the test's job registry."""
    reg = SweepRegistry(registry)
    monkeypatch.setattr(driver_module, "_default", reg)
    yield reg
    reg.stop_all()


def test_the_sweep_page_runs_a_sweep_and_opens_its_best_trial(sweeps: SweepRegistry) -> None:
    at = open_page("sweep", layers=LAYERS, config={"epochs": 8, "lr": 0.02})
    # Prefilled from the session: the learning rate around 0.02, the first layer's width.
    assert at.multiselect(key="sw_options").value == ["lr"]
    assert at.multiselect(key="sw_layers").value == ["layers.0.out_features"]
    assert at.selectbox(key="sw_opt_lr_how").value == "log"
    assert at.number_input(key="sw_opt_lr_low").value == pytest.approx(0.002)
    assert at.number_input(key="sw_opt_lr_high").value == pytest.approx(0.2)
    assert at.number_input(key="sw_layer_layers.0.out_features_low").value == 8
    assert at.number_input(key="sw_layer_layers.0.out_features_high").value == 32
    assert any("No sweeps yet" in i.value for i in at.info)
    at.number_input(key="sw_trials").set_value(3)
    at.button(key="sw_start").click().run()
    assert not at.exception, at.exception
    sweep_id = at.session_state["sweep_id"]
    driver = sweeps.get(sweep_id)
    assert driver is not None and driver.wait(120)
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 3 and set(table["state"]) == {"complete"}
    assert {"trial", "val_acc", "epochs", "pruned", "lr", "layers.0.out_features", "run"} <= set(
        table.columns
    )
    texts = [p.proto.text for p in at.get("progress")]
    assert any(f"Sweep {sweep_id} · completed · 3 of 3 trials finished" in t for t in texts)
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    history = figures[0]["data"][0]
    assert sorted(history["y"]) == sorted(table["val_acc"])  # the history plots the table
    best = table["val_acc"].max()
    assert any(m.value == f"{best:.4f}" for m in at.metric)
    # The best trial opens in the other pages, as a run of the Runs page does.
    best_run = table.loc[table["val_acc"].idxmax(), "run"]
    at.button(key="sw_open").click().run()
    assert at.session_state["job_id"] == best_run
    lr = table.loc[table["val_acc"].idxmax(), "lr"]
    assert at.session_state["config"]["lr"] == pytest.approx(lr)
