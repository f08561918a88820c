"""The Fairness page's new views open and show their numbers: calibration, error analysis
(a cohort opens as the audit's row filter), metric guidance, a GridSearch front with a point
kept as a run, the adversarial-debiasing button, and group metrics of a regression and a
multiclass run (which the page used to refuse)."""

from __future__ import annotations

import time

from playground.runs import RunRequest
from playground.tasks import default_tasks
from tests.app_helpers import open_page, wait_for
from tests.csv_helpers import write_titanic

MLP = {"layers": [{"kind": "linear", "out_features": 8}, {"kind": "relu"}, {"kind": "linear"}]}


def _train(registry, dataset: str, params: dict, epochs: int = 3) -> str:
    job = registry.submit(RunRequest.supervised(dataset, params, MLP, {"epochs": epochs}))
    wait_for(job)
    assert registry.snapshot(job.id).status == "completed"
    return job.id


def _tab(at, label: str):
    return next(t for t in at.tabs if t.label == label)


def test_calibration_error_analysis_and_guidance_open(registry) -> None:
    run_id = _train(registry, "hiring", {"n_samples": 600})
    at = open_page("fairness", job_id=run_id)
    labels = [t.label for t in at.tabs]
    assert labels[-3:] == ["Calibration", "Error analysis", "Which metric?"]

    ece = _tab(at, "Calibration").dataframe[0].value
    assert list(ece["gender"]) == ["female", "male"]
    assert ece["ECE (test split)"].between(0, 1).all()

    errors = _tab(at, "Error analysis").dataframe[0].value
    assert {"cohort", "rows", "error rate (test split)"} <= set(errors.columns)
    assert int(errors["rows"].sum()) == 90  # every test row in exactly one cohort
    # A cohort opens as the page's row filter; the Model tab then audits only its rows.
    at.button(key="open_cohort").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="cohort").value != "all test rows"
    model = _tab(at, "Model")
    assert any(c.value.startswith("Only the cohort") for c in model.caption)
    people = model.dataframe[0].value["people"].sum()
    assert people == int(errors["rows"].iloc[0])
    # The Threshold & ROC tab rates the same rows.
    roc = _tab(at, "Threshold & ROC")
    assert any(c.value.startswith("Only the cohort") for c in roc.caption)
    assert roc.dataframe[0].value["people"].sum() == people

    guide = _tab(at, "Which metric?")
    assert guide.subheader[0].value.startswith("Demographic parity")  # labels not trusted
    at.radio(key="guide_labels").set_value("yes").run()
    at.radio(key="guide_costlier").set_value("false_negatives").run()
    assert _tab(at, "Which metric?").subheader[0].value.startswith("Equal opportunity")


def test_a_grid_search_front_is_drawn_and_a_point_kept(registry) -> None:
    run_id = _train(registry, "hiring", {"n_samples": 600}, epochs=4)
    at = open_page("fairness", job_id=run_id)
    at.number_input(key="grid_size").set_value(3).run()
    at.button(key="reduction_go").click().run()
    assert not at.exception, at.exception
    deadline = time.time() + 120
    while time.time() < deadline:
        tasks = [t for t in default_tasks().tasks() if t.key.startswith("reduction-")]
        if tasks and all(t.done for t in tasks):
            break
        time.sleep(0.2)
    at.run()
    assert not at.exception, at.exception
    front = [d.value for d in at.dataframe if "on_front" in d.value.columns]
    assert len(front) == 1 and len(front[0]) == 3
    at.button(key="keep_point").click().run()
    assert any("Stored as run" in s.value for s in at.success)
    (kept,) = registry.store.variants(run_id)
    assert kept.lineage["variant"] == "grid_search" and kept.mode == "cell_weights"
    assert (
        at.button(key="variant_adversarial").label == "Train with adversarial debiasing by gender"
    )


def test_regression_and_multiclass_runs_get_group_metrics(registry, tmp_path) -> None:
    path = write_titanic(tmp_path)
    for target, header in (("fare", "mae (test split)"), ("class", "selection_1st (test split)")):
        params = {"path": str(path), "target": target, "sensitive": ["gender"]}
        run_id = _train(registry, "csv", params)
        at = open_page("fairness", job_id=run_id)
        (table,) = at.dataframe
        assert header in table.value.columns
        assert list(table.value["gender"]) == ["female", "male"]
        assert not any("needs a binary task" in i.value for i in at.info)
