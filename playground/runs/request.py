"""A run request: everything needed to train a run anywhere, as plain, serialisable data.

The CLI, the app, fairness variants and tests all describe a run this way and hand it to one
entry point (`playground.runs.execute`), in this process or in a worker. JSON round trip:
`RunRequest.from_json(request.to_json()) == request`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from playground.errors import TrainingError
from playground.model.spec import ModelSpec
from playground.train.config import TrainConfig


class StartFrom(BaseModel):
    """Start a run from a stored run's weights (transfer learning, see runs/transfer.py):
    each layer whose tensors all have stored tensors of the same name and shape is copied;
    the others (a head for another number of classes) keep their fresh initialisation."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1)
    modules: list[str] | None = None  # None: every module with the same name
    # Take the tensors of this module of the stored run (an autoencoder's "encoder" to start
    # a supervised model: self-supervised pretraining); None: the module of the same name.
    source_module: str | None = None
    # Layers to copy ("0", "2"; "encoder.0" in a run of several modules); None: all that fit.
    layers: list[str] | None = None
    # Layers that do not learn, or learn at frozen_lr_scale times the learning rate.
    freeze: list[str] = Field(default_factory=list)
    frozen_lr_scale: float = Field(default=0.0, ge=0.0, le=1.0)


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(min_length=1)
    dataset_params: dict[str, Any] = Field(default_factory=dict)
    # The run's modules by name: {"model": spec} for a supervised run; a mode may need several.
    modules: dict[str, ModelSpec] = Field(min_length=1)
    config: TrainConfig = Field(default_factory=TrainConfig)
    # Per-module overrides of the optimiser options (optimizer, lr, schedule, l2, ...).
    module_configs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    mode: str = "supervised"
    mode_options: dict[str, Any] = Field(default_factory=dict)
    name: str = ""
    # Where a run comes from: {"parent": run id, "variant": ...} for mitigation variants,
    # a sweep and trial number, the run it was fine-tuned from...
    lineage: dict[str, Any] = Field(default_factory=dict)
    start_from: StartFrom | None = None

    @field_validator("modules", mode="before")
    @classmethod
    def _parse_specs(cls, value: Any) -> Any:
        # ModelSpec.parse gives errors that name the layer at fault.
        if isinstance(value, dict):
            return {
                k: v if isinstance(v, ModelSpec) else ModelSpec.parse(v) for k, v in value.items()
            }
        return value

    @field_validator("config", mode="before")
    @classmethod
    def _parse_config(cls, value: Any) -> Any:
        return value if isinstance(value, TrainConfig) else TrainConfig.parse(value)

    @classmethod
    def parse(cls, data: dict[str, Any] | str) -> RunRequest:
        """Validate a dict or JSON text; a bad field raises a PlaygroundError naming it."""
        try:
            if isinstance(data, str):
                return cls.model_validate_json(data)
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            cause = err.get("ctx", {}).get("error")
            if cause is not None and hasattr(cause, "hint"):
                raise cause from None  # a SpecError or TrainingError from the field parsers
            field = ".".join(str(p) for p in err["loc"])
            raise TrainingError(
                f"Run request field '{field}': {err['msg']}.",
                "See playground.runs.RunRequest for the fields.",
            ) from None

    @classmethod
    def supervised(
        cls,
        dataset: str,
        dataset_params: dict[str, Any] | None,
        spec: ModelSpec | dict[str, Any] | list[Any],
        config: TrainConfig | dict[str, Any] | None = None,
        **fields: Any,
    ) -> RunRequest:
        """The common case: one model trained on the labels."""
        return cls.parse(
            {
                "dataset": dataset,
                "dataset_params": dataset_params or {},
                "modules": {"model": spec},
                "config": config if config is not None else {},
                **fields,
            }
        )

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> RunRequest:
        return cls.parse(text)

    @property
    def primary_spec(self) -> ModelSpec:
        return next(iter(self.modules.values()))
