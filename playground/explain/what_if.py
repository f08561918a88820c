"""What-if: change a row's values as the user knows them (age 22 -> 40, gender female -> male)
and see the model's prediction move. Rows are encoded with the dataset's own fitted
preprocessor, so an edited row reaches the model exactly as a row of the file would."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from playground.data import Dataset
from playground.errors import PlaygroundError
from playground.model import BuiltModel
from playground.train.objectives import Objective


def can_edit(dataset: Dataset) -> bool:
    """What-if needs tabular rows kept as given and the encoder that turns them into inputs."""
    return (
        dataset.kind == "tabular" and dataset.encoder is not None and dataset.test.raw is not None
    )


def editable_columns(dataset: Dataset) -> dict[str, list[str] | None]:
    """Each feature column a person can edit: its categories (text columns) or None (numbers)."""
    encoder = _encoder(dataset)
    columns: dict[str, list[str] | None] = {col: None for col in encoder.numeric}
    for col in encoder.categorical:
        columns[col] = [c for c in encoder.categories[col] if c != "(missing)"]
    return columns


def predict_rows(built: BuiltModel, dataset: Dataset, rows: pd.DataFrame) -> pd.DataFrame:
    """The model's prediction for rows of original values: one column per class holding its
    probability (classification), or the predicted target in its own units (regression)."""
    encoder = _encoder(dataset)
    x = torch.from_numpy(encoder.transform(rows)).to(_device(built))
    module = built.module
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = module(x).reshape(len(rows), -1).float().cpu()
    module.train(was_training)
    if dataset.task == "regression":
        values = out[:, 0].numpy().astype(np.float64) * dataset.target_std + dataset.target_mean
        return pd.DataFrame({f"predicted {dataset.target_name}": values}, index=rows.index)
    proba = Objective(dataset.task, "auto", out.shape[1], None).probabilities(out).numpy()
    names = list(dataset.class_names or [f"class {k}" for k in range(proba.shape[1])])
    return pd.DataFrame(proba.astype(np.float64), columns=names, index=rows.index)


def edited_row(original: pd.Series, changes: dict[str, Any]) -> pd.DataFrame:
    """One row (a one-row frame) with `changes` applied; unknown columns are refused."""
    unknown = [c for c in changes if c not in original.index]
    if unknown:
        raise PlaygroundError(
            f"No column named {', '.join(map(repr, unknown))} in this row.",
            f"Columns: {', '.join(map(str, original.index))}.",
        )
    row = original.copy()
    for column, value in changes.items():
        row[column] = value
    return row.to_frame().T.infer_objects()


def _encoder(dataset: Dataset) -> Any:
    if not can_edit(dataset):
        raise PlaygroundError(
            f"What-if edits rows of tables; {dataset.title} is {dataset.kind} data.",
            "Use a tabular dataset (adult, german_credit, your CSV).",
        )
    return dataset.encoder


def _device(built: BuiltModel) -> torch.device:
    first = next(built.module.parameters(), None)
    return first.device if first is not None else torch.device("cpu")
