"""The Fairness page: a training variant shows its progress and then its comparison, advice
names only settings the app shows, and tables say which split their rates come from.

AppTest cannot fire a fragment's timer (`run_every`), so the live view is tested in parts:
the page drawn while a variant trains (the fragment's body runs inline on a full run), the
decision the fragment takes on each tick (`needs_rerun`), and the single rerun it asks for
once the variant has finished.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import playground.jobs as jobs
from playground.data import load_dataset
from playground.errors import PlaygroundError
from playground.fairness import audit_data, audit_model, proxy_scores
from playground.fairness.actions import try_fairness_data
from playground.fairness.groups import groups_for_split
from playground.fairness.postprocessing import threshold_optimizer
from playground.fairness.reweighing import training_weights
from playground.fairness.variants import VARIANTS, _proxy_note
from playground.jobs import JobRegistry, JobSnapshot
from playground.runs import RunRequest
from playground.store import RunRecord, RunStore
from playground.train import TrainConfig
from tests.app_helpers import APP, open_page, wait_for
from tests.conftest import make_xor
from ui import fairness_views as views

MLP = {"layers": [{"kind": "linear", "out_features": 8}, {"kind": "relu"}, {"kind": "linear"}]}
QUOTED = re.compile(r"“([^”]+)”")


@pytest.fixture
def one_worker(tmp_path, monkeypatch: pytest.MonkeyPatch) -> JobRegistry:
    """The app's registry with a single worker, so a test can keep a variant queued (behind
    another run) for as long as it needs to look at it."""
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "data"))
    reg = JobRegistry(max_workers=1, store=RunStore(tmp_path / "data"))
    monkeypatch.setattr(jobs, "_default", reg)
    yield reg
    reg.shutdown()


def _train(registry: JobRegistry, epochs: int = 2) -> str:
    job = registry.submit(RunRequest.supervised("german_credit", {}, MLP, {"epochs": epochs}))
    wait_for(job)
    assert registry.snapshot(job.id).status == "completed"
    return job.id


def _progress_texts(at) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


def _comparisons(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if "variant" in d.value.columns]


def test_a_training_variant_shows_progress_then_its_comparison(one_worker) -> None:
    registry = one_worker
    parent = _train(registry)
    # A long run holds the only worker, so the variant waits in the queue while we look.
    blocker = registry.submit(
        RunRequest.supervised("german_credit", {}, MLP, {"epochs": 5000}, name="blocker")
    )
    deadline = time.time() + 60
    while registry.snapshot(blocker.id).status != "running" and time.time() < deadline:
        time.sleep(0.05)
    at = open_page("fairness", job_id=parent)
    assert any("No variants yet" in c.value for c in at.caption)
    assert not _progress_texts(at) and not _comparisons(at)

    at.button(key="variant_reweighing").click().run()
    assert not at.exception, at.exception
    (variant,) = registry.store.variants(parent)
    texts = _progress_texts(at)
    assert len(texts) == 1 and "reweighed by sex · queued" in texts[0], texts
    assert "position 1 in the queue" in texts[0]
    assert any("as soon as a variant finishes" in c.value for c in at.caption)
    assert not _comparisons(at)
    assert at.button(key="variant_reweighing").disabled  # no duplicate while it trains
    assert not any(b.label == "Refresh" for b in at.button)  # nothing to press by hand
    # On each tick the fragment only redraws the bar while the variant is still training.
    assert not views.needs_rerun((variant.id,), views.variant_states(parent))

    blocker.stop()
    wait_for(registry.get(variant.id))
    assert registry.snapshot(variant.id).status == "completed"
    # Now the tick asks for one whole-page rerun; that rerun draws the comparison.
    assert views.needs_rerun((variant.id,), views.variant_states(parent))
    at.run()
    assert not at.exception, at.exception
    (table,) = _comparisons(at)
    assert list(table["variant"]) == ["original", VARIANTS["reweighing"]]
    assert table["accuracy (test split)"].between(0, 1).all()
    assert list(table["decision"]) == ["threshold 0.50", "threshold 0.50"]
    assert not _progress_texts(at)  # nothing training: no fragment, no polling
    assert not at.button(key="variant_reweighing").disabled


def _record(status: str, epochs_done: int = 0) -> RunRecord:
    return RunRecord(
        id="r1",
        name="base · reweighed by sex",
        status=status,
        message="",
        created_at=0.0,
        updated_at=0.0,
        finished_at=None,
        dataset="german_credit",
        dataset_params={},
        spec={},
        config={"epochs": 10},
        param_count=1,
        epochs_done=epochs_done,
        lineage={"parent": "r0", "variant": "reweighing", "attribute": "sex"},
    )


def _snapshot(status: str, epoch: int, queue_position: int | None = None) -> JobSnapshot:
    return JobSnapshot(
        job_id="r1",
        status=status,
        message="",
        epoch=epoch,
        epochs=10,
        step=0,
        samples_per_sec=0.0,
        elapsed=0.0,
        eta_seconds=None,
        score_name="acc",
        queue_position=queue_position,
    )


def test_variant_state_reads_the_live_job_then_the_store() -> None:
    running = views.variant_state(_record("running", 1), _snapshot("running", 4))
    assert running.active and running.fraction == pytest.approx(0.4)
    assert running.text == "base · reweighed by sex · running · epoch 4/10"
    assert (running.variant, running.attribute) == ("reweighing", "sex")
    queued = views.variant_state(_record("queued"), _snapshot("queued", 0, queue_position=2))
    assert "position 2 in the queue" in queued.text
    handed_over = views.variant_state(_record("queued"), _snapshot("queued", 0))
    assert "None" not in handed_over.text and "starting" in handed_over.text
    # No job in this server (trained elsewhere, or before a restart): the store's numbers.
    stored = views.variant_state(_record("running", 3), None)
    assert stored.active and stored.fraction == pytest.approx(0.3)
    done = views.variant_state(_record("completed", 10), None)
    assert not done.active
    assert views.needs_rerun(("r1",), [done]) and not views.needs_rerun((), [done])
    assert views.needs_rerun((), [stored])  # a variant started elsewhere: redraw to watch it


def test_tables_say_which_split_each_rate_comes_from() -> None:
    dataset = load_dataset("german_credit")
    data = audit_data(dataset, "sex")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 150)
    audit = audit_model(y, rng.random(150), groups_for_split(dataset, "test", "sex"), n_boot=20)
    on_data = views.rates_table(data.groups, data.splits)
    on_test = views.rates_table(audit.by_group, "test")
    assert "base rate (all splits)" in on_data.columns
    assert "base rate (test split)" in on_test.columns
    assert "selection rate (test split)" in on_test.columns
    assert "selection rate, interval low (test split)" in on_test.columns
    assert list(on_test["sex"]) == ["female", "male"]  # groups as a column, not a cut index
    assert views.split_name("val") == "validation split"
    assert views.split_name(("train", "val")) == "train and validation splits"
    compared = views.comparison_table(
        pd.DataFrame(
            {
                "run": ["r0"],
                "variant": ["original"],
                "status": ["completed"],
                "decision": ["threshold 0.50"],
                "accuracy": [0.8],
                "selection_rate": [0.3],
                "demographic_parity_difference": [0.1],
            }
        )
    )
    assert list(compared.columns) == [
        "run",
        "variant",
        "accuracy (test split)",
        "selection rate (test split)",
        "demographic parity difference (test split)",
        "decision",
        "status",
    ]
    missing = views.missing_table(data.missing)
    assert missing.columns[0] == "sex" and "sex missing" in missing.columns


# -- advice names only what the app has -------------------------------------------------


def _app_labels(run_id: str) -> set[str]:
    """Every label the app shows where advice could point: widgets (and their options),
    tabs, headings and page titles, on the Data and Train pages (german_credit) and on the
    Fairness page for each attribute."""
    labels = set(re.findall(r'title="([^"]+)"', Path(APP).read_text()))
    german = {"name": "german_credit", "params": {}}
    pages = [open_page("data", dataset=german), open_page("train", dataset=german)]
    fairness = open_page("fairness", job_id=run_id)
    for attribute in fairness.selectbox(key="attribute").options:
        fairness.selectbox(key="attribute").select(attribute).run()
        assert not fairness.exception, fairness.exception
        pages.append(fairness)
        labels |= {b.label for b in fairness.button}
    for at in pages:
        for kind in ("selectbox", "multiselect", "radio"):
            for widget in at.get(kind):
                labels.add(widget.label)
                labels |= {str(o) for o in widget.options}
        for kind in ("button", "slider", "number_input", "text_input", "checkbox", "expander"):
            labels |= {w.label for w in at.get(kind)}
        labels |= {t.label for t in at.tabs} | {h.value for h in at.subheader}
    return labels


def _raised_hint(call) -> str:
    with pytest.raises(PlaygroundError) as info:
        call()
    return info.value.hint or ""


def _every_caution() -> list[str]:
    """Cautions of every kind, the comparison's notes and the hints of the fairness errors a
    person can meet."""
    texts = []
    # Model: two large groups with different base rates, one small, one without positives.
    rng = np.random.default_rng(0)
    groups = pd.Series(["a"] * 200 + ["b"] * 200 + ["c"] * 12 + ["d"] * 12, name="g")
    y = np.r_[rng.random(200) < 0.6, rng.random(200) < 0.2, np.ones(12), np.zeros(12)]
    audit = audit_model(y.astype(int), rng.random(424) * 0.5 + 0.5 * y, groups, n_boot=50)
    assert any("base rates differ" in c for c in audit.cautions)
    texts += audit.cautions
    # Data: every attribute of german_credit, with small groups made by a high bar.
    dataset = load_dataset("german_credit")
    for attribute in ("sex", "age", "sex & age"):
        texts += audit_data(dataset, attribute, min_group=200).cautions
    table = pd.DataFrame(
        {
            "variant": ["original", VARIANTS["drop_attribute"]],
            "demographic_parity_difference": [0.2, 0.18],
        }
    )
    texts += _proxy_note(table)
    one_label = np.zeros(8, dtype=int)
    scores, two = np.linspace(0, 1, 8), pd.Series(list("aaaabbbb"))
    texts += [
        _raised_hint(lambda: threshold_optimizer(one_label, scores, two)),
        _raised_hint(lambda: threshold_optimizer(np.r_[0, 1, 0, 1, 1, 1, 1, 1], scores, two)),
        _raised_hint(
            lambda: threshold_optimizer(np.r_[0, 1, 0, 1, 0, 1, 0, 1], scores, two).apply(
                scores, pd.Series(list("aaaazzzz"))
            )
        ),
        _raised_hint(lambda: groups_for_split(make_xor(), "test", "sex")),
        _raised_hint(lambda: proxy_scores(make_xor(), "sex")),
        _raised_hint(lambda: training_weights(load_dataset("diabetes"), "sex")),
        try_fairness_data(),
    ]
    return texts


def test_advice_names_only_settings_the_app_shows(registry: JobRegistry) -> None:
    run_id = _train(registry)
    labels = _app_labels(run_id)
    page = open_page("fairness", job_id=run_id)
    shown = [e.value for kind in ("warning", "info", "caption") for e in page.get(kind)]
    texts = _every_caution() + shown
    named = {q for text in texts for q in QUOTED.findall(text)}
    missing = named - labels
    assert not missing, f"advice names settings the app does not show: {missing}"
    # Not vacuous: the advice does point to these, by the app's own words.
    assert {
        "Train without sex",
        "Train without sex & age",
        "Mitigation",
        "Constraint",
        "Post-process with ThresholdOptimizer",
        "Proxies",
        "Sensitive attribute",
        "n samples",
        "Data",
        "Adult income (UCI)",
        "Your CSV",
        "Kind of data",
        "reweigh by sensitive attribute",
        "no reweighing",
    } <= named
    # Engine names (config fields, dataset parameters) are for the command line, not advice.
    engine = {f for f in TrainConfig.model_fields if "_" in f} | {"drop_columns", "n_samples"}
    for text in texts:
        assert not [name for name in engine if name in text], text


def test_the_page_ends_with_the_next_step(registry: JobRegistry) -> None:
    at = open_page("fairness", job_id=_train(registry))
    (link,) = at.get("page_link")
    assert link.proto.page == "runs" and link.proto.label.startswith("Next:")
    last = list(at.main)[-1]  # the link is the page's last element, under the tabs
    assert getattr(last, "proto", None) is not None and last.proto == link.proto
