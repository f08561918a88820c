"""Keep a copy of each user CSV in the data folder, so its runs can be rebuilt later even if
the original file moves. Copies are named by content hash: the same file is kept once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from playground.errors import CsvError


def keep_upload(source: Path | bytes, root: Path, suffix: str = ".csv") -> Path:
    """Copy a file (or uploaded bytes) to `root/uploads/<sha256>.csv` and return that path."""
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
    if not path.exists():
        path.write_bytes(data)
    return path


def csv_columns(data: bytes) -> list[str]:
    """The header of an uploaded CSV, for choosing the target; CsvError if unreadable.

    The same reader as training (separator and encoding detection, the same messages), so a
    file the Data page offers is a file that loads.
    """
    from playground.data.csv_upload import read_frame

    return [str(c) for c in read_frame(data).columns]
