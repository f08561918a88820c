"""What a training mode is: the batch step, the losses and the scores of one kind of training.

The trainer owns the loop (epochs, shuffling, control, events, the run's modules, optimisers
and schedules); a mode owns what happens inside a step and what a run's numbers mean. A mode
names the modules it trains (`module_names`) and says what data each one sees
(`signatures`), so a run can hold several named modules, each with its own optimiser.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from playground.errors import SpecError, TrainingError
from playground.model.build import BuiltModel, DataSignature, build_model, check_model
from playground.model.spec import ModelSpec

if TYPE_CHECKING:
    from playground.data.dataset import Dataset, Split
    from playground.train.config import TrainConfig
    from playground.train.objectives import Objective
    from playground.train.trainer import Trainer


def run_module(modules: Mapping[str, BuiltModel]) -> nn.Module:
    """The run's modules as one module, as they are checkpointed and stored: one module is
    the model itself (keys "0.weight"); several are a ModuleDict ("encoder.0.weight")."""
    if len(modules) == 1:
        return next(iter(modules.values())).module
    return nn.ModuleDict({name: built.module for name, built in modules.items()})


class TrainingMode:
    """Override `step`, `end_epoch` and `evaluate`; the rest has working defaults."""

    name: ClassVar[str]
    title: ClassVar[str]
    module_names: ClassVar[tuple[str, ...]] = ("model",)
    # The primary score, shown as train_<score> / val_<score> beside the losses.
    score_name: str = "score"
    # Whether a 2D dataset's decision boundary means something for this mode.
    draws_boundary: ClassVar[bool] = False
    # The loss against the labels, for modes that have one: it gives the run a chance level.
    objective: Objective | None = None
    # The mode's options (mode_options) with their defaults, and the allowed values of those
    # that are a choice: the app draws one widget per option from these.
    option_defaults: ClassVar[dict[str, Any]] = {}
    option_choices: ClassVar[dict[str, tuple[Any, ...]]] = {}
    # Starting stacks (layer shorthand) per module, for the Build page; "" = none offered.
    default_stacks: ClassVar[dict[str, str]] = {}
    # Training options this mode needs changed from TrainConfig's defaults, with why; the app
    # applies them when the mode is chosen (unless the user already changed that option).
    suggested_config: ClassVar[dict[str, Any]] = {}
    suggestion_reason: ClassVar[str] = ""

    def __init__(self, trainer: Trainer, options: Mapping[str, Any]) -> None:
        self.trainer = trainer
        self.options = dict(options)

    # -- how the run's modules fit together (called before any module exists) ------------
    @classmethod
    def signatures(
        cls, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
    ) -> dict[str, DataSignature]:
        """What each module receives and must produce, in build order. Default: every module
        maps the dataset's input to its outputs."""
        cls.check_modules(specs)
        return {name: DataSignature.of(dataset) for name in cls.module_names}

    @classmethod
    def check_modules(cls, specs: Mapping[str, ModelSpec]) -> None:
        missing = [n for n in cls.module_names if n not in specs]
        extra = [n for n in specs if n not in cls.module_names]
        if missing or extra:
            raise TrainingError(
                f"Mode '{cls.name}' trains the modules {', '.join(cls.module_names)}; "
                f"the run gives {', '.join(specs) or 'none'}.",
                f"Give one model spec for each of: {', '.join(cls.module_names)}.",
            )

    @classmethod
    def check(
        cls, dataset: Dataset, specs: Mapping[str, ModelSpec], options: Mapping[str, Any]
    ) -> dict[str, BuiltModel]:
        """Validate every module against its data without allocating (meta device).
        Returns each module's shape table; raises SpecError / TrainingError (naming the module
        when there are several: each has a layer 0)."""
        built = {}
        for name, signature in cls.signatures(dataset, specs, options).items():
            with cls._naming(name):
                built[name] = check_model(specs[name], signature)
        return built

    @classmethod
    def build(
        cls,
        dataset: Dataset,
        specs: Mapping[str, ModelSpec],
        options: Mapping[str, Any],
        device: str | torch.device = "cpu",
    ) -> dict[str, BuiltModel]:
        """Every module with real weights on `device`, in build order."""
        built = {}
        for name, signature in cls.signatures(dataset, specs, options).items():
            with cls._naming(name):
                built[name] = build_model(specs[name], signature, device=device)
        return built

    @classmethod
    @contextmanager
    def _naming(cls, module: str) -> Iterator[None]:
        """In a mode of several modules, put the module's name in front of a SpecError
        ("Decoder layer 0 (conv2d): ..."); a one-module mode's errors stay as they are."""
        try:
            yield
        except SpecError as exc:
            if len(cls.module_names) == 1:
                raise
            named = copy.copy(exc)  # keeps layer_index, received, fix...
            text = exc.message
            if text.startswith("Layer "):
                text = f"{module.capitalize()} layer {text[len('Layer ') :]}"
            else:
                text = f"{module.capitalize()}: {text}"
            named.message = text
            named.args = (f"{text} {exc.hint}" if exc.hint else text,)
            raise named from None

    @classmethod
    def epoch_size(cls, dataset: Dataset, config: TrainConfig, options: Mapping[str, Any]) -> int:
        """Training rows one epoch visits, known before the mode exists (the learning-rate
        schedules count steps). Here a sampler is refused: only a mode that trains on the
        labels (supervised) has classes to balance."""
        if config.sampler != "none":
            raise TrainingError(
                f"The sampler '{config.sampler}' balances classes in a supervised loss; mode "
                f"'{cls.name}' does not train on the labels.",
                "Set the sampler to 'none' for this mode.",
            )
        return len(dataset.train)

    # -- the loop's hooks --------------------------------------------------------------
    @property
    def train_size(self) -> int:
        return len(self.trainer.dataset.train)

    def epoch_order(self, order: torch.Tensor) -> torch.Tensor:
        """The rows this epoch trains on, in order, given the trainer's shuffled permutation
        of `train_size` rows (a sampler may repeat or skip rows; the epoch's steps follow
        the returned length). Default: the permutation itself."""
        return order

    def begin_epoch(self, order: torch.Tensor) -> None:
        """`order` is the epoch's shuffled permutation of training indices, on the device."""

    def step(self, idx: torch.Tensor, start: int) -> torch.Tensor:
        """Train on the batch `idx` (rows `start:start+len(idx)` of the epoch's order).
        Returns the batch loss as a detached device tensor (no host sync)."""
        raise NotImplementedError

    def end_epoch(self) -> dict[str, float]:
        """The epoch's training metrics, unprefixed ({"loss": ..., score_name: ...}).
        A reporting point: host syncs are fine."""
        raise NotImplementedError

    def evaluate(self, split: Split) -> dict[str, float]:
        """Metrics on a split in eval mode, unprefixed; must include "loss"."""
        raise NotImplementedError

    def chance_loss(self) -> float | None:
        """The loss of a model that has learnt nothing (see Objective.chance_loss) on the
        training targets, or None where the mode has no such level. A reporting point."""
        if self.objective is None:
            return None
        return self.objective.chance_loss(self.trainer.dataset.train.y.to(self.trainer.device))

    def step_module(self, name: str) -> None:
        """Update one module from the gradients it holds: clip them with its own config,
        step its optimiser, and step a per-batch learning-rate schedule."""
        trainer = self.trainer
        clip = trainer.module_configs[name].grad_clip
        if clip:
            nn.utils.clip_grad_norm_(trainer.modules[name].module.parameters(), clip)
        trainer.steps[name].step()
        if trainer.schedules[name].per_batch:
            trainer.schedules[name].step_batch()

    def live_view(self) -> Any:
        """What the app draws of this mode while it trains (plain picklable data: it travels
        from the worker with each update), computed in the worker at most every flush; None
        for nothing beyond the curves. E.g. a GAN's discriminator field and fake samples."""
        return None

    def lr(self) -> float:
        """The learning rate shown in the curves: the first module's."""
        optimizer = next(iter(self.trainer.optimizers.values()))
        return float(optimizer.param_groups[0]["lr"])
