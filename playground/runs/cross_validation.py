"""K-fold cross-validation: one run request turned into K, one per fold, and their summary.

    fold_requests(request, K)          K requests: dataset option folds=K, fold=i, lineage
                                       {"cross_validation": group, "fold": i, "folds": K}
    run_cross_validation(request, K)   train them here, one after another (CLI, tests)
    summarise(store, group)            per-fold curves, final validation scores, mean ± std

The app submits the same requests to its executor (the web server never trains) and calls
`summarise` on what the store holds; nothing here knows where the runs trained.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from playground.data.folds import MAX_FOLDS
from playground.errors import PlaygroundError, TrainingError
from playground.runs.execute import run_request
from playground.runs.naming import default_run_name
from playground.runs.request import RunRequest
from playground.store import RunRecord, RunStore
from playground.train import Callback

LINEAGE_KEY = "cross_validation"
# The score each mode's runs are compared by, most common first (see TrainingMode.score_name).
SCORE_NAMES = ("acc", "r2", "recon")


def new_group_id() -> str:
    return f"cv-{secrets.token_hex(4)}"


def fold_requests(
    request: RunRequest, folds: int, group: str | None = None
) -> tuple[str, list[RunRequest]]:
    """(the group id, one request per fold). Each is `request` with the dataset options
    folds=K and fold=i, a name that says which fold, and the group in its lineage."""
    if not 2 <= folds <= MAX_FOLDS:
        raise TrainingError(
            f"Cross-validation needs from 2 to {MAX_FOLDS} folds (got {folds}).",
            "Try 5 folds.",
        )
    group = group or new_group_id()
    base = request.name or default_run_name(
        request.dataset,
        request.dataset_params,
        request.primary_spec,
        request.config,
        request.mode,
    )
    requests = []
    for fold in range(folds):
        requests.append(
            request.model_copy(
                update={
                    "dataset_params": {**request.dataset_params, "folds": folds, "fold": fold},
                    "lineage": {
                        **request.lineage,
                        LINEAGE_KEY: group,
                        "fold": fold,
                        "folds": folds,
                    },
                    "name": f"{base} · fold {fold + 1} of {folds}",
                },
                deep=True,
            )
        )
    return group, requests


@dataclass
class FoldResult:
    fold: int
    run_id: str
    status: str
    history: list[dict[str, Any]]  # the fold's epoch rows, as stored
    final_metrics: dict[str, float]

    def score(self, score_name: str, split: str = "val") -> float | None:
        value = self.final_metrics.get(f"{split}_{score_name}")
        return None if value is None else float(value)


@dataclass
class CrossValidation:
    """A cross-validation group's runs by fold and its final validation scores."""

    group: str
    folds: int
    score_name: str
    results: list[FoldResult] = field(default_factory=list)

    @property
    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.results]

    def scores(self, split: str = "val") -> list[float]:
        """The final score of each fold that has one, in fold order."""
        values = [r.score(self.score_name, split) for r in self.results]
        return [v for v in values if v is not None]

    def mean(self, split: str = "val") -> float:
        scores = self.scores(split)
        return float(np.mean(scores)) if scores else float("nan")

    def std(self, split: str = "val") -> float:
        """The spread over folds: population std (ddof 0), as numpy and scikit-learn's
        cross-validation reports give it."""
        scores = self.scores(split)
        return float(np.std(scores)) if scores else float("nan")

    @property
    def complete(self) -> bool:
        """Every fold has a run that finished with a final validation score."""
        return len(self.results) == self.folds and len(self.scores()) == self.folds


def score_name_of(metrics: dict[str, float]) -> str:
    """The score a run reports beside its loss ("acc", "r2"...), from its metric names."""
    for name in SCORE_NAMES:
        if f"val_{name}" in metrics:
            return name
    return "loss"


def summarise(store: RunStore, group: str) -> CrossValidation:
    """The stored runs of a cross-validation group, by fold (a fold run twice: the newest)."""
    records = group_runs(store, group)
    if not records:
        raise PlaygroundError(
            f"No runs of cross-validation {group} are stored.",
            "Start the cross-validation again.",
        )
    return summarise_runs(store, [r.id for r in records])


def summarise_runs(store: RunStore, run_ids: Sequence[str]) -> CrossValidation:
    """The same from the fold runs' ids (what the app keeps while they train), in fold order;
    runs still training have the epochs stored so far and no final metrics yet."""
    records = sorted((store.get_run(i) for i in run_ids), key=lambda r: r.lineage.get("fold", 0))
    if not records:
        raise PlaygroundError("No cross-validation runs given.", "Start a cross-validation.")
    first = records[0].lineage
    folds = int(first.get("folds", len(records)))
    results = [
        FoldResult(
            int(r.lineage.get("fold", 0)), r.id, r.status, store.epochs(r.id), r.final_metrics
        )
        for r in records
    ]
    metrics = next((r.final_metrics for r in records if r.final_metrics), {})
    if not metrics:
        metrics = next((row for res in results for row in res.history), {})
    return CrossValidation(str(first.get(LINEAGE_KEY, "")), folds, score_name_of(metrics), results)


def group_runs(store: RunStore, group: str) -> list[RunRecord]:
    """A group's runs in fold order, one per fold (the newest where a fold was run again)."""
    by_fold: dict[int, RunRecord] = {}
    for record in store.list_runs():  # newest first
        if record.lineage.get(LINEAGE_KEY) == group:
            by_fold.setdefault(int(record.lineage.get("fold", 0)), record)
    return [by_fold[f] for f in sorted(by_fold)]


def run_cross_validation(
    request: RunRequest,
    folds: int,
    store: RunStore | None = None,
    *,
    callbacks: Sequence[Callback] = (),
) -> CrossValidation:
    """Train every fold of `request` in this process, one after another, and summarise."""
    store = store or RunStore()
    group, requests = fold_requests(request, folds)
    for fold_request in requests:
        run_request(fold_request, store, callbacks=callbacks)
    return summarise(store, group)
