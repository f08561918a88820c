"""The one CSV reader (separators, encodings, headers, limits checked before parsing) and the
kept copies of uploads (atomic writes, pruning)."""

from __future__ import annotations

import os
import time

import pytest

from playground.data import uploads
from playground.data.csv_upload import load_csv
from playground.data.uploads import (
    csv_columns,
    keep_upload,
    prune_uploads,
    read_frame,
    uploads_in_use,
)
from playground.errors import CsvError

ROWS = 30  # enough for load_csv's minimum of 20


def table(sep: str = ",", n: int = ROWS) -> str:
    """A small numeric table with a yes/no label, as text with the given separator."""
    lines = [sep.join(["height", "weight", "label"])]
    lines += [
        sep.join([str(150 + (i * 7) % 20), f"{50 + i * 0.7:.1f}", "yes" if i % 3 else "no"])
        for i in range(n)
    ]
    return "\n".join(lines) + "\n"


def error_text(data: bytes) -> str:
    with pytest.raises(CsvError) as err:
        read_frame(data)
    return str(err.value)


def no_parsing(monkeypatch) -> None:
    """Make any full parse fail the test: a limit must be checked before pandas runs."""

    def refuse(*args, **kwargs):
        raise AssertionError("the whole file was parsed before the limit was checked")

    monkeypatch.setattr(uploads.pd, "read_csv", refuse)


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_each_separator_gives_the_real_columns(sep):
    frame = read_frame(table(sep).encode())
    assert list(frame.columns) == ["height", "weight", "label"]
    assert frame.shape == (ROWS, 3) and frame["height"].iloc[2] == "164"
    assert load_csv(table(sep).encode(), "label").task == "binary"


def test_semicolon_file_keeps_decimal_commas_as_one_value():
    frame = read_frame(b"price;qty;label\n1,5;2;x\n2,25;3;y\n")
    assert list(frame.columns) == ["price", "qty", "label"]
    assert list(frame["price"]) == ["1,5", "2,25"]


def test_tab_file_with_a_comma_in_a_column_name():
    frame = read_frame(b"price, EUR\tqty\tlabel\n1.5\t2\tx\n")
    assert list(frame.columns) == ["price, EUR", "qty", "label"]


def test_latin1_and_utf8_bom_files_are_read():
    latin = "ville,note\nMontréal,1\nQuébec,2\n".encode("latin-1")
    assert list(read_frame(latin)["ville"]) == ["Montréal", "Québec"]
    bom = "\ufeffâge,label\n3,x\n".encode()
    assert list(read_frame(bom).columns) == ["âge", "label"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a,b,c\n1,2,3\n4,5,6,7\n", "line 3 has 4 fields but earlier rows have 3"),
        ('a,b,c\n1,2,3\n4,"5,6\n7,8,9\n', "quoted value starting on line 3 is never closed"),
    ],
)
def test_parser_errors_are_reworded(text, says):
    message = error_text(text.encode())
    assert says in message
    assert "tokenizing" not in message and "C error" not in message


def test_a_separator_ending_each_data_row_does_not_shift_the_values():
    frame = read_frame(b"a,b,c\n1,2,3,\n4,5,6,\n")
    assert list(frame.columns) == ["a", "b", "c"]
    assert list(frame.iloc[0]) == ["1", "2", "3"] and list(frame["a"]) == ["1", "4"]


def test_rows_longer_than_the_header_are_an_error():
    message = error_text(b"a,b,c\n1,2,3,4\n5,6,7,8\n")
    assert "4 fields but the header names only 3 columns" in message


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("age,height,age", "'age' names columns 1 and 3"),
        ("age,height, age ", "'age' names columns 1 and 3"),
        ("age ,x,x,age", "'age' names columns 1 and 4; 'x' names columns 2 and 3"),
    ],
)
def test_repeated_column_names_are_an_error_naming_them(header, says):
    data = (header + "\n" + "1,2,3,4\n" * 3).encode()
    data = data if header.count(",") == 3 else data.replace(b",4\n", b"\n")
    message = error_text(data)
    assert says in message and "unique" in message
    with pytest.raises(CsvError, match="unique"):
        csv_columns(data)  # the Data page sees the same error on upload


def test_empty_column_names_stay_distinct():
    assert list(read_frame(b"a,,,b\n1,2,3,4\n").columns) == ["a", "Unnamed: 1", "Unnamed: 2", "b"]


def test_column_limit_is_checked_from_the_header_before_parsing(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_COLUMNS", 2)
    no_parsing(monkeypatch)
    message = error_text(table().encode())
    assert "3 columns; the limit is 2" in message


def test_row_limit_is_checked_before_parsing(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ROWS", ROWS - 1)
    with monkeypatch.context() as patch:
        no_parsing(patch)
        message = error_text(table().encode())
    assert f"{ROWS} lines after the header; the limit is {ROWS - 1} rows" in message
    # Old Mac line breaks (\r) escape the cheap count; the parsed frame is checked too.
    message = error_text(table().replace("\n", "\r").encode())
    assert f"{ROWS} rows; the limit is {ROWS - 1} rows" in message
    monkeypatch.setattr(uploads, "MAX_ROWS", ROWS)
    assert len(read_frame(table().encode())) == ROWS


def test_keep_upload_writes_atomically(tmp_path, monkeypatch):
    data = table().encode()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(uploads.os, "replace", crash)
    with pytest.raises(OSError):
        keep_upload(data, tmp_path)
    assert list((tmp_path / "uploads").iterdir()) == []  # no partial copy, no temp file
    monkeypatch.undo()
    path = keep_upload(data, tmp_path)
    assert path.read_bytes() == data and path.parent == tmp_path / "uploads"


def test_keep_upload_repairs_a_truncated_copy_and_refreshes_its_age(tmp_path):
    data = table().encode()
    path = keep_upload(data, tmp_path)
    path.write_bytes(data[:20])  # as a crash mid-write left it before writes were atomic
    os.utime(path, (1, 1))
    assert keep_upload(data, tmp_path) == path and path.read_bytes() == data
    os.utime(path, (1, 1))
    keep_upload(data, tmp_path)
    assert time.time() - path.stat().st_mtime < 60


def test_prune_uploads_keeps_what_runs_use_and_what_is_recent(tmp_path):
    from playground.store.runs import RunStore

    store = RunStore(tmp_path)
    used = keep_upload(table().encode(), tmp_path)
    old = keep_upload(table(";").encode(), tmp_path)
    recent = keep_upload(table("\t").encode(), tmp_path)
    leftover = tmp_path / "uploads" / ".upload-crash.tmp"
    leftover.write_bytes(b"half a file")
    day = 86400
    now = time.time()
    for path in (used, old, leftover):
        os.utime(path, (now - 40 * day, now - 40 * day))
    store.create_run(dataset="csv", dataset_params={"path": str(used)}, spec={}, config={})
    keep = uploads_in_use(store.list_runs())
    assert keep == {used.resolve()}
    removed = prune_uploads(tmp_path, keep, max_age_days=30, now=now)
    assert sorted(removed) == sorted([old, leftover])
    assert used.is_file() and recent.is_file() and not old.exists()
    assert prune_uploads(tmp_path / "elsewhere", keep) == []
