"""What a person reads: explanations, what-if and the report show a CSV's own values and its
file name, not the standardised or one-hot encoding, a server path or a hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from playground.analysis.data_summary import dataset_frame, original_features
from playground.charts import explain as charts
from playground.charts.inspect import misclassified_gallery, table_figure
from playground.data.uploads import keep_upload
from playground.explain import api, summary
from playground.explain.base import ExplainRequest
from playground.explain.context import ExplainContext
from playground.explain.what_if import edited_row, predict_rows
from playground.inspect.evaluation import predict_split, worst_misclassified
from playground.model.shorthand import parse_layers
from playground.report import build_report, to_html
from playground.runner import LoadedRun, load_run
from playground.store import RunStore
from tests.csv_helpers import titanic_frame, write_titanic
from tests.run_helpers import train_stored


@pytest.fixture(scope="module")
def titanic_run(tmp_path_factory) -> tuple[RunStore, LoadedRun]:
    root = tmp_path_factory.mktemp("titanic")
    store = RunStore(root / "data")
    kept = keep_upload(write_titanic(root), store.root)
    params = {
        "path": str(kept),
        "target": "survived",
        "file_name": "titanic.csv",
        "sensitive": ["gender"],
    }
    spec = parse_layers("linear:16 relu linear")
    outcome, _ = train_stored("csv", params, spec, {"epochs": 15, "seed": 0}, store)
    return store, load_run(outcome.run_id, store)


def test_the_waterfall_and_beeswarm_show_the_rows_as_uploaded(titanic_run) -> None:
    _, run = titanic_run
    ctx = ExplainContext.of(run.record.id, run.dataset, run.built)
    attr = api.explain(ctx, ExplainRequest("integrated_gradients", tuple(range(12))))
    originals = original_features(run.dataset, "test", attr.sample_indices)
    groups = run.dataset.feature_groups
    values, features = summary.feature_table(attr, groups, originals)
    # Merged columns, holding the passengers' own values.
    assert list(features.columns) == ["age", "fare", "gender", "class", "embarked"]
    uploaded = titanic_frame()
    assert set(features["age"].dropna()) <= set(uploaded["age"].dropna())
    assert set(features["gender"]) <= {"female", "male"}
    # The attributions of one-hot columns are summed into their column.
    encoded, _ = summary.feature_table(attr, None)
    gender_parts = [c for c in encoded.columns if c.startswith("gender=")]
    np.testing.assert_allclose(values["gender"], encoded[gender_parts].sum(axis=1), atol=1e-6)

    inputs = summary.waterfall_inputs(attr, 0, groups, originals)
    first = originals.iloc[0]
    labels = charts.waterfall(**inputs).data[0].y
    shown_age = "(missing)" if pd.isna(first["age"]) else f"{first['age']:.4g}"
    assert any(label == f"age = {shown_age}" for label in labels), labels
    assert any(label == f"gender = {first['gender']}" for label in labels), labels

    figure = charts.beeswarm(
        values.to_numpy(),
        summary.numeric_values(features),
        list(values.columns),
        value_text=summary.value_text(features),
    )
    hovers = [t for trace in figure.data for t in trace.text]
    assert any(t in hovers for t in ("gender = female", "gender = male"))
    assert not any("nan" in t for t in hovers)


def test_what_if_moves_the_prediction_and_matches_the_model_on_unchanged_rows(
    titanic_run,
) -> None:
    _, run = titanic_run
    ds = run.dataset
    rows = ds.test.raw.iloc[:5]
    proba = predict_rows(run.built, ds, rows)
    assert list(proba.columns) == ["no", "yes"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # Unchanged rows give exactly the model's own prediction on the stored inputs.
    with torch.no_grad():
        logits = run.model(ds.test.x[:5])
    expected = logits.softmax(dim=1).numpy()
    np.testing.assert_allclose(proba.to_numpy(), expected, atol=1e-5)
    # Switching gender changes the prediction (the data makes gender matter).
    row = ds.test.raw.iloc[0]
    other = "male" if row["gender"] == "female" else "female"
    changed = predict_rows(run.built, ds, edited_row(row, {"gender": other}))
    assert abs(changed["yes"].iloc[0] - proba["yes"].iloc[0]) > 1e-3


def test_the_report_names_the_file_and_shows_original_values(titanic_run) -> None:
    store, run = titanic_run
    html = to_html(build_report(run.record.id, store, explain_rows=12, n_boot=10))
    assert "titanic.csv" in html
    kept = Path(run.dataset.params["path"])
    assert kept.stem not in html and str(kept.parent) not in html
    first = dataset_frame(run.dataset, "test", limit=5)
    assert f"<td>{first['gender'].iloc[0]}</td>" in html
    assert "The first test rows, as in the data" in html


def test_worst_mistakes_list_the_passengers_as_uploaded(titanic_run) -> None:
    _, run = titanic_run
    pred = predict_split(run.built, run.dataset, "test")
    mistakes = worst_misclassified(pred, run.dataset, n=5)
    table = mistakes.table
    assert len(table) > 0
    assert {"gender", "class", "age", "embarked"} <= set(table.columns)
    assert set(table["gender"]) <= {"female", "male"}
    expected = run.dataset.test.raw.iloc[table["row"].to_numpy()]
    assert table["class"].tolist() == expected["class"].tolist()
    gallery = misclassified_gallery(mistakes, run.dataset)
    cells = [v for column in gallery.data[0].cells.values for v in column]
    assert any(v in ("female", "male") for v in cells)


def test_a_missing_value_in_the_mistakes_table_reads_missing_not_nan() -> None:
    table = pd.DataFrame({"row": [3, 4], "age": [22.0, np.nan], "gender": ["female", None]})
    figure = table_figure(table)
    cells = figure.data[0].cells.values
    assert list(cells[1]) == ["22", "(missing)"] and list(cells[2]) == ["female", "(missing)"]
    assert figure.layout.height < 200  # as tall as two rows, not Plotly's 450 px default
