"""Hyperparameter sweeps: a search space over a run request's training options and layer
parameters, searched and pruned with Optuna, each trial a stored run trained by the local
worker processes or on a Ray cluster.

    space.py        Param, SearchSpace, apply_params (a trial's values -> its RunRequest)
    config.py       SweepConfig (plain data, stored), sampler and pruner registries
    store.py        SweepStore: sweep records and Optuna's storage in the data dir
    study.py        the Optuna study, trials as rows, importances, stale-trial recovery
    backends.py     where trials run: LocalBackend (the job registry's workers)
    ray_backend.py  RayBackend: the same requests as Ray tasks
    driver.py       SweepDriver (a thread) and the process-wide SweepRegistry
"""

from playground.sweeps.config import (
    OBJECTIVES,
    PRUNERS,
    SAMPLERS,
    SweepConfig,
    ray_address_from_env,
    resolve_objective,
)
from playground.sweeps.driver import (
    SweepDriver,
    SweepRegistry,
    create_sweep,
    default_sweeps,
    make_backend,
)
from playground.sweeps.space import (
    Param,
    SearchSpace,
    SweepSpaceError,
    apply_params,
    suggest,
    training_default,
    tunable_parameters,
)
from playground.sweeps.store import SweepRecord, SweepStore
from playground.sweeps.study import TrialRow, best_trial, importances, load_trials

__all__ = [
    "OBJECTIVES",
    "PRUNERS",
    "SAMPLERS",
    "Param",
    "SearchSpace",
    "SweepConfig",
    "SweepDriver",
    "SweepRecord",
    "SweepRegistry",
    "SweepSpaceError",
    "SweepStore",
    "TrialRow",
    "apply_params",
    "best_trial",
    "create_sweep",
    "default_sweeps",
    "importances",
    "load_trials",
    "make_backend",
    "ray_address_from_env",
    "resolve_objective",
    "suggest",
    "training_default",
    "tunable_parameters",
]
