"""AppTests of the Data page with a user's CSV, and of a reload keeping the session."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from playground.data.uploads import keep_upload
from playground.jobs import JobRegistry
from playground.train import TrainConfig
from tests.app_helpers import APP, open_page
from tests.csv_helpers import titanic_frame, write_titanic


def _csv_session(registry: JobRegistry, tmp_path: Path, **params: object) -> dict:
    kept = keep_upload(write_titanic(tmp_path), registry.store.root)
    return {
        "name": "csv",
        "params": {"path": str(kept), "target": "survived", "file_name": "titanic.csv", **params},
    }


def test_a_csv_is_shown_with_its_own_values_names_and_missing_values(
    registry: JobRegistry, tmp_path: Path
) -> None:
    at = open_page("data", dataset=_csv_session(registry, tmp_path))
    assert at.radio(key="data_group").value == "Your CSV"
    rows = at.dataframe[0].value
    # The file's own values: text as text, ages in years, missing ages still missing.
    assert list(rows.columns) == ["gender", "age", "class", "embarked", "fare", "survived"]
    assert set(rows["gender"]) == {"female", "male"}
    assert set(rows["class"]) <= {"1st", "2nd", "3rd"}
    uploaded = titanic_frame()
    assert set(rows["age"].dropna()) <= set(uploaded["age"].dropna())
    assert rows["age"].isna().any()
    missing = next(d.value for d in at.dataframe if "handled" in d.value.columns)
    missing = missing.set_index("column")
    assert missing.loc["age", "missing"] == uploaded["age"].isna().sum() == 16
    assert "median" in missing.loc["age", "handled"]
    assert "most frequent" in missing.loc["embarked", "handled"]
    assert any("You are working on titanic.csv" in c.value for c in at.caption)

    # The encoding is behind the toggle: standardised ages, one-hot columns.
    at.toggle(key="rows_encoded").set_value(True).run()
    encoded = at.dataframe[0].value
    assert "gender=female" in encoded.columns and abs(encoded["age"].mean()) < 1.0

    # Choosing to drop rows with missing values applies at once.
    key = Path(at.session_state["dataset"]["params"]["path"]).stem
    at.radio(key=f"csv_missing_{key}").set_value("drop").run()
    assert at.session_state["dataset"]["params"]["missing"] == "drop"
    assert any("Dropped 18 rows with a missing feature value" in i.value for i in at.info)


def test_a_reload_keeps_the_session_dataset_model_and_options(
    registry: JobRegistry, tmp_path: Path
) -> None:
    config = TrainConfig(epochs=5, lr=0.003).model_dump()
    first = open_page(
        dataset=_csv_session(registry, tmp_path), layers=[{"kind": "linear"}], config=config
    )
    token = first.query_params["s"]
    token = token if isinstance(token, str) else token[0]

    # A reload is a new session with the same URL.
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["s"] = token
    again.run()
    assert not again.exception
    assert again.session_state["dataset"]["params"].get("file_name") == "titanic.csv"
    assert again.session_state["layers"] == [{"kind": "linear"}]
    assert again.session_state["config"]["lr"] == 0.003

    # An unknown or crafted token starts afresh, on the spiral.
    for bad in ("nope-not-saved", "../../etc/passwd"):
        fresh = AppTest.from_file(APP, default_timeout=60)
        fresh.query_params["s"] = bad
        fresh.run()
        assert fresh.session_state["dataset"]["name"] == "spiral"
        assert fresh.query_params["s"][0] != bad


def test_infinite_values_are_named_and_can_be_treated_as_missing(
    registry: JobRegistry, tmp_path: Path
) -> None:
    frame = titanic_frame()
    frame["fare"] = frame["fare"].astype(object)
    frame.loc[[3, 7], "fare"] = ["inf", "1e999"]
    path = tmp_path / "odd.csv"
    frame.to_csv(path, index=False)
    kept = keep_upload(path.read_bytes(), registry.store.root)
    dataset = {"name": "csv", "params": {"path": str(kept), "target": "survived"}}
    at = open_page("data", dataset=dataset)
    assert any("'fare' has 2 infinite values" in e.value for e in at.error)
    at.radio(key=f"csv_infinite_{kept.stem}").set_value("missing").run()
    assert not at.error
    missing = next(d.value for d in at.dataframe if "handled" in d.value.columns)
    assert missing.set_index("column").loc["fare", "missing"] == 2


def test_column_names_are_shown_as_typed_not_as_markdown(
    registry: JobRegistry, tmp_path: Path
) -> None:
    frame = titanic_frame()
    frame["[x](http://example.com)"] = 1  # a constant column: dropped with a note naming it
    path = tmp_path / "links.csv"
    frame.to_csv(path, index=False)
    kept = keep_upload(path.read_bytes(), registry.store.root)
    at = open_page(
        "data", dataset={"name": "csv", "params": {"path": str(kept), "target": "survived"}}
    )
    note = next(i.value for i in at.info if "same value in every row" in i.value)
    assert r"'\[x\](http\://example.com)'" in note
    assert "[x](http://example.com)" not in note
