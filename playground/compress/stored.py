"""A run's compression results kept with the run: the measured table (JSON) and every level's
files (safetensors), as artifacts of the run store. The latest measurement replaces the one
before; deleting the run deletes them. Nothing here re-measures: what is shown later is what
was measured then, with when and how."""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field

import pandas as pd

from playground.compress.report import CompressionResult
from playground.store import RunStore

FOLDER = "compression"
TABLE = f"{FOLDER}/table.json"


def level_slug(name: str) -> str:
    """A level's name as a file name ("unstructured 50%" -> "unstructured_50pct")."""
    return name.replace(" ", "_").replace("%", "pct")


@dataclass
class StoredCompression:
    run_id: str
    table: pd.DataFrame
    score_name: str
    threads: int
    repeats: int
    measured_at: float
    notes: list[str] = field(default_factory=list)
    # level name -> file format ("dense", "sparse", "int8") -> artifact name
    files: dict[str, dict[str, str]] = field(default_factory=dict)


def save_compression(store: RunStore, result: CompressionResult) -> StoredCompression:
    """Keep `result` with its run (replacing an earlier measurement)."""
    store.delete_artifacts(result.run_id, FOLDER)
    files: dict[str, dict[str, str]] = {}
    for level in result.levels:
        for fmt, data in level.files.items():
            name = f"{FOLDER}/{level_slug(level.name)}.{fmt}.safetensors"
            store.save_artifact(result.run_id, name, data)
            files.setdefault(level.name, {})[fmt] = name
    meta = {
        "score_name": result.score_name,
        "threads": result.threads,
        "repeats": result.repeats,
        "measured_at": time.time(),
        "notes": result.notes,
        "files": files,
        "table": json.loads(result.table().to_json(orient="records")),
    }
    store.save_artifact(result.run_id, TABLE, json.dumps(meta, indent=1).encode())
    return _from_meta(result.run_id, meta)


def stored_compression(store: RunStore, run_id: str) -> StoredCompression | None:
    """The run's last measurement, or None if it was never compressed."""
    data = store.load_artifact(run_id, TABLE)
    if data is None:
        return None
    return _from_meta(run_id, json.loads(data))


def _from_meta(run_id: str, meta: dict) -> StoredCompression:
    return StoredCompression(
        run_id=run_id,
        table=pd.read_json(io.StringIO(json.dumps(meta["table"])), orient="records"),
        score_name=meta["score_name"],
        threads=int(meta["threads"]),
        repeats=int(meta["repeats"]),
        measured_at=float(meta["measured_at"]),
        notes=list(meta.get("notes", [])),
        files={k: dict(v) for k, v in meta.get("files", {}).items()},
    )
