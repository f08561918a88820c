"""The run store: every run's config, status, timestamps and metric history in SQLite (WAL),
weights beside it as safetensors. A run is written when it starts and flushed as it goes, so a
killed process leaves it 'interrupted' with its history up to then."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from playground.errors import PlaygroundError, RunNotFoundError, WeightsError
from playground.status import ACTIVE_STATUSES, ENDED_STATUSES, INTERRUPTED
from playground.store.checkpoint import load_weights, save_weights, write_bytes
from playground.store.histograms import (
    HISTOGRAM_SCHEMA,
    HistogramRow,
    delete_histogram_steps,
    insert_histograms,
    select_histograms,
)
from playground.store.paths import data_dir
from playground.store.process import current_owner, owner_alive
from playground.store.samples import append_samples, read_samples
from playground.store.update import RunUpdate

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL,
    dataset TEXT NOT NULL,
    dataset_params TEXT NOT NULL,
    spec TEXT NOT NULL,
    config TEXT NOT NULL,
    param_count INTEGER NOT NULL DEFAULT 0,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    final_metrics TEXT NOT NULL DEFAULT '{}',
    owner TEXT,
    lineage TEXT NOT NULL DEFAULT '{}',
    mode TEXT NOT NULL DEFAULT 'supervised',
    modules TEXT NOT NULL DEFAULT '{}',
    request TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS records (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
);
"""


MIGRATIONS = {"lineage": "{}", "mode": "supervised", "modules": "{}", "request": "{}"}


@dataclass
class RunRecord:
    id: str
    name: str
    status: str
    message: str
    created_at: float
    updated_at: float
    finished_at: float | None
    dataset: str
    dataset_params: dict[str, Any]
    spec: dict[str, Any]
    config: dict[str, Any]
    param_count: int
    epochs_done: int
    final_metrics: dict[str, float] = field(default_factory=dict)
    # Where a run comes from when it is a variant of another: {"parent": run id, "variant":
    # "drop_attribute" | "reweighing" | "threshold_optimizer", "attribute": ..., ...}.
    lineage: dict[str, Any] = field(default_factory=dict)
    # The training mode and every module's spec by name ({"model": spec} for supervised runs,
    # whose `spec` is that one); the whole run request as JSON data (empty for old runs).
    mode: str = "supervised"
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def module_specs(self) -> dict[str, dict[str, Any]]:
        return self.modules or {"model": self.spec}

    @property
    def parent(self) -> str | None:
        return self.lineage.get("parent")

    @property
    def duration(self) -> float:
        return (self.finished_at or self.updated_at) - self.created_at


