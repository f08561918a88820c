"""The user's CSV file as it arrives: read into a frame of strings by the one reader every
page and the CLI share, kept in the data folder so its runs can be rebuilt later, and pruned
when no run needs it any more.

The reader checks what it can before parsing (size, binary content, the header's column
count, the number of lines), so a huge or wrong file fails in milliseconds with a message
that names the limit; pandas' own parser messages never reach the user.

Copies are named by content hash: the same file is kept once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from playground.errors import CsvError

MAX_FILE_BYTES = 50 * 1024 * 1024  # checked before parsing, so a huge upload fails fast
MAX_COLUMNS = 500
# A million rows of five columns load into a Dataset in about 6 s (under 1 s of it parsing)
# and ~0.7 GB; beyond that a random sample teaches the same lessons on a laptop.
MAX_ROWS = 1_000_000
NA_VALUES = ["?"]  # besides pandas' defaults ("", "NA", "NaN", "null", ...), as in UCI files
SEPARATORS = (",", ";", "\t")  # the first wins a tie: most files are comma-separated
_HEAD_BYTES = 1 << 20  # enough for a header of MAX_COLUMNS long names
UPLOAD_MAX_AGE_DAYS = 30.0


def read_frame(source: str | Path | bytes) -> pd.DataFrame:
    """A CSV (a path or bytes) as a DataFrame of strings (NaN for missing), columns named as in
    the header with surrounding spaces trimmed; CsvError names any problem.

    The separator is the one of `SEPARATORS` that splits the header into the most columns;
    text is UTF-8 (with or without BOM), else Latin-1 (old Excel exports; every byte decodes).
    """
    raw = _read_bytes(source)
    if not raw.strip():
        raise CsvError("The file is empty.", "Upload a CSV with a header row and data rows.")
    if b"\x00" in raw[:65536]:
        raise CsvError(
            "The file is not CSV text (it looks like a binary file, e.g. Excel or an image).",
            "Save it as CSV (comma-separated values) and upload that.",
        )
    encoding = _encoding(raw)
    sep, header = _header(raw[:_HEAD_BYTES].decode(encoding, errors="replace"))
    _check_limits(raw, header)
    frame = _parse(raw, encoding, sep, len(header))
    if len(frame) > MAX_ROWS:  # line breaks other than \n escape the count before parsing
        _too_many_rows(len(frame))
    frame.columns = _column_names(header, list(frame.columns))
    return frame


def csv_columns(data: bytes) -> list[str]:
    """The header of an uploaded CSV, for choosing the target; CsvError if unreadable.

    The same reader as training (separator and encoding detection, the same messages), so a
    file the Data page offers is a file that loads.
    """
    return [str(c) for c in read_frame(data).columns]


def _read_bytes(source: str | Path | bytes) -> bytes:
    """The file's bytes, refusing files over MAX_FILE_BYTES before reading them."""
    if isinstance(source, bytes):
        size = len(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise CsvError(f"No file at {str(path)!r}.", "Check the path.")
        size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CsvError(
            f"The file is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB.",
            "Use fewer rows or columns (e.g. a random sample of the rows).",
        )
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def _encoding(raw: bytes) -> str:
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig"


def _header(head: str) -> tuple[str, list[str]]:
    """(separator, header fields as written) from the start of the file.

    Fields are split the way pandas splits them (quotes, spaces after a separator), so their
    count matches the parsed frame's columns.
    """
    best: tuple[str, list[str]] = (SEPARATORS[0], [])
    for sep in SEPARATORS:
        rows = csv.reader(io.StringIO(head), delimiter=sep, skipinitialspace=True)
        try:
            fields = next((row for row in rows if any(f.strip() for f in row)), [])
        except csv.Error:  # e.g. a quote never closed; pandas will name the line
            fields = []
        if len(fields) > len(best[1]):
            best = (sep, fields)
    return best


def _check_limits(raw: bytes, header: list[str]) -> None:
    """Column and row limits from the header and a count of line breaks, before parsing."""
    if len(header) > MAX_COLUMNS:
        raise CsvError(
            f"The file has {len(header)} columns; the limit is {MAX_COLUMNS}.",
            "Keep only the columns you need.",
        )
    # Lines after the header: an upper bound on rows (a quoted value may span lines).
    lines = raw.strip().count(b"\n")
    if lines > MAX_ROWS:
        _too_many_rows(lines, "lines after the header")


def _too_many_rows(count: int, what: str = "rows") -> None:
    raise CsvError(
        f"The file has {count:,} {what}; the limit is {MAX_ROWS:,} rows.",
        "Use a random sample of the rows (a few hundred thousand are plenty to learn from).",
    )


def _parse(raw: bytes, encoding: str, sep: str, n_header: int) -> pd.DataFrame:
    """CSV bytes -> DataFrame of strings (NaN for missing); types are inferred afterwards."""
    options: dict[str, Any] = dict(
        sep=sep, encoding=encoding, dtype=str, skipinitialspace=True, na_values=NA_VALUES
    )
    frame = _read_csv(raw, options)
    if isinstance(frame.index, pd.RangeIndex):
        return frame
    # Data rows longer than the header: pandas silently takes the leading fields as row
    # labels, shifting every value one column left. Harmless only when the extra fields are
    # empty (a separator at the end of each data row, as some exports write).
    extra = frame.index.nlevels
    if frame.iloc[:, -extra:].notna().any().any():
        raise CsvError(
            f"The data rows have {n_header + extra} fields but the header names only "
            f"{n_header} columns.",
            "Add the missing column names to the header row, or remove the extra values.",
        )
    with warnings.catch_warnings():  # pandas warns that it drops the empty last fields
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        return _read_csv(raw, {**options, "index_col": False})


def _read_csv(raw: bytes, options: dict[str, Any]) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(raw), **options)
    except pd.errors.EmptyDataError as err:
        raise CsvError("The file is empty.", "Upload a CSV with a header and rows.") from err
    except (ValueError, csv.Error) as err:  # pandas' ParserError is a ValueError
        raise CsvError(_parser_message(err), _PARSE_HINT) from err


