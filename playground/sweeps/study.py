"""The Optuna side of a sweep: its study, the trials as plain rows for pages and the CLI,
parameter importances, and recovering trials a dead process left running.

Trial user attributes the driver sets: "run_id" (the stored run), "status" (the run's final
status), "requeued" (a trial stopped before it finished whose parameters were queued again,
so it does not count against the budget), "error" (a request the parameters made invalid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from playground.sweeps.config import PRUNERS, SAMPLERS
from playground.sweeps.store import SweepRecord, SweepStore

# What people read for Optuna's trial states.
STATES = {
    "RUNNING": "running",
    "WAITING": "waiting",
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
}
MIN_TRIALS_FOR_IMPORTANCE = 4


@dataclass
class TrialRow:
    """One trial as a page or the CLI shows it."""

    number: int
    state: str  # running, waiting, complete, pruned, failed, stopped (failed + requeued)
    params: dict[str, Any]
    value: float | None
    epochs: int  # epochs reported so far
    run_id: str | None
    pruned: bool
    message: str = ""
    history: dict[int, float] = field(default_factory=dict)  # epoch -> objective value
    duration: float | None = None  # seconds, once finished

    @property
    def finished(self) -> bool:
        return self.state in ("complete", "pruned", "failed", "stopped")


def make_study(record: SweepRecord, store: SweepStore) -> Any:
    """The sweep's study (created on first use), with its sampler and pruner."""
    import optuna

    config = record.config
    return optuna.create_study(
        study_name=record.study_name,
        storage=store.optuna_storage(),
        sampler=SAMPLERS[config.sampler](config),
        pruner=PRUNERS[config.pruner](config),
        direction=record.direction,
        load_if_exists=True,
    )


def load_trials(record: SweepRecord, store: SweepStore) -> list[TrialRow]:
    """Every trial of the sweep so far, oldest first ([] before the first)."""
    import optuna

    try:
        study = optuna.load_study(study_name=record.study_name, storage=store.optuna_storage())
    except KeyError:
        return []
    return [_row(t) for t in study.get_trials(deepcopy=False)]


def _row(trial: Any) -> TrialRow:
    attrs = trial.user_attrs
    state = STATES.get(trial.state.name, trial.state.name.lower())
    if state == "failed" and attrs.get("requeued"):
        state = "stopped"
    value = trial.value if trial.value is not None and math.isfinite(trial.value) else None
    history = {int(k): float(v) for k, v in trial.intermediate_values.items()}
    if state == "pruned" and value is None and history:
        value = history[max(history)]
    duration = None
    if trial.datetime_start is not None and trial.datetime_complete is not None:
        duration = (trial.datetime_complete - trial.datetime_start).total_seconds()
    return TrialRow(
        number=trial.number,
        state=state,
        params=dict(trial.params),
        value=value,
        epochs=int(attrs.get("epochs", max(history) if history else 0)),
        run_id=attrs.get("run_id"),
        pruned=state == "pruned",
        message=str(attrs.get("error") or attrs.get("message") or ""),
        history=history,
        duration=duration,
    )


def counted(rows: list[TrialRow]) -> int:
    """Trials that count against the budget: finished, except those queued to run again."""
    return sum(1 for r in rows if r.state in ("complete", "pruned", "failed"))


def best_trial(rows: list[TrialRow], direction: str) -> TrialRow | None:
    """The complete trial with the best value (None before the first)."""
    done = [r for r in rows if r.state == "complete" and r.value is not None]
    if not done:
        return None
    pick = max if direction == "maximize" else min
    return pick(done, key=lambda r: r.value)


def importances(record: SweepRecord, store: SweepStore) -> dict[str, float]:
    """Each varying parameter's share of the objective's variance over the complete trials
    (Optuna's fANOVA, seeded); {} with fewer than MIN_TRIALS_FOR_IMPORTANCE of them, or when
    nothing varied among them."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    try:
        study = optuna.load_study(study_name=record.study_name, storage=store.optuna_storage())
    except KeyError:
        return {}
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        return {}
    try:
        found = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError):  # e.g. one value of every parameter so far
        return {}
    return {name: float(share) for name, share in found.items()}


def recover_stale_trials(record: SweepRecord, store: SweepStore) -> list[int]:
    """Trials left RUNNING by a process that died: failed, marked requeued, and their
    parameters queued again so the budget is finished with them. Only call this while no
    live process drives the sweep (SweepStore.claim sees to that). Returns their numbers."""
    import optuna

    TrialState = optuna.trial.TrialState
    storage = store.optuna_storage()
    try:
        study = optuna.load_study(study_name=record.study_name, storage=storage)
    except KeyError:
        return []
    recovered = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        # Optuna's trial calls need the live trial object, which died with its process: the
        # storage's own calls change it by id.
        trial_id = trial._trial_id
        storage.set_trial_user_attr(trial_id, "requeued", True)
        storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(dict(trial.params), skip_if_exists=False)
        recovered.append(trial.number)
    return recovered