class RunStore:
    """SQLite-backed store. Safe to share between threads: each call opens its own connection."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else data_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self.weights_dir = self.root / "weights"
        self.weights_dir.mkdir(exist_ok=True)
        self.db_path = self.root / "runs.sqlite"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA + HISTOGRAM_SCHEMA)
            columns = {r["name"] for r in db.execute("PRAGMA table_info(runs)")}
            # Stores made before variants (lineage) or run requests and modes existed.
            for column, default in MIGRATIONS.items():
                if column not in columns:
                    db.execute(
                        f"ALTER TABLE runs ADD COLUMN {column} TEXT NOT NULL DEFAULT '{default}'"
                    )
        self.mark_interrupted()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, fast commits
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    # -- writing ------------------------------------------------------------------------
    def create_run(
        self,
        *,
        dataset: str,
        dataset_params: dict[str, Any],
        spec: dict[str, Any],
        config: dict[str, Any],
        param_count: int = 0,
        name: str = "",
        status: str = "pending",
        message: str = "",
        lineage: dict[str, Any] | None = None,
        mode: str = "supervised",
        modules: dict[str, dict[str, Any]] | None = None,
        request: dict[str, Any] | None = None,
    ) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, name, status, message, created_at, updated_at, dataset,"
                " dataset_params, spec, config, param_count, owner, lineage, mode, modules,"
                " request) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    name,
                    status,
                    message,
                    now,
                    now,
                    dataset,
                    _dumps(dataset_params),
                    _dumps(spec),
                    _dumps(config),
                    param_count,
                    current_owner(),
                    _dumps(lineage or {}),
                    mode,
                    _dumps(modules or {}),
                    _dumps(request or {}),
                ),
            )
        return run_id

    def set_status(
        self, run_id: str, status: str, message: str = "", *, final: bool = False
    ) -> None:
        with self._connect() as db:
            _set_status(db, run_id, status, message, final)

    def append_epochs(
        self, run_id: str, rows: list[dict[str, Any]], records: list[dict[str, Any]] = ()
    ) -> None:
        """Add epoch rows (each with an 'epoch' key) and step records (each with 'step')."""
        if rows or records:
            with self._connect() as db:
                _append_epochs(db, run_id, rows, records)

    def apply_update(self, update: RunUpdate) -> None:
        """Store what a run reported, in one transaction. A checkpoint's file is written
        first and the status last, so a reader never sees a finished run without its weights
        and final metrics."""
        run_id = update.run_id
        if not self._exists(run_id):
            # Deleted while it trained: drop the update rather than leave an orphan weights
            # file or fail the writer on every later batch.
            return
        if update.weights is not None:
            self.save_weights_bytes(update.run_id, update.weights)
        if update.samples:
            append_samples(self.samples_path(run_id), update.samples)
        with self._connect() as db:
            _append_epochs(db, run_id, update.rows, update.records)
            delete_histogram_steps(db, run_id, update.dropped_histogram_steps)
            insert_histograms(db, run_id, update.histograms)
            if update.final_metrics is not None:
                db.execute(
                    "UPDATE runs SET final_metrics=? WHERE id=?",
                    (_dumps(update.final_metrics), run_id),
                )
            if update.status is not None:
                final = update.status in ENDED_STATUSES
                _set_status(db, run_id, update.status, update.message, final)

    def set_final_metrics(self, run_id: str, metrics: dict[str, float]) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET final_metrics=? WHERE id=?", (_dumps(metrics), run_id))

    def update_lineage(self, run_id: str, **changes: Any) -> None:
        """Add keys to a run's lineage after it was recorded (a sweep that pruned it)."""
        with self._connect() as db:
            row = db.execute("SELECT lineage FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is not None:
                lineage = {**json.loads(row["lineage"] or "{}"), **changes}
                db.execute("UPDATE runs SET lineage=? WHERE id=?", (_dumps(lineage), run_id))

    def add_histograms(self, run_id: str, rows: Sequence[HistogramRow]) -> None:
        """Store weight/gradient histogram rows (a row with the same step, layer and kind
        is replaced)."""
        if rows:
            with self._connect() as db:
                insert_histograms(db, run_id, rows)

    def delete_histograms(self, run_id: str, steps: Sequence[int]) -> None:
        """Remove the histogram snapshots taken at `steps` (the recorder thinning them)."""
        if steps:
            with self._connect() as db:
                delete_histogram_steps(db, run_id, steps)

    def variants(self, run_id: str) -> list[RunRecord]:
        """Runs derived from `run_id` (mitigation variants), oldest first."""
        return [r for r in reversed(self.list_runs()) if r.parent == run_id]

    def save_weights(self, run_id: str, module: nn.Module) -> None:
        save_weights(module, self.weights_path(run_id))

    def save_weights_bytes(self, run_id: str, data: bytes) -> None:
        """Store a checkpoint that arrived as safetensors bytes (from a worker)."""
        write_bytes(data, self.weights_path(run_id))

    def delete_run(self, run_id: str) -> None:
        """Delete a run's record, history and weights; refused while a live process trains
        it (this server's or another's, e.g. the CLI), which must stop it first."""
        record = self.get_run(run_id)  # raises if missing
        with self._connect() as db:
            owner = db.execute("SELECT owner FROM runs WHERE id=?", (run_id,)).fetchone()["owner"]
        # "pending" is a record no executor has taken yet: nothing writes to it.
        if record.status in ("queued", "running", "paused") and owner_alive(owner):
            raise PlaygroundError(
                f"Run {run_id} is still {record.status}, so it cannot be deleted.",
                "Stop it first (on the Train page, or Ctrl+C in the terminal that trains it).",
            )
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id=?", (run_id,))
        self.weights_path(run_id).unlink(missing_ok=True)
        self.samples_path(run_id).unlink(missing_ok=True)
        shutil.rmtree(self.artifact_dir(run_id), ignore_errors=True)

    def mark_interrupted(self) -> int:
        """Runs still 'running' whose owning process is gone become 'interrupted'."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id, owner, epochs_done FROM runs WHERE status IN ({','.join('?' * len(ACTIVE_STATUSES))})",
                ACTIVE_STATUSES,
            ).fetchall()
            dead = [r for r in rows if not owner_alive(r["owner"])]
            for r in dead:
                db.execute(
                    f"UPDATE runs SET status='{INTERRUPTED}', message=?, finished_at=updated_at WHERE id=?",
                    (
                        f"The process training this run ended unexpectedly after {r['epochs_done']} epochs; "
                        "its history and last checkpoint up to then are kept.",
                        r["id"],
                    ),
                )
        return len(dead)

    # -- reading ------------------------------------------------------------------------
    def get_run(self, run_id: str) -> RunRecord:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(
                f"No stored run has id {run_id!r}.", "List runs with `python -m playground runs`."
            )
        return _record(row)

    def list_runs(self, limit: int | None = None) -> list[RunRecord]:
        self.mark_interrupted()
        sql = "SELECT * FROM runs ORDER BY created_at DESC"
        with self._connect() as db:
            rows = db.execute(
                sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ()
            ).fetchall()
        return [_record(r) for r in rows]

    def epochs(self, run_id: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT row FROM epochs WHERE run_id=? ORDER BY epoch", (run_id,)
            ).fetchall()
        return [json.loads(r["row"]) for r in rows]

    def records(self, run_id: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT row FROM records WHERE run_id=? ORDER BY step", (run_id,)
            ).fetchall()
        return [json.loads(r["row"]) for r in rows]

    def histograms(self, run_id: str) -> list[HistogramRow]:
        """The run's weight/gradient histograms by step, layer and kind ([] for runs stored
        before histograms were recorded)."""
        with self._connect() as db:
            return select_histograms(db, run_id)

    def weights_path(self, run_id: str) -> Path:
        if not all(c.isalnum() or c == "-" for c in run_id):  # ids come from URLs and CLIs
            raise RunNotFoundError(f"{run_id!r} is not a valid run id.")
        return self.weights_dir / f"{run_id}.safetensors"

    # -- artifacts: files a later step derives from a run (a compression table and its
    # models), kept with it and deleted with it. Names are plain ("compression/table.json").
    def artifact_dir(self, run_id: str) -> Path:
        self.weights_path(run_id)  # checks the id
        return self.root / "artifacts" / run_id

    def save_artifact(self, run_id: str, name: str, data: bytes) -> None:
        """Write one artifact atomically (the run must exist)."""
        self.get_run(run_id)
        path = self._artifact_path(run_id, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(data, path)

    def load_artifact(self, run_id: str, name: str) -> bytes | None:
        path = self._artifact_path(run_id, name)
        return path.read_bytes() if path.is_file() else None

    def artifact_names(self, run_id: str, folder: str = "") -> list[str]:
        """The run's artifacts (under `folder`), sorted."""
        base = self.artifact_dir(run_id)
        start = base / folder if folder else base
        if not start.is_dir():
            return []
        return sorted(str(p.relative_to(base)) for p in start.rglob("*") if p.is_file())

    def delete_artifacts(self, run_id: str, folder: str) -> None:
        for name in self.artifact_names(run_id, folder):
            self._artifact_path(run_id, name).unlink(missing_ok=True)

    def _artifact_path(self, run_id: str, name: str) -> Path:
        parts = name.split("/")
        if not all(
            p and p not in (".", "..") and all(c.isalnum() or c in "-_." for c in p) for p in parts
        ):
            raise PlaygroundError(f"{name!r} is not a valid artifact name.")
        return self.artifact_dir(run_id).joinpath(*parts)

    def samples_path(self, run_id: str) -> Path:
        return self.weights_path(run_id).with_suffix(".samples.safetensors")

    def samples_over_time(self, run_id: str) -> list[tuple[int, np.ndarray]]:
        """Image samples the run generated from fixed noise, as (epoch, images), oldest
        first; [] for runs that made none."""
        return read_samples(self.samples_path(run_id))

    def _exists(self, run_id: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is not None

    def has_weights(self, run_id: str) -> bool:
        return self.weights_path(run_id).exists()

    def load_weights(self, run_id: str, module: nn.Module) -> None:
        """Load the run's weights into `module`; WeightsError says why they cannot be (none
        yet, none ever for a run that ended first, or a damaged file)."""
        path = self.weights_path(run_id)
        if not path.exists():
            record = self.get_run(run_id)
            if record.status in ACTIVE_STATUSES:
                raise WeightsError(
                    f"Run {run_id} has no saved weights yet.", "Wait for its first epoch to finish."
                )
            raise WeightsError(
                f"Run {run_id} ended ({record.status}) before it saved any weights, so there is "
                "no model to load.",
                "Its history is kept on the Runs page. Train it again"
                + (" with a lower learning rate." if record.status == "diverged" else "."),
            )
        try:
            load_weights(module, path)
        except ValueError as exc:
            raise WeightsError(
                f"The weights file of run {run_id} cannot be loaded: {exc}. It may have been "
                "cut short or changed by hand.",
                "The run's record and history are kept; train it again to get a usable model.",
            ) from None


def _set_status(
    db: sqlite3.Connection, run_id: str, status: str, message: str, final: bool
) -> None:
    now = time.time()
    db.execute(
        "UPDATE runs SET status=?, message=?, updated_at=?, finished_at=? WHERE id=?",
        (status, message, now, now if final else None, run_id),
    )


def _append_epochs(
    db: sqlite3.Connection,
    run_id: str,
    rows: Sequence[dict[str, Any]],
    records: Sequence[dict[str, Any]],
) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO epochs (run_id, epoch, row) VALUES (?,?,?)",
        [(run_id, r["epoch"], _dumps(r)) for r in rows],
    )
    db.executemany(
        "INSERT OR REPLACE INTO records (run_id, step, row) VALUES (?,?,?)",
        [(run_id, r["step"], _dumps(r)) for r in records],
    )
    if rows:
        db.execute(
            "UPDATE runs SET epochs_done=?, updated_at=? WHERE id=?",
            (max(r["epoch"] for r in rows), time.time(), run_id),
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, allow_nan=True)


def _record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"],
        name=row["name"],
        status=row["status"],
        message=row["message"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        dataset=row["dataset"],
        dataset_params=json.loads(row["dataset_params"]),
        spec=json.loads(row["spec"]),
        config=json.loads(row["config"]),
        param_count=row["param_count"],
        epochs_done=row["epochs_done"],
        final_metrics=json.loads(row["final_metrics"]),
        lineage=json.loads(row["lineage"] or "{}"),
        mode=row["mode"] or "supervised",
        modules=json.loads(row["modules"] or "{}"),
        request=json.loads(row["request"] or "{}"),
    )
