"""Train runs the way the product does (a run request through `run_request`), keeping hold of
the trainer for tests that compare against it."""

from __future__ import annotations

from typing import Any

from playground.runs import RunOutcome, RunRequest, run_request
from playground.store import RunStore
from playground.train import Callback, Trainer


class Grab(Callback):
    """Keeps the trainer that ran (it lives inside `execute`)."""

    trainer: Trainer

    def on_train_start(self, trainer: Trainer) -> None:
        self.trainer = trainer


def train_stored(
    dataset: str,
    params: dict[str, Any],
    spec: Any,
    config: dict[str, Any],
    store: RunStore,
    **fields: Any,
) -> tuple[RunOutcome, Trainer]:
    grab = Grab()
    outcome = run_request(
        RunRequest.supervised(dataset, params, spec, config, **fields), store, callbacks=[grab]
    )
    return outcome, grab.trainer
