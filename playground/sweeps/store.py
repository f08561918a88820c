"""Where sweeps are kept, beside the run store in the data dir:

    sweeps.sqlite          one row per sweep: its config (base run, space, budget), status,
                           objective, time spent, the process driving it
    sweeps-optuna.sqlite   Optuna's RDBStorage: every trial's parameters, state, per-epoch
                           values; what the sampler learns from and a resumed sweep goes on from

Every trial is also a run in the run store, with lineage {"sweep", "trial", "params"}.
A sweep whose driving process died shows 'interrupted' (as runs do) and can be resumed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.errors import PlaygroundError
from playground.store.paths import data_dir
from playground.store.process import current_owner, owner_alive
from playground.sweeps.config import SweepConfig

SCHEMA = """
CREATE TABLE IF NOT EXISTS sweeps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    config TEXT NOT NULL,
    metric TEXT NOT NULL,
    direction TEXT NOT NULL,
    elapsed REAL NOT NULL DEFAULT 0,
    owner TEXT
);
"""
# While a driver works on it; a sweep in one of these whose owner is gone is 'interrupted'.
LIVE_STATUSES = ("running", "pausing", "paused", "stopping")
ENDED = ("completed", "stopped", "failed", "interrupted")


class SweepNotFoundError(PlaygroundError):
    pass


@dataclass
class SweepRecord:
    id: str
    name: str
    status: str
    message: str
    created_at: float
    updated_at: float
    config: SweepConfig
    metric: str
    direction: str
    elapsed: float  # seconds spent sweeping, over every session of it (the time budget)
    owner: str | None

    @property
    def study_name(self) -> str:
        return self.id

    @property
    def resumable(self) -> bool:
        return self.status in ("stopped", "interrupted", "paused", "failed", "completed")


class SweepStore:
    """Sweep records (SQLite) and the Optuna storage, in `root` (the run store's data dir)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else data_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "sweeps.sqlite"
        self.optuna_path = self.root / "sweeps-optuna.sqlite"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    # -- Optuna --------------------------------------------------------------------------
    def optuna_storage(self) -> Any:
        """The Optuna RDBStorage of this data dir (one per process and file: creating one
        checks the schema, which takes a while)."""
        return _optuna_storage(self.optuna_path)

    # -- writing -------------------------------------------------------------------------
    def create(self, config: SweepConfig, metric: str, direction: str) -> str:
        sweep_id = "sweep-" + time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO sweeps (id, name, status, message, created_at, updated_at, config,"
                " metric, direction, owner) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    sweep_id,
                    config.name,
                    "running",
                    "",
                    now,
                    now,
                    config.to_json(),
                    metric,
                    direction,
                    current_owner(),
                ),
            )
        return sweep_id

    def set_status(
        self, sweep_id: str, status: str, message: str = "", elapsed: float | None = None
    ) -> None:
        with self._connect() as db:
            if elapsed is None:
                db.execute(
                    "UPDATE sweeps SET status=?, message=?, updated_at=? WHERE id=?",
                    (status, message, time.time(), sweep_id),
                )
            else:
                db.execute(
                    "UPDATE sweeps SET status=?, message=?, updated_at=?, elapsed=? WHERE id=?",
                    (status, message, time.time(), elapsed, sweep_id),
                )

    def set_elapsed(self, sweep_id: str, elapsed: float) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE sweeps SET elapsed=?, updated_at=? WHERE id=?",
                (elapsed, time.time(), sweep_id),
            )

    def claim(self, sweep_id: str, config: SweepConfig | None = None) -> SweepRecord:
        """This process drives the sweep from now on (a resume); refused while another live
        process drives it. `config` replaces the stored one (a larger budget, say)."""
        record = self.get(sweep_id)
        with self._connect() as db:
            owner = db.execute("SELECT owner FROM sweeps WHERE id=?", (sweep_id,)).fetchone()[0]
            if record.status in LIVE_STATUSES and owner != current_owner() and owner_alive(owner):
                raise PlaygroundError(
                    f"Sweep {sweep_id} is still {record.status} in another process.",
                    "Stop it there first (Ctrl+C in its terminal, or on its Sweep page).",
                )
            db.execute(
                "UPDATE sweeps SET owner=?, status='running', message='', updated_at=?"
                + (", config=?" if config is not None else "")
                + " WHERE id=?",
                (current_owner(), time.time(), *([config.to_json()] if config else []), sweep_id),
            )
        return self.get(sweep_id)

    def delete(self, sweep_id: str) -> None:
        """Forget the sweep and its Optuna study (its trials' runs stay in the run store)."""
        import optuna

        self.get(sweep_id)
        with suppress(KeyError):
            optuna.delete_study(study_name=sweep_id, storage=self.optuna_storage())
        with self._connect() as db:
            db.execute("DELETE FROM sweeps WHERE id=?", (sweep_id,))

    # -- reading -------------------------------------------------------------------------
    def get(self, sweep_id: str) -> SweepRecord:
        self._mark_interrupted()
        with self._connect() as db:
            row = db.execute("SELECT * FROM sweeps WHERE id=?", (sweep_id,)).fetchone()
        if row is None:
            raise SweepNotFoundError(
                f"No stored sweep has id {sweep_id!r}.",
                "List sweeps with `python -m playground sweep --list`.",
            )
        return _record(row)

    def list(self, limit: int | None = None) -> list[SweepRecord]:
        self._mark_interrupted()
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM sweeps ORDER BY created_at DESC" + (" LIMIT ?" if limit else ""),
                (limit,) if limit else (),
            ).fetchall()
        return [_record(r) for r in rows]

    def _mark_interrupted(self) -> None:
        """Sweeps left live by a process that is gone (killed, restarted) are 'interrupted'."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id, owner FROM sweeps WHERE status IN ({','.join('?' * len(LIVE_STATUSES))})",
                LIVE_STATUSES,
            ).fetchall()
            for row in rows:
                if not owner_alive(row["owner"]):
                    db.execute(
                        "UPDATE sweeps SET status='interrupted', message=? WHERE id=?",
                        (
                            "The process driving this sweep ended; resume it to finish its "
                            "budget (finished trials are kept, unfinished ones run again).",
                            row["id"],
                        ),
                    )


def _record(row: sqlite3.Row) -> SweepRecord:
    return SweepRecord(
        id=row["id"],
        name=row["name"],
        status=row["status"],
        message=row["message"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        config=SweepConfig.parse(row["config"]),
        metric=row["metric"],
        direction=row["direction"],
        elapsed=row["elapsed"],
        owner=row["owner"],
    )


_storages: dict[Path, Any] = {}
_storages_lock = threading.Lock()


def _optuna_storage(path: Path) -> Any:
    import optuna

    key = path.resolve()
    with _storages_lock:
        if key not in _storages:
            optuna.logging.set_verbosity(optuna.logging.WARNING)  # the CLI prints its own lines
            _storages[key] = optuna.storages.RDBStorage(
                f"sqlite:///{key}",
                # Pages read while the driver writes: wait for the lock instead of failing.
                engine_kwargs={"connect_args": {"timeout": 30}},
            )
        return _storages[key]
