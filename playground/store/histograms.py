"""The run store's histogram table: per-layer weight/gradient histograms of a run.

Created with CREATE TABLE IF NOT EXISTS, so a store made before this table existed opens
and simply has no histograms for its old runs. Rows go when their run is deleted (cascade).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

HistogramKind = Literal["weight", "grad"]


@dataclass
class HistogramRow:
    """One layer's histogram at one snapshot. `edges` has len(counts) + 1 ascending values;
    `counts[i]` counts values in [edges[i], edges[i+1]) (the last bin includes its right edge).
    Non-finite values are left out."""

    epoch: int
    step: int
    layer: str
    kind: HistogramKind
    edges: list[float]
    counts: list[int]


HISTOGRAM_SCHEMA = """
CREATE TABLE IF NOT EXISTS histograms (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    layer TEXT NOT NULL,
    kind TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    edges TEXT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (run_id, step, layer, kind)
);
"""


def insert_histograms(db: sqlite3.Connection, run_id: str, rows: Sequence[HistogramRow]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO histograms (run_id, step, layer, kind, epoch, edges, counts)"
        " VALUES (?,?,?,?,?,?,?)",
        [
            (run_id, r.step, r.layer, r.kind, r.epoch, json.dumps(r.edges), json.dumps(r.counts))
            for r in rows
        ],
    )


def delete_histogram_steps(db: sqlite3.Connection, run_id: str, steps: Sequence[int]) -> None:
    db.executemany("DELETE FROM histograms WHERE run_id=? AND step=?", [(run_id, s) for s in steps])


def select_histograms(db: sqlite3.Connection, run_id: str) -> list[HistogramRow]:
    """Rows by step, then layer (model order), weights before gradients."""
    found = db.execute(
        "SELECT epoch, step, layer, kind, edges, counts FROM histograms WHERE run_id=?",
        (run_id,),
    ).fetchall()
    rows = [
        HistogramRow(
            epoch=r["epoch"],
            step=r["step"],
            layer=r["layer"],
            kind=r["kind"],
            edges=json.loads(r["edges"]),
            counts=json.loads(r["counts"]),
        )
        for r in found
    ]
    rows.sort(key=lambda r: (r.step, r.kind != "weight", _layer_order(r.layer)))
    return rows


def _layer_order(index: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in index.split("."))
