"""Training configuration: plain, validated data (JSON round-trippable like model specs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from playground.errors import TrainingError
from playground.train.augment.registry import strength_problem

OptimizerName = Literal["sgd", "adam", "adamw", "rmsprop", "adagrad"]
ScheduleName = Literal["none", "step", "exponential", "cosine", "plateau", "onecycle"]
LossName = Literal["auto", "cross_entropy", "bce", "mse", "l1", "huber"]
DeviceName = Literal["auto", "cpu", "cuda", "mps"]
# Which rows an epoch visits (playground/train/samplers.py holds them and their titles).
SamplerName = Literal["none", "oversample", "undersample"]


# What people read for each option (the app's labels); field names stay the CLI's flags.
TITLES = {
    "optimizer": "optimiser",
    "lr": "learning rate",
    "momentum": "momentum",
    "nesterov": "Nesterov momentum",
    "batch_size": "batch size",
    "epochs": "epochs",
    "loss": "loss",
    "l1": "L1 penalty",
    "l2": "L2 penalty (weight decay)",
    "schedule": "learning-rate schedule",
    "step_size": "epochs between decays",
    "gamma": "decay factor",
    "plateau_patience": "plateau patience (epochs)",
    "grad_clip": "clip gradient norm at",
    "early_stopping_patience": "stop after N epochs without improvement",
    "early_stopping_min_delta": "smallest improvement that counts",
    "stop_when_not_learning": "stop a run that is not learning",
    "class_weighting": "weight classes by rarity",
    "sampler": "balance classes by sampling",
    "reweigh": "reweigh by sensitive attribute",
    "seed": "random seed",
    "device": "device",
    "cpu_threads": "CPU threads",
    "record_every": "record statistics every N steps",
    "augment": "data augmentation",
}


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    optimizer: OptimizerName = "adam"
    lr: float = Field(default=0.01, gt=0.0, le=10.0)
    momentum: float = Field(default=0.9, ge=0.0, lt=1.0, description="SGD and RMSprop only")
    nesterov: bool = Field(default=False, description="SGD only; needs momentum > 0")
    batch_size: int = Field(default=32, ge=1, le=1_000_000)
    epochs: int = Field(default=20, ge=1, le=100_000)
    loss: LossName = "auto"
    l1: float = Field(default=0.0, ge=0.0, le=10.0, description="L1 penalty on weights")
    l2: float = Field(default=0.0, ge=0.0, le=10.0, description="weight decay")
    schedule: ScheduleName = "none"
    step_size: int = Field(default=10, ge=1, description="epochs between 'step' decays")
    gamma: float = Field(
        default=0.5, gt=0.0, le=1.0, description="decay factor (step, exponential, plateau)"
    )
    plateau_patience: int = Field(default=5, ge=0)
    grad_clip: float | None = Field(default=None, gt=0.0, description="max gradient norm")
    early_stopping_patience: int | None = Field(
        default=None, ge=1, description="epochs without val improvement"
    )
    early_stopping_min_delta: float = Field(default=0.0, ge=0.0)
    stop_when_not_learning: bool = Field(
        default=True,
        description="end the run (as diverged, with advice) when its loss stays worse than "
        "a model that has learnt nothing, or its gradients stay huge; off: only warn",
    )
    class_weighting: bool = Field(
        default=False, description="weight classes inversely to their frequency"
    )
    sampler: SamplerName = Field(
        default="none",
        description="oversample: every class appears per epoch as often as the largest; "
        "undersample: as often as the smallest (classification, supervised mode)",
    )
    reweigh: str | None = Field(
        default=None,
        min_length=1,
        description="sensitive attribute to reweigh by (Kamiran & Calders): sample weights "
        "that balance its groups x labels",
    )
    seed: int = Field(default=0, ge=0)
    device: DeviceName = "auto"
    # Small models train fastest on one CPU thread, and concurrent runs then don't fight over
    # cores (oversubscribed threads measured 30-50x slower here). Raise it for big CNNs.
    cpu_threads: int = Field(default=1, ge=1, le=256)
    record_every: int = Field(
        default=20, ge=1, description="steps between gradient/weight-norm records"
    )
    augment: dict[str, float] = Field(
        default_factory=dict,
        description="augmentation name -> strength, applied to training batches only "
        "(e.g. shift=1, rotate=10, noise=0.1, mixup=0.2; see playground.train.augment)",
    )

    @field_validator("augment")
    @classmethod
    def _known_augmentations(cls, value: dict[str, float]) -> dict[str, float]:
        # Names and strengths only: whether one suits the data is checked with the dataset.
        for name, strength in value.items():
            problem = strength_problem(name, strength)
            if problem:
                raise PydanticCustomError("augment", problem)
        return value

    @classmethod
    def title(cls, name: str) -> str:
        """The option's name in words ("learning rate" for `lr`)."""
        return TITLES.get(name, name.replace("_", " "))

    @classmethod
    def parse(cls, data: dict[str, Any] | None = None, **overrides: Any) -> TrainConfig:
        """Validate a dict of options; a bad one raises TrainingError naming the option."""
        try:
            return cls.model_validate({**(data or {}), **overrides})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise TrainingError(
                f"Training option '{field}': {err['msg']} (got {err.get('input')!r}).",
                "Check the value; see `python -m playground train --help` for each option.",
            ) from None