_PARSE_HINT = (
    "Check that it is a text file of values separated by commas (or semicolons or tabs) and "
    "that every row has as many fields as the header (quote values that contain commas)."
)


def _parser_message(err: Exception) -> str:
    """pandas' parser message reworded for a person; its own text is never shown."""
    text = str(err)
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        expected, line, saw = found.groups()
        return (
            f"The file could not be read as CSV: line {line} has {saw} fields "
            f"but earlier rows have {expected}."
        )
    found = re.search(r"EOF inside string starting at row (\d+)", text)
    if found:
        line = int(found.group(1)) + 1  # pandas counts rows from 0, the header included
        return (
            f"The file could not be read as CSV: a quoted value starting on line {line} is "
            'never closed (a " without its closing ").'
        )
    return "The file could not be read as CSV."


def _column_names(header: list[str], parsed: list[str]) -> list[str]:
    """The header's names, trimmed; CsvError if two columns share a name.

    pandas renames a repeated name silently ("age", "age.1"), and trimming can make two
    names equal ("age" and "age "), so either way the user would not know which is which.
    Empty names keep pandas' "Unnamed: 3", which is unique.
    """
    if len(header) != len(parsed):  # the header spans lines; trust pandas' reading of it
        header = [str(c) for c in parsed]
    pairs = zip(header, parsed, strict=True)
    names = [field.strip() or str(auto).strip() for field, auto in pairs]
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        positions.setdefault(name, []).append(i + 1)
    repeated = [(name, cols) for name, cols in positions.items() if len(cols) > 1]
    if repeated:
        listed = "; ".join(
            f"{name!r} names columns {_and([str(c) for c in cols])}" for name, cols in repeated
        )
        raise CsvError(
            f"Column names must be unique, spaces around them aside: {listed}.",
            "Rename or remove the repeated columns so each has its own name.",
        )
    return names


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def keep_upload(source: Path | bytes, root: Path, suffix: str = ".csv") -> Path:
    """Copy a file (or uploaded bytes) to `root/uploads/<sha256>.csv` and return that path.

    Written to a temporary file and renamed into place, so a crash never leaves a truncated
    copy under the final name. Keeping a file again refreshes its age for `prune_uploads`.
    """
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise CsvError(f"Cannot read {source}: {exc.strerror}.", "Check the path.") from None
    else:
        data = source
    folder = root / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:20]}{suffix}"
    # A copy of the wrong size was cut short by a crash before writes were atomic.
    if path.is_file() and path.stat().st_size == len(data):
        path.touch()
        return path
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def uploads_in_use(runs: Iterable[Any]) -> set[Path]:
    """The upload paths stored runs were built from: each record's (`RunRecord`-like, with
    `dataset_params` and `request` dicts) dataset "path"."""
    used: set[Path] = set()
    for run in runs:
        request_params = (getattr(run, "request", None) or {}).get("dataset_params") or {}
        for params in (getattr(run, "dataset_params", None) or {}, request_params):
            if params.get("path"):
                used.add(Path(params["path"]).resolve())
    return used


def prune_uploads(
    root: Path,
    keep: Iterable[str | Path],
    max_age_days: float = UPLOAD_MAX_AGE_DAYS,
    now: float | None = None,
) -> list[Path]:
    """Delete kept uploads in `root/uploads` that are not in `keep` (e.g. `uploads_in_use`
    of the stored runs) and were last kept more than `max_age_days` ago; return them.

    Temporary files left by a crash mid-write go after a day whatever `keep` says.
    """
    folder = root / "uploads"
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    keep_resolved = {Path(p).resolve() for p in keep}
    removed: list[Path] = []
    for path in folder.iterdir():
        if not path.is_file():
            continue
        leftover = path.name.startswith(".upload-") and path.suffix == ".tmp"
        age_days = (now - path.stat().st_mtime) / 86400
        if leftover:
            stale = age_days > 1
        else:
            stale = age_days > max_age_days and path.resolve() not in keep_resolved
        if stale:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
