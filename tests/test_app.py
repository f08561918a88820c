"""AppTest tests of each page, headless, against a real store in a temporary folder."""

from __future__ import annotations

from pathlib import Path

from playground.jobs import JobRegistry
from playground.runs import RunRequest
from tests.app_helpers import open_page, wait_for


def test_data_page_shows_the_spiral(registry: JobRegistry) -> None:
    at = open_page("data")
    assert at.title[0].value == "Data"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Task"] == "binary" and metrics["Input shape"] == "2"
    assert at.radio(key="data_group").value == "2D toys"
    assert at.selectbox(key="dataset_choice").value == "Spiral"
    assert len(at.get("plotly_chart")) >= 2  # scatter and class balance
    assert any("Next: build a model" in str(link.proto) for link in at.get("page_link"))


def test_data_page_switches_to_tabular_and_images(registry: JobRegistry) -> None:
    at = open_page("data")
    at.radio(key="data_group").set_value("Tables").run()
    at.selectbox(key="dataset_choice").select("Iris").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Task"] == "multiclass"
    assert len(at.dataframe) >= 2  # rows and column summary
    at.radio(key="data_group").set_value("Images").run()
    at.selectbox(key="dataset_choice").select("Digits (8x8)").run()
    assert {m.label: m.value for m in at.metric}["Input shape"] == "1 × 8 × 8"


def test_a_bad_csv_shows_the_engine_error_and_the_app_keeps_working(
    registry: JobRegistry, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,y\n" + "\n".join(f"{i},1" for i in range(40)))
    at = open_page("data", dataset={"name": "csv", "params": {"path": str(bad), "target": "y"}})
    assert any("constant" in e.value.lower() for e in at.error)
    at.switch_page("app_pages/build.py").run()  # the other pages still open, and say why they wait
    assert not at.exception
    assert at.title[0].value == "Build"
    assert any("constant" in e.value.lower() for e in at.error)
    at.switch_page("app_pages/data.py").run()  # and the Data page can still pick another dataset
    at.radio(key="data_group").set_value("2D toys").run()
    assert at.session_state["dataset"]["name"] == "circle" and not at.error  # the first toy


def test_build_page_shows_shapes_and_marks_an_invalid_layer(registry: JobRegistry) -> None:
    at = open_page("build")
    assert any(m.label == "Total parameters" and m.value == "1,218" for m in at.metric)
    at = open_page("build", layers=[{"kind": "conv2d"}, {"kind": "flatten"}, {"kind": "linear"}])
    errors = [e.value for e in at.error]
    assert any(e.startswith("Layer 0 (conv2d)") and "Fix:" in e for e in errors)
    assert any("🔴" in md.value and "0 · Conv2d" in md.value for md in at.markdown)
    at.switch_page("app_pages/train.py").run()
    start = next(b for b in at.button if b.label == "Start training")
    assert start.disabled


def test_build_page_edits_the_stack(registry: JobRegistry) -> None:
    at = open_page("build")
    n = len(at.session_state["layers"])
    at.button(key=f"dup_{at.session_state['layer_ids'][0]}").click().run()
    assert len(at.session_state["layers"]) == n + 1
    first_id = at.session_state["layer_ids"][0]
    at.button(key=f"down_{first_id}").click().run()
    assert at.session_state["layer_ids"][1] == first_id
    at.button(key=f"del_{first_id}").click().run()
    assert len(at.session_state["layers"]) == n
    assert not at.exception


def test_train_page_runs_a_short_training_to_the_end(registry: JobRegistry) -> None:
    at = open_page("train", config={"epochs": 5, "lr": 0.01})
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    job_id = at.session_state["job_id"]
    assert at.query_params["job"] == job_id
    wait_for(registry.get(job_id))
    at.run()
    assert not at.exception
    assert registry.store.get_run(job_id).status == "completed"
    labels = [m.label for m in at.metric]
    assert "test acc" in labels
    # The page says what is training: the dataset and the model.
    assert any(c.value.startswith("spiral · Linear(32) → ReLU → Linear(32)") for c in at.caption)
    assert len(at.get("plotly_chart")) >= 3  # curves, boundary, gradient norms


def test_runs_page_lists_compares_and_deletes(registry: JobRegistry) -> None:
    job = registry.submit(
        RunRequest.supervised(
            "xor",
            {"n_samples": 200},
            {
                "layers": [
                    {"kind": "linear", "out_features": 4},
                    {"kind": "relu"},
                    {"kind": "linear"},
                ]
            },
            {"epochs": 2},
        )
    )
    wait_for(job)
    at = open_page("runs")
    assert job.id in at.dataframe[0].value["run"].tolist()
    assert len(at.get("plotly_chart")) == 1  # the comparison chart
    next(b for b in at.button if b.label == "Delete…").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Yes, delete").click().run()
    assert not at.exception
    assert registry.store.list_runs() == []


def test_train_options_read_as_words_and_reweighing_is_a_choice(registry: JobRegistry) -> None:
    at = open_page("train", dataset={"name": "hiring", "params": {"n_samples": 300}})
    labels = {n.label for n in at.number_input}
    assert {"learning rate", "batch size", "epochs", "L1 penalty"} <= labels
    assert "lr" not in labels and "l1" not in labels
    reweigh = at.selectbox(key="cfg_reweigh")
    assert reweigh.label == "reweigh by sensitive attribute"
    assert reweigh.options[0] == "no reweighing" and "gender" in reweigh.options
    reweigh.select("gender").run()
    assert at.session_state["config"]["reweigh"] == "gender"
    at = open_page("train")  # the spiral has no sensitive columns: nothing to choose
    assert at.selectbox(key="cfg_reweigh").disabled
