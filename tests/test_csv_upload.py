"""The user's CSV: task and column-type inference, and a clear error for each bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from playground.data import load_dataset, uploads
from playground.data.csv_upload import MAX_CLASSES, MIN_ROWS, load_csv
from playground.data.uploads import MAX_COLUMNS
from playground.errors import CsvError


def mixed_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Numeric, categorical, ID and free-text columns, with a few missing values."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    age[[3, 10]] = np.nan
    city = rng.choice(["Paris", "Lyon", "Nice"], n).astype(object)
    city[5] = None
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "age": age,
            "city": city,
            "sex": rng.choice(["female", "male"], n),
            "comment": [f"free text number {i}" for i in range(n)],
            "income": rng.normal(3000, 500, n).round(2),
            "label": rng.choice(["no", "yes"], n),
        }
    )


def write(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def error_text(source, target: str = "label", **kwargs) -> str:
    with pytest.raises(CsvError) as err:
        load_csv(source, target, **kwargs)
    return str(err.value)


def test_mixed_csv_infers_task_types_and_feature_names(tmp_path):
    path = write(tmp_path, mixed_frame())
    ds = load_csv(path, "label")
    assert (ds.name, ds.task, ds.kind) == ("csv", "binary", "tabular")
    assert ds.class_names == ["no", "yes"]
    assert ds.feature_names[:2] == ["age", "income"]
    assert {"city=Lyon", "city=Nice", "city=Paris", "sex=female", "sex=male"} <= set(
        ds.feature_names
    )
    assert ds.feature_groups["city=Paris"] == "city"
    assert ds.input_shape == (len(ds.feature_names),)
    assert sum(len(s) for s in (ds.train, ds.val, ds.test)) == 60
    dropped = " ".join(ds.notes)
    assert "'id'" in dropped and "'comment'" in dropped
    assert "id" not in ds.feature_groups.values()
    assert ds.train.x.mean(0)[:2].abs().max() < 1e-4  # numeric columns standardised on train
    assert ds.sensitive_attributes == [] and ds.train.sensitive is None


def test_registered_csv_rebuilds_from_params(tmp_path):
    path = write(tmp_path, mixed_frame())
    ds = load_dataset("csv", path=str(path), target="label", seed=2)
    assert ds.params == {
        "path": str(path),
        "target": "label",
        "seed": 2,
        "sensitive": (),
        "drop_columns": (),
        "missing": "fill",
        "infinite": "error",
        "file_name": "data.csv",
    }
    again = load_dataset("csv", **ds.params)
    assert torch.equal(ds.train.x, again.train.x) and torch.equal(ds.test.y, again.test.y)
    other = load_dataset("csv", **{**ds.params, "seed": 3})
    assert not torch.equal(ds.train.x, other.train.x)


def test_bytes_and_path_give_the_same_dataset(tmp_path):
    frame = mixed_frame()
    from_bytes = load_csv(csv_bytes(frame), "label")
    from_path = load_csv(write(tmp_path, frame), "label")
    assert from_bytes.params["path"] is None
    assert torch.equal(from_bytes.train.x, from_path.train.x)


def test_numeric_targets_give_regression_or_classes():
    frame = mixed_frame()
    reg = load_csv(csv_bytes(frame), "income")
    assert reg.task == "regression" and reg.class_names is None
    assert abs(reg.target_mean - frame["income"].mean()) < 200
    assert abs(reg.train.y.mean().item()) < 1e-4
    frame["grade"] = np.resize([1, 2, 3], len(frame))
    multi = load_csv(csv_bytes(frame), "grade")
    assert multi.task == "multiclass" and multi.class_names == ["1", "2", "3"]
    frame["flag"] = np.resize([0, 1], len(frame)) * 1_000_000
    assert load_csv(csv_bytes(frame), "flag").class_names == ["0", "1000000"]


def test_rows_with_missing_target_are_dropped_with_a_note():
    frame = mixed_frame()
    frame.loc[[0, 7, 9], "label"] = None
    ds = load_csv(csv_bytes(frame), "label")
    assert sum(len(s) for s in (ds.train, ds.val, ds.test)) == 57
    assert any("Dropped 3 rows" in note for note in ds.notes)


def test_sensitive_and_drop_columns():
    frame = mixed_frame()
    ds = load_csv(csv_bytes(frame), "label", sensitive=("sex", "age"), drop_columns=("sex",))
    assert ds.sensitive_attributes == ["sex", "age"]
    assert "sex" not in ds.feature_groups.values()
    sens = ds.train.sensitive
    assert list(sens.columns) == ["sex", "age"] and len(sens) == len(ds.train)
    assert set(sens["sex"]) == {"female", "male"}
    assert sens["age"].dtype.kind == "f"  # raw numbers, not the standardised feature
    assert "'nope'" in error_text(csv_bytes(frame), sensitive=("nope",))


def test_semicolon_separated_file_is_read():
    text = mixed_frame().to_csv(index=False, sep=";")
    assert load_csv(text.encode(), "label").task == "binary"


@pytest.mark.parametrize("content", [b"", b"  \n\n  "])
def test_empty_file(content):
    assert "empty" in error_text(content)


def test_binary_file_is_not_csv():
    assert "not CSV text" in error_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")


def test_unparseable_csv_names_the_line():
    text = "a,b,label\n1,2,x\n3,4,y\n5,6,7,8,9\n"
    message = error_text(text.encode())
    assert "could not be read as CSV" in message and "line 4" in message


def test_single_column_file():
    text = "just some words\n" + "more words\n" * 30
    assert "Only one column" in error_text(text.encode(), target="just some words")


def test_missing_target_lists_available_columns():
    message = error_text(csv_bytes(mixed_frame()), target="outcome")
    assert "'outcome'" in message
    assert "'age'" in message and "'city'" in message and "'label'" in message


def test_constant_target():
    frame = mixed_frame()
    frame["label"] = "yes"
    message = error_text(csv_bytes(frame))
    assert "'label'" in message and "constant" in message and "'yes'" in message


def test_junk_in_numeric_column_names_column_values_and_rows():
    frame = mixed_frame()
    frame["weight"] = np.arange(60).astype(str)
    frame.loc[6, "weight"] = "12kg"
    frame.loc[40, "weight"] = "n/a?"
    message = error_text(csv_bytes(frame))
    assert "'weight'" in message
    assert "'12kg' (row 7)" in message and "'n/a?' (row 41)" in message
    # A column the user drops is not used, so its junk does not matter.
    assert load_csv(csv_bytes(frame), "label", drop_columns=("weight",)).task == "binary"


def test_too_few_rows():
    message = error_text(csv_bytes(mixed_frame(n=MIN_ROWS - 5)))
    assert f"only {MIN_ROWS - 5} rows" in message and str(MIN_ROWS) in message


def test_too_many_columns():
    frame = pd.DataFrame(np.zeros((MIN_ROWS, MAX_COLUMNS + 1)))
    message = error_text(csv_bytes(frame), target="0")
    assert str(MAX_COLUMNS + 1) in message and f"limit is {MAX_COLUMNS}" in message


def test_size_limit_is_checked_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 100)
    # Binary junk would fail parsing; the size error must come first.
    assert "limit is" in error_text(b"\x00" * 500)
    path = write(tmp_path, mixed_frame())
    assert "MB; the limit is" in error_text(path)


def test_no_usable_features():
    frame = pd.DataFrame({"id": np.arange(30), "label": np.resize(["a", "b"], 30)})
    assert "No usable feature columns" in error_text(csv_bytes(frame))


def test_registered_csv_needs_path_and_target():
    with pytest.raises(CsvError, match="No CSV file"):
        load_dataset("csv", target="label")
    with pytest.raises(CsvError, match="No file at"):
        load_dataset("csv", path="/nonexistent/file.csv", target="label")


def test_rows_keep_the_values_as_uploaded_beside_the_encoding(tmp_path):
    frame = mixed_frame()
    ds = load_csv(write(tmp_path, frame, "people.csv"), "label")
    assert ds.title == "people.csv" and ds.target_name == "label"
    raw = ds.train.raw
    assert list(raw.columns) == ["age", "city", "sex", "income"]  # the file's own order
    assert len(raw) == len(ds.train)
    # The raw rows are the uploaded values: every (age, income) pair is one of the file's.
    uploaded = set(zip(frame["age"].fillna(-1), frame["income"], strict=True))
    assert set(zip(raw["age"].fillna(-1), raw["income"], strict=True)) <= uploaded
    assert raw["age"].max() > 18  # not standardised
    # ... and the encoder turns them back into exactly the model's inputs.
    encoded = ds.encoder.transform(raw)
    np.testing.assert_allclose(encoded, ds.train.x.numpy(), atol=1e-6)


def test_missing_values_are_counted_and_filled_or_dropped(tmp_path):
    path = write(tmp_path, mixed_frame())
    filled = load_csv(path, "label")
    assert filled.missing_counts == {"age": 2, "city": 1}
    # Text gets the most frequent training value, not a category of its own.
    assert not any(name.startswith("city=(missing)") for name in filled.feature_names)
    assert filled.encoder.most_frequent["city"] in {"Paris", "Lyon", "Nice"}
    dropped = load_csv(path, "label", missing="drop")
    assert sum(len(s) for s in (dropped.train, dropped.val, dropped.test)) == 57
    assert dropped.missing_counts == {"age": 2, "city": 1}  # as uploaded
    assert any("Dropped 3 rows with a missing feature value" in n for n in dropped.notes)
    assert "missing=" in error_text(path, missing="guess")


def with_infinities(frame: pd.DataFrame) -> bytes:
    """`frame` as CSV text with 'inf' and '1e999' in income (rows 3 and 17, counting from 1
    after the header) and '-inf' in age (row 5)."""
    frame = frame.astype({"income": object, "age": object})
    frame.loc[2, "income"], frame.loc[16, "income"] = "inf", "1e999"
    frame.loc[4, "age"] = "-inf"
    return csv_bytes(frame)


def test_infinite_values_are_an_error_naming_column_count_and_rows():
    message = error_text(with_infinities(mixed_frame()))
    assert "Column 'income' has 2 infinite values" in message and "rows 3 and 17" in message
    assert "Column 'age' has 1 infinite value " in message and "row 5." in message
    assert "treat infinite values as missing" in message
    # A column the user drops is not used, so its infinities do not matter.
    frame = mixed_frame()
    frame["spare"] = np.arange(60.0)
    frame.loc[8, "spare"] = np.inf
    ds = load_csv(csv_bytes(frame), "label", drop_columns=("spare",))
    assert "spare" not in ds.feature_groups.values()


def test_infinite_values_can_be_treated_as_missing():
    data = with_infinities(mixed_frame())
    filled = load_csv(data, "label", infinite="missing")
    # Counted with the missing values already in the file (age has 2 blanks).
    assert filled.missing_counts == {"age": 3, "city": 1, "income": 2}
    assert any("Treated 3 infinite values as missing" in n for n in filled.notes)
    assert filled.params["infinite"] == "missing"
    assert all(torch.isfinite(s.x).all() for s in (filled.train, filled.val, filled.test))
    dropped = load_csv(data, "label", infinite="missing", missing="drop")
    assert sum(len(s) for s in (dropped.train, dropped.val, dropped.test)) == 60 - 6
    assert "infinite=" in error_text(data, infinite="ignore")


def test_infinite_target_is_an_error_or_a_dropped_row(tmp_path):
    frame = mixed_frame()
    frame["income"] = frame["income"].astype(object)
    frame.loc[9, "income"] = "inf"
    assert "Column 'income' has 1 infinite value" in error_text(csv_bytes(frame), "income")
    path = tmp_path / "inf.csv"
    path.write_bytes(csv_bytes(frame))
    ds = load_dataset("csv", path=str(path), target="income", infinite="missing")
    assert ds.task == "regression" and np.isfinite(ds.target_mean)
    assert sum(len(s) for s in (ds.train, ds.val, ds.test)) == 59
    assert any("Dropped 1 rows with no value for 'income'" in n for n in ds.notes)


def test_a_target_with_no_values_is_a_clear_error():
    frame = mixed_frame()
    frame["label"] = None
    message = error_text(csv_bytes(frame))
    assert "'label' is empty" in message and "Choose another target" in message


def test_column_names_given_with_spaces_match_the_header():
    text = csv_bytes(mixed_frame()).decode().replace("sex,", " sex ,", 1)
    ds = load_csv(text.encode(), " label ", sensitive=(" sex",), drop_columns=("comment ",))
    assert ds.sensitive_attributes == ["sex"] and ds.target_name == "label"
    assert ds.params["sensitive"] == ("sex",) and ds.params["drop_columns"] == ("comment",)


def test_integer_targets_become_classes_only_when_few():
    frame = mixed_frame()
    frame["score"] = np.arange(60) % 30  # 30 whole numbers: a quantity, not 30 classes
    ds = load_csv(csv_bytes(frame), "score")
    assert ds.task == "regression" and "30 distinct values" in ds.notes[0]
    frame["label"] = [f"class {i}" for i in range(MAX_CLASSES + 1)] + ["class 0"] * 9
    message = error_text(csv_bytes(frame))
    assert f"{MAX_CLASSES + 1} distinct values" in message and f"at most {MAX_CLASSES}" in message
