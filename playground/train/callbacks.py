"""Built-in training callbacks: metric history, gradient/weight norms, dead ReLU units,
early stopping. Each syncs with the host only inside reporting-point events."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from playground.train.events import Callback

if TYPE_CHECKING:
    from playground.train.trainer import Trainer

MAX_RECORDS = 2000  # step records kept in memory; older ones are thinned, not dropped wholesale


def layer_key(module_name: str) -> str:
    """Spec index of the layer that owns a module or parameter name.

    "2.weight" -> "2"; "3.body.0.weight" -> "3.0" (inside a residual block); "5.rnn.weight_ih_l0" -> "5";
    in a run of several named modules, "encoder.2.weight" -> "encoder.2".
    """
    first, _, rest = module_name.partition(".")
    if not first.isdigit() and rest:
        return f"{first}.{layer_key(rest)}"
    parts = module_name.split(".")
    key = [parts[0]]
    i = 1
    while i + 1 < len(parts) and parts[i] == "body" and parts[i + 1].isdigit():
        key.append(parts[i + 1])
        i += 2
    return ".".join(key)


class History(Callback):
    """Keeps the epoch rows and step records in the trainer state (bounded memory)."""

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        records = trainer.state.records
        records.append(record)
        if len(records) > MAX_RECORDS:
            # Keep every other old record: the curve keeps its shape at half the resolution.
            del records[: MAX_RECORDS // 2 : 2]

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        trainer.state.history.append(row)


class GradientStats(Callback):
    """Per-layer gradient and weight L2 norms at each reporting point (one sync each)."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, float]] = {}
        self._group_of: torch.Tensor | None = None
        self._params: list[nn.Parameter] = []
        self._weights: list[torch.Tensor] = []
        self._keys: list[str] = []

    def on_record(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if self._group_of is None:
            self._setup(trainer)
        params = self._params
        grads = [p.grad if p.grad is not None else self._zeros(p) for p in params]
        # One fused call for every tensor's norm (gradients, then weights), then per-layer
        # sqrt(sum of squares) and one host sync.
        per_tensor = torch.stack(torch._foreach_norm([*grads, *self._weights]))
        squares = torch.zeros(2, len(self._keys), device=per_tensor.device)
        squares.index_add_(1, self._group_of, per_tensor.view(2, -1).float() ** 2)
        grad_norms, weight_norms = squares.sqrt().tolist()  # the one host sync
        record["grad_norms"] = dict(zip(self._keys, grad_norms, strict=True))
        record["weight_norms"] = dict(zip(self._keys, weight_norms, strict=True))
        self.latest = {"grad_norms": record["grad_norms"], "weight_norms": record["weight_norms"]}

    def _zeros(self, param: nn.Parameter) -> torch.Tensor:
        """A frozen parameter (or one not yet reached) has no gradient: its norm is 0."""
        return torch.zeros((), device=param.device)

    def _setup(self, trainer: Trainer) -> None:
        named = list(trainer.model.named_parameters())
        self._params = [p for _, p in named]
        self._weights = [p.detach() for p in self._params]  # views: they follow the updates
        keys = [layer_key(name) for name, _ in named]
        self._keys = list(dict.fromkeys(keys))
        index = {k: i for i, k in enumerate(self._keys)}
        self._group_of = torch.tensor([index[k] for k in keys], device=trainer.device)

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        row.update(self.latest)


class DeadUnits(Callback):
    """Fraction of ReLU units that output zero for every example of the validation split, per
    ReLU layer, at each epoch end. Measured on the epoch's validation pass itself (hooks
    only while it runs), so it costs no forward pass of its own."""

    def __init__(self) -> None:
        self._relus: list[tuple[str, nn.Module]] | None = None
        self._alive: dict[str, torch.Tensor] = {}
        self._hooks: list[Any] = []

    def on_validation_start(self, trainer: Trainer) -> None:
        if self._relus is None:
            self._relus = [
                (name, m) for name, m in trainer.model.named_modules() if isinstance(m, nn.ReLU)
            ]
        self._alive = {}
        self._hooks = [
            module.register_forward_hook(lambda _m, _i, out, name=name: self._seen(name, out))
            for name, module in self._relus
        ]

    def _seen(self, name: str, out: torch.Tensor) -> None:
        alive = (out > 0).any(dim=0)  # validation runs in chunks: a unit alive in any counts
        self._alive[name] = alive if name not in self._alive else self._alive[name] | alive

    def on_validation_end(self, trainer: Trainer) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        names = list(self._alive)
        if not names:
            return
        fractions = torch.stack([1 - self._alive[n].float().mean() for n in names]).tolist()
        row["dead_relu"] = {layer_key(n): f for n, f in zip(names, fractions, strict=True)}


class EarlyStopping(Callback):
    """Stops when validation loss has not improved by `min_delta` for `patience` epochs,
    and restores the weights of the best epoch."""

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        if row["val_loss"] < self.best - self.min_delta:
            self.best, self.best_epoch = row["val_loss"], row["epoch"]
            self.best_state = copy.deepcopy(trainer.model.state_dict())
        # A run already stopped this epoch (as not learning) keeps its message and status.
        elif row["epoch"] - self.best_epoch >= self.patience and not trainer.state.stop_training:
            trainer.state.stop_training = True
            trainer.state.message = (
                f"Early stopping at epoch {row['epoch']}: validation loss has not improved for "
                f"{self.patience} epochs; restored the best weights (epoch {self.best_epoch})."
            )
            if self.best_state is not None:
                trainer.model.load_state_dict(self.best_state)
