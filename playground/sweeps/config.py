"""A sweep as plain data: the base run, the search space, the budget, how to search and prune,
and where trials run. Stored with the sweep (JSON), so a resumed sweep is the same sweep.

Samplers and pruners are registries (name -> builder of the Optuna object); the objective is a
validation metric of the run's epoch rows ("auto": accuracy for classification, R² for
regression, the loss for other modes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from playground.errors import PlaygroundError
from playground.runs.request import RunRequest
from playground.sweeps.space import SearchSpace

RAY_ENV = "RAY_ADDRESS"
Direction = Literal["maximize", "minimize"]


def _tpe(config: SweepConfig) -> Any:
    import optuna

    # A few random trials first (at most a third of the budget), then the model of them.
    startup = max(2, min(10, config.trials // 3))
    return optuna.samplers.TPESampler(seed=config.seed, n_startup_trials=startup)


def _random(config: SweepConfig) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=config.seed)


def _grid(config: SweepConfig) -> Any:
    import optuna

    return optuna.samplers.GridSampler(config.space.grid(), seed=config.seed)


def _no_pruner(config: SweepConfig) -> Any:
    import optuna

    return optuna.pruners.NopPruner()


def _median(config: SweepConfig) -> Any:
    import optuna

    # Two finished trials are enough to compare against on small sweeps; the first epochs
    # are noisy, so no trial is judged before its second.
    return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)


def _halving(config: SweepConfig) -> Any:
    import optuna

    return optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3)


SAMPLERS: dict[str, Callable[[SweepConfig], Any]] = {
    "tpe": _tpe,
    "random": _random,
    "grid": _grid,
}
SAMPLER_TITLES = {
    "tpe": "TPE (learns from earlier trials)",
    "random": "random",
    "grid": "grid (every combination)",
}
PRUNERS: dict[str, Callable[[SweepConfig], Any]] = {
    "none": _no_pruner,
    "median": _median,
    "halving": _halving,
}
PRUNER_TITLES = {
    "none": "none: every trial trains to the end",
    "median": "median: stop a trial below the median of earlier trials at the same epoch",
    "halving": "successive halving: keep the best third at each rung",
}
# Objectives people pick; "auto" resolves with the dataset's task.
OBJECTIVES = ("auto", "val_acc", "val_r2", "val_loss")


class SweepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    base: RunRequest
    space: SearchSpace = Field(default_factory=SearchSpace)
    objective: str = "auto"
    direction: Literal["auto", "maximize", "minimize"] = "auto"
    sampler: str = "tpe"
    pruner: str = "median"
    trials: int = Field(default=20, ge=1, le=10_000)
    timeout: float | None = Field(default=None, gt=0, description="seconds of sweeping")
    workers: int = Field(default=2, ge=1, le=256, description="trials at once")
    seed: int = Field(default=0, ge=0)
    # None: this machine's worker processes; an address ("auto", "host:6379", "ray://..."):
    # a Ray cluster; "local": a Ray instance this process starts.
    ray_address: str | None = None

    @field_validator("sampler")
    @classmethod
    def _known_sampler(cls, value: str) -> str:
        if value not in SAMPLERS:
            raise ValueError(f"unknown sampler {value!r}; choose one of: {', '.join(SAMPLERS)}")
        return value

    @field_validator("pruner")
    @classmethod
    def _known_pruner(cls, value: str) -> str:
        if value not in PRUNERS:
            raise ValueError(f"unknown pruner {value!r}; choose one of: {', '.join(PRUNERS)}")
        return value

    @classmethod
    def parse(cls, data: dict[str, Any] | str) -> SweepConfig:
        """Validate a dict or JSON text; a bad field raises a PlaygroundError naming it."""
        try:
            if isinstance(data, str):
                return cls.model_validate_json(data)
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, PlaygroundError):
                raise cause from None
            field = ".".join(str(p) for p in err["loc"])
            raise PlaygroundError(
                f"Sweep field '{field}': {err['msg'].removeprefix('Value error, ')}.",
                "See playground.sweeps.SweepConfig for the fields.",
            ) from None

    def to_json(self) -> str:
        return self.model_dump_json()

    def check(self) -> None:
        """Refuse a sweep that cannot run: a space that does not fit the base request, a
        grid sampler over a continuous range of no grid."""
        self.space.check(self.base)
        if not self.space.varying and self.trials > 1:
            raise PlaygroundError(
                "The sweep varies nothing: every trial would train the same run.",
                "Give at least one parameter a range or a choice of two values.",
            )

    @property
    def trial_budget(self) -> int:
        """Trials to run: a grid sweep stops once every combination has been tried."""
        if self.sampler == "grid":
            return min(self.trials, self.space.grid_size())
        return self.trials

    @property
    def ray(self) -> str | None:
        return self.ray_address or None


def ray_address_from_env() -> str | None:
    """$RAY_ADDRESS, the variable Ray itself reads, or None."""
    return os.environ.get(RAY_ENV) or None


def resolve_objective(config: SweepConfig, task: str) -> tuple[str, Direction]:
    """The validation metric and direction: "auto" is accuracy for classification, R² for
    regression (both higher is better), the validation loss for other modes."""
    metric = config.objective
    if metric == "auto":
        if config.base.mode not in ("supervised", "ensemble"):
            metric = "val_loss"
        else:
            metric = "val_r2" if task == "regression" else "val_acc"
    if config.direction != "auto":
        return metric, config.direction
    lower_is_better = metric.endswith(("loss", "recon", "error", "mse", "mae"))
    return metric, "minimize" if lower_is_better else "maximize"
