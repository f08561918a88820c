"""Report sections about the data, the model and its training (no explanation, no fairness)."""

from __future__ import annotations

import time

import pandas as pd

from playground.analysis.data_summary import class_balance, dataset_frame, missing_values
from playground.charts.training import learning_rate_curve, training_curves
from playground.model.shorthand import format_layers
from playground.report.document import Chart, Section, Table
from playground.runner import LoadedRun
from playground.store import RunStore


def dataset_section(run: LoadedRun) -> Section:
    ds = run.dataset
    # Never a server path or the upload's hash: the file is named as the user uploaded it.
    shown = {k: v for k, v in ds.params.items() if k not in ("path", "file_name")}
    section = Section(
        "Dataset",
        facts={
            "name": ds.title,
            "task": ds.task,
            "kind": ds.kind,
            "rows (train / validation / test)": f"{len(ds.train)} / {len(ds.val)} / {len(ds.test)}",
            "input shape": " × ".join(map(str, ds.input_shape)),
            "features": len(ds.feature_names),
            "sensitive attributes": ", ".join(ds.sensitive_attributes) or "none",
            "parameters": ", ".join(f"{k}={v}" for k, v in shown.items()) or "defaults",
        },
        paragraphs=[p for p in [ds.description, *ds.notes] if p],
    )
    if ds.is_classification:
        section.tables.append(Table("Class balance", class_balance(ds)))
    if ds.test.raw is not None:
        rows = dataset_frame(ds, "test", limit=5).reset_index()
        section.tables.append(Table("The first test rows, as in the data", rows))
    missing = missing_values(ds)
    if not missing.empty:
        section.tables.append(Table("Missing values", missing))
    return section


def model_card_section(run: LoadedRun) -> Section:
    record = run.record
    built = run.built
    architecture = pd.DataFrame(
        [
            {
                "#": r.index,
                "layer": "  " * r.depth + r.label,
                "output": str(r.output_shape),
                "parameters": r.params,
            }
            for r in built.rows
        ]
    )
    config = pd.DataFrame([{"setting": k, "value": str(v)} for k, v in record.config.items()])
    metrics = _metrics_by_split(record.final_metrics)
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(record.created_at))
    section = Section(
        "Model card",
        facts={
            "run": record.id,
            "name": record.name or "(unnamed)",
            "status": record.status,
            "layers": format_layers(run.spec),
            "parameters": f"{built.total_params:,}",
            "epochs trained": record.epochs_done,
            "training time (s)": round(record.duration, 1),
            "started": created,
        },
        tables=[Table("Architecture", architecture), Table("Training configuration", config)],
        data={"final_metrics": record.final_metrics},
    )
    if record.message:
        section.paragraphs.append(record.message)
    if len(metrics):
        section.tables.append(Table("Metrics by split", metrics))
    return section


def _metrics_by_split(final: dict[str, float]) -> pd.DataFrame:
    rows = []
    for split in ("train", "val", "test"):
        row = {k.removeprefix(f"{split}_"): v for k, v in final.items() if k.startswith(split)}
        if row:
            rows.append({"split": split, **row})
    return pd.DataFrame(rows)


def training_section(run: LoadedRun, store: RunStore) -> Section:
    history = store.epochs(run.record.id)
    section = Section("Training")
    if not history:
        section.paragraphs.append("No epoch finished, so there are no curves.")
        return section
    score = "r2" if any("val_r2" in row for row in history) else "acc"
    section.charts.append(Chart("Loss and score by epoch", training_curves(history, score)))
    if any("lr" in row for row in history):
        section.charts.append(Chart("Learning rate", learning_rate_curve(history)))
    last = history[-1]
    section.facts = {k: v for k, v in last.items() if k.startswith(("train_", "val_"))}
    return section
