"""The training loop.

Data lives on the device and batches are taken by indexing with a shuffled permutation (no
per-sample Python). The only host syncs are at reporting points: every `record_every` steps
and at epoch ends. Everything else hangs on events (see events.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from playground.data.dataset import Dataset, Split
from playground.errors import PlaygroundError
from playground.model.build import BuiltModel, build_model
from playground.model.spec import ModelSpec
from playground.train.callbacks import DeadUnits, EarlyStopping, GradientStats, History
from playground.train.config import TrainConfig
from playground.train.control import RunControl, StopRequested
from playground.train.device import resolve_device
from playground.train.events import Callback, TrainState
from playground.train.objectives import Objective, class_weights_for
from playground.train.optimizers import make_optimizer
from playground.train.schedules import make_schedule

EVAL_BATCH = 4096


class Diverged(Exception):
    pass


class Trainer:
    """Trains one model on one dataset. Build errors (SpecError, TrainingError) raise here,
    before anything runs; errors during `run()` end the run with a status instead."""

    def __init__(
        self,
        dataset: Dataset,
        spec: ModelSpec | dict[str, Any] | list[Any],
        config: TrainConfig | None = None,
        callbacks: Sequence[Callback] = (),
        control: RunControl | None = None,
    ) -> None:
        self.dataset = dataset
        self.spec = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
        self.config = config or TrainConfig()
        self.control = control or RunControl()
        self.state = TrainState()
        self.device = resolve_device(self.config.device)
        if self.device.type == "cpu":
            torch.set_num_threads(self.config.cpu_threads)
        torch.manual_seed(self.config.seed)  # same seed, same initial weights and dropout masks
        self.built: BuiltModel = build_model(self.spec, dataset, device=self.device)
        self.model: nn.Module = self.built.module
        num_classes = len(dataset.class_names or [])
        weights = (
            class_weights_for(dataset.train.y, num_classes).to(self.device)
            if self.config.class_weighting and dataset.is_classification
            else None
        )
        self.objective = Objective(
            dataset.task, self.config.loss, self.built.output_shape[0], weights
        )
        # Per-sample loss weights (N_train,) on the device, or None for a plain mean loss.
        self.sample_weights: torch.Tensor | None = None
        if self.config.reweigh:
            # Imported here: only reweighing runs need the fairness package.
            from playground.fairness.reweighing import training_weights

            self.sample_weights = torch.as_tensor(
                training_weights(dataset, self.config.reweigh), dtype=torch.float32
            ).to(self.device)
        self.optimizer = make_optimizer(self.model.parameters(), self.config)
        self.steps_per_epoch = math.ceil(len(dataset.train) / self.config.batch_size)
        self.schedule = make_schedule(self.optimizer, self.config, self.steps_per_epoch)
        self.history = History()
        # History goes after the callbacks that add to an epoch row, so readers in other
        # threads (the app) only ever see complete rows.
        builtin: list[Callback] = [GradientStats(), DeadUnits(), self.history]
        if self.config.early_stopping_patience:
            builtin.append(
                EarlyStopping(
                    self.config.early_stopping_patience, self.config.early_stopping_min_delta
                )
            )
        self.callbacks: list[Callback] = [*builtin, *callbacks]

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
        return float(self.optimizer.param_groups[0]["lr"])

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> TrainState:
        cfg, state = self.config, self.state
        state.started_at = time.time()
        x, y = self.dataset.train.x.to(self.device), self.dataset.train.y.to(self.device)
        n = len(y)
        shuffle = torch.Generator().manual_seed(cfg.seed)
        l1_params = [p for p in self.model.parameters() if p.dim() >= 2] if cfg.l1 else []
        pred_dtype = torch.float32 if self.objective.task == "regression" else torch.long
        weights = self.sample_weights
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
                order = torch.randperm(n, generator=shuffle).to(self.device)
                loss_sum = torch.zeros((), device=self.device)
                # Predictions are kept per epoch and scored once at its end: one copy per step
                # instead of several small reductions.
                preds = torch.empty(n, dtype=pred_dtype, device=self.device)
                for start in range(0, n, cfg.batch_size):
                    self.control.checkpoint(self._on_pause, self._on_resume)
                    idx = order[start : start + cfg.batch_size]
                    xb, yb = x[idx], y[idx]
                    out = self.model(xb)
                    if weights is None:
                        loss = self.objective.loss(out, yb)
                    else:
                        loss = self.objective.weighted_loss(out, yb, weights[idx])
                    if l1_params:
                        loss = loss + cfg.l1 * sum(p.abs().sum() for p in l1_params)
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if cfg.grad_clip:
                        nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                    self.optimizer.step()
                    self.schedule.step_batch()
                    loss = loss.detach()
                    loss_sum.add_(loss, alpha=len(idx))
                    preds[start : start + len(idx)] = self.objective.predict(out.detach())
                    state.step += 1
                    state.samples_seen += len(idx)
                    for callback in batch_listeners:
                        callback.on_batch_end(self, loss)
                    if state.step % cfg.record_every == 0:
                        self._record(epoch, loss)
                row = self._end_epoch(
                    epoch,
                    loss_sum,
                    self.objective.score_sums(preds, y[order]),
                    n,
                    time.perf_counter() - epoch_start,
                )
                self._emit("on_epoch_end", row)
                if state.stop_training:
                    break
            self._finish("completed", self.state.message or f"Finished {state.epoch} epochs.")
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

    def _end_epoch(
        self,
        epoch: int,
        loss_sum: torch.Tensor,
        score_sum: torch.Tensor,
        n: int,
        seconds: float,
    ) -> dict[str, Any]:
        state = self.state
        train_loss = float(loss_sum) / n
        self._check_finite(train_loss, epoch)
        val_loss, val_score = self.evaluate(self.dataset.val)
        self._check_finite(val_loss, epoch)
        name = self.objective.score_name
        lr = self.lr
        self.schedule.step_epoch(val_loss)
        state.epoch = epoch + 1
        state.elapsed = time.time() - state.started_at
        return {
            "epoch": state.epoch,
            "step": state.step,
            "train_loss": train_loss,
            "val_loss": val_loss,
            f"train_{name}": self.objective.finish_score(score_sum, n),
            f"val_{name}": val_score,
            "lr": lr,
            "seconds": seconds,
            "samples_per_sec": n / seconds if seconds > 0 else 0.0,
        }

    def _check_finite(self, value: float, epoch: int) -> None:
        if not math.isfinite(value):
            raise Diverged(
                f"The loss became {value} at epoch {epoch + 1}, step {self.state.step}: training diverged. "
                f"Try a lower learning rate (now {self.config.lr:g}; e.g. {self.config.lr / 10:g}), "
                "gradient clipping (grad_clip=1.0), or normalisation layers."
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
    @torch.no_grad()
    def evaluate(self, split: Split) -> tuple[float, float]:
        """Mean loss and accuracy (or R2) on a split, in eval mode, batched."""
        was_training = self.model.training
        self.model.eval()
        x, y = split.x.to(self.device), split.y.to(self.device)
        loss_sum = torch.zeros((), device=self.device)
        preds = []
        for start in range(0, len(y), EVAL_BATCH):
            xb, yb = x[start : start + EVAL_BATCH], y[start : start + EVAL_BATCH]
            out = self.model(xb)
            loss_sum.add_(self.objective.loss(out, yb), alpha=len(yb))
            preds.append(self.objective.predict(out))
        self.model.train(was_training)
        n = max(len(y), 1)
        sums = self.objective.score_sums(torch.cat(preds), y)
        return float(loss_sum) / n, self.objective.finish_score(sums, n)

    def final_metrics(self) -> dict[str, float]:
        name = self.objective.score_name
        metrics: dict[str, float] = {}
        for split_name in ("train", "val", "test"):
            loss, score = self.evaluate(self.dataset.split(split_name))
            metrics[f"{split_name}_loss"] = loss
            metrics[f"{split_name}_{name}"] = score
        return metrics
