"""The training loop.

Data lives on the device and batches are taken by indexing with a shuffled permutation (no
per-sample Python). The only host syncs are at reporting points: every `record_every` steps
and at epoch ends. What a step does, and what a run's numbers mean, belong to its mode
(modes/); everything optional hangs on events (see events.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from playground.data.dataset import Dataset, Split
from playground.errors import PlaygroundError, TrainingError
from playground.model.build import BuiltModel
from playground.model.spec import ModelSpec
from playground.train.callbacks import DeadUnits, EarlyStopping, GradientStats, History
from playground.train.config import TrainConfig
from playground.train.control import RunControl, StopRequested
from playground.train.device import resolve_device
from playground.train.events import Callback, TrainState
from playground.train.fast_step import OptimizerSteps
from playground.train.modes import TrainingMode, get_mode, run_module
from playground.train.not_learning import NotLearning, advice
from playground.train.optimizers import make_optimizer
from playground.train.schedules import Schedule, make_schedule

SpecLike = ModelSpec | dict[str, Any] | list[Any]


class Diverged(Exception):
    pass


def parse_specs(
    spec: SpecLike | None, modules: Mapping[str, SpecLike] | None
) -> dict[str, ModelSpec]:
    """One spec (the supervised 'model') or named module specs, parsed."""
    if (spec is None) == (modules is None):
        raise TrainingError("Give either one model spec or named module specs, not both.")
    named = {"model": spec} if modules is None else dict(modules)
    return {k: v if isinstance(v, ModelSpec) else ModelSpec.parse(v) for k, v in named.items()}


def _parameter_groups(
    module: nn.Module, cfg: TrainConfig, scales: Mapping[str, float]
) -> list[Any]:
    """The module's parameters for its optimiser. Layers in `scales` (top-level index ->
    factor, from transfer learning) learn at factor x lr, in their own group after the
    base group (whose lr the curves show); a factor of 0 freezes them: no gradient, no
    update, no weight decay."""
    if not scales:
        return list(module.parameters())
    base: list[nn.Parameter] = []
    slow: dict[float, list[nn.Parameter]] = {}
    for key, param in module.named_parameters():
        factor = scales.get(key.split(".", 1)[0])
        if factor is None:
            base.append(param)
        elif factor == 0:
            param.requires_grad_(False)
        else:
            slow.setdefault(factor, []).append(param)
    groups: list[Any] = [{"params": base}] if base else []
    groups += [{"params": p, "lr": cfg.lr * f} for f, p in slow.items()]
    if not groups:
        raise TrainingError(
            "Every layer is frozen: nothing would learn.",
            "Leave at least the last layer unfrozen, or give frozen layers a learning-rate factor.",
        )
    return groups


class Trainer:
    """Trains a run's modules on one dataset with a mode (supervised by default).

    Build errors (SpecError, TrainingError) raise here, before anything runs; errors during
    `run()` end the run with a status instead. `sample_weights` (N_train,) weigh each
    training example's loss (reweighing computes them; the trainer does not know why).
    """

    def __init__(
        self,
        dataset: Dataset,
        spec: SpecLike | None = None,
        config: TrainConfig | None = None,
        callbacks: Sequence[Callback] = (),
        control: RunControl | None = None,
        *,
        modules: Mapping[str, SpecLike] | None = None,
        mode: str = "supervised",
        mode_options: Mapping[str, Any] | None = None,
        module_configs: Mapping[str, Mapping[str, Any]] | None = None,
        sample_weights: torch.Tensor | None = None,
        layer_lr_scales: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.dataset = dataset
        self.config = config or TrainConfig()
        self.control = control or RunControl()
        self.state = TrainState()
        mode_cls = get_mode(mode)
        self.specs = parse_specs(spec, modules)
        options = dict(mode_options or {})
        # A sampler may change how many rows an epoch visits (and refuses unfit modes here).
        epoch_rows = mode_cls.epoch_size(dataset, self.config, options)
        if self.config.reweigh and sample_weights is None:
            raise TrainingError(
                f"Reweighing by '{self.config.reweigh}' needs its sample weights.",
                "Run it as a request (playground.runs.execute computes them), or pass "
                "sample_weights= to the Trainer.",
            )
        self.device = resolve_device(self.config.device)
        if self.device.type == "cpu":
            torch.set_num_threads(self.config.cpu_threads)
        # Same seed, same initial weights and dropout masks. The seed is process-wide: a run
        # owns its process (a worker runs one request at a time), so nothing else draws from it.
        torch.manual_seed(self.config.seed)
        self.modules: dict[str, BuiltModel] = mode_cls.build(
            dataset, self.specs, options, self.device
        )
        first = next(iter(self.modules))
        self.spec = self.specs[first]
        self.built = self.modules[first]
        # All modules as one, so checkpoints, early stopping and histograms see them all.
        self.model: nn.Module = run_module(self.modules)
        self.sample_weights = None if sample_weights is None else sample_weights.to(self.device)
        self.steps_per_epoch = math.ceil(epoch_rows / self.config.batch_size)
        self.module_configs: dict[str, TrainConfig] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedules: dict[str, Schedule] = {}
        for name, built in self.modules.items():
            overrides = dict((module_configs or {}).get(name, {}))
            cfg = (
                TrainConfig.parse(self.config.model_dump(), **overrides)
                if overrides
                else self.config
            )
            self.module_configs[name] = cfg
            params = _parameter_groups(built.module, cfg, (layer_lr_scales or {}).get(name, {}))
            self.optimizers[name] = make_optimizer(params, cfg)
            self.schedules[name] = make_schedule(self.optimizers[name], cfg, self.steps_per_epoch)
        self.optimizer = self.optimizers[first]
        # What modes call in the hot loop: the same updates with less Python (fast_step.py).
        self.steps = {name: OptimizerSteps(opt) for name, opt in self.optimizers.items()}
        self.mode: TrainingMode = mode_cls(self, options)
        self.history = History()
        # History goes after the callbacks that add to an epoch row, so readers in other
        # threads only ever see complete rows. NotLearning reads the gradient norms.
        builtin: list[Callback] = [GradientStats(), DeadUnits(), NotLearning(), self.history]
        if self.config.early_stopping_patience:
            builtin.append(
                EarlyStopping(
                    self.config.early_stopping_patience, self.config.early_stopping_min_delta
                )
            )
        self.callbacks: list[Callback] = [*builtin, *callbacks]

    @property
    def score_name(self) -> str:
        return self.mode.score_name

    # -- events -------------------------------------------------------------------------
    def _emit(self, event: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)

    def _set_status(self, status: str, message: str = "") -> None:
        self.state.status = status
        self.state.message = message
        self._emit("on_status", status)

    def _on_pause(self) -> None:
        self._set_status("paused")

    def _on_resume(self) -> None:
        self._set_status("running")

    @property
    def lr(self) -> float:
        return self.mode.lr()

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> TrainState:
        cfg, state, mode = self.config, self.state, self.mode
        state.started_at = time.time()
        n = mode.train_size
        shuffle = torch.Generator().manual_seed(cfg.seed)
        checkpoint = self.control.checkpoint
        on_pause, on_resume = self._on_pause, self._on_resume
        # Only callbacks that listen to every step are called every step.
        batch_listeners = [
            c for c in self.callbacks if type(c).on_batch_end is not Callback.on_batch_end
        ]
        try:
            self._set_status("running")
            self._emit("on_train_start")
            for epoch in range(cfg.epochs):
                epoch_start = time.perf_counter()
                self.model.train()
                order = mode.epoch_order(torch.randperm(n, generator=shuffle).to(self.device))
                rows = len(order)  # a sampler's epoch may repeat or skip rows
                mode.begin_epoch(order)
                for start in range(0, rows, cfg.batch_size):
                    checkpoint(on_pause, on_resume)
                    idx = order[start : start + cfg.batch_size]
                    loss = mode.step(idx, start)
                    state.step += 1
                    state.samples_seen += len(idx)
                    for callback in batch_listeners:
                        callback.on_batch_end(self, loss)
                    if state.step % cfg.record_every == 0:
                        self._record(epoch, loss)
                row = self._end_epoch(epoch, rows, time.perf_counter() - epoch_start)
                self._emit("on_epoch_end", row)
                if state.stop_training:
                    break
            self._finish(state.end_status, state.message or f"Finished {state.epoch} epochs.")
        except StopRequested:
            self._finish(
                "stopped", f"Stopped by request after {state.epoch} epochs ({state.step} steps)."
            )
        except Diverged as exc:
            self._finish("diverged", str(exc))
        except PlaygroundError as exc:
            self._finish("failed", str(exc))
        except Exception as exc:
            self._finish("failed", f"{type(exc).__name__}: {exc}")
        return state

    def _record(self, epoch: int, loss: torch.Tensor) -> None:
        value = float(loss)  # reporting point: one sync
        self._check_finite(value, epoch)
        record = {"step": self.state.step, "epoch": epoch + 1, "loss": value, "lr": self.lr}
        self._emit("on_record", record)

    def _end_epoch(self, epoch: int, n: int, seconds: float) -> dict[str, Any]:
        state = self.state
        train = self.mode.end_epoch()
        self._check_finite(train["loss"], epoch)
        self._emit("on_validation_start")
        try:
            val = self.mode.evaluate(self.dataset.val)
        finally:
            self._emit("on_validation_end")
        self._check_finite(val["loss"], epoch)
        lr = self.lr
        for schedule in self.schedules.values():
            schedule.step_epoch(val["loss"])
        state.epoch = epoch + 1
        state.elapsed = time.time() - state.started_at
        row: dict[str, Any] = {
            "epoch": state.epoch,
            "step": state.step,
            "train_loss": train.pop("loss"),
            "val_loss": val.pop("loss"),
        }
        row.update({f"train_{k}": v for k, v in train.items()})
        row.update({f"val_{k}": v for k, v in val.items()})
        row.update(
            {"lr": lr, "seconds": seconds, "samples_per_sec": n / seconds if seconds > 0 else 0.0}
        )
        return row

    def _check_finite(self, value: float, epoch: int) -> None:
        if not math.isfinite(value):
            raise Diverged(
                f"The loss became {value} at epoch {epoch + 1}, step {self.state.step}: "
                f"training diverged. {advice(self.config)} Normalisation layers can help too."
            )

    def _finish(self, status: str, message: str) -> None:
        state = self.state
        state.elapsed = time.time() - state.started_at
        if status in ("completed", "stopped"):
            try:
                state.final_metrics = self.final_metrics()
            except Exception as exc:
                status, message = "failed", f"Evaluation failed: {exc}"
        self._set_status(status, message)
        self._emit("on_train_end")

    # -- evaluation ---------------------------------------------------------------------
    def evaluate(self, split: Split) -> tuple[float, float]:
        """Mean loss and the mode's score (accuracy or R2) on a split, in eval mode."""
        metrics = self.mode.evaluate(split)
        return metrics["loss"], metrics[self.mode.score_name]

    def final_metrics(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for split_name in ("train", "val", "test"):
            for key, value in self.mode.evaluate(self.dataset.split(split_name)).items():
                metrics[f"{split_name}_{key}"] = value
        return metrics
