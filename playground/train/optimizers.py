"""Optimizer registry: name -> builder(parameters, config)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from playground.errors import TrainingError
from playground.train.config import TrainConfig

OptimizerBuilder = Callable[[list[nn.Parameter], TrainConfig], torch.optim.Optimizer]


def _sgd(params: list[nn.Parameter], c: TrainConfig) -> torch.optim.Optimizer:
    if c.nesterov and c.momentum <= 0:
        raise TrainingError(
            "Nesterov momentum needs momentum > 0.", "Set momentum (e.g. 0.9) or turn Nesterov off."
        )
    return torch.optim.SGD(
        params, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov, weight_decay=c.l2, fused=True
    )


# Fused kernels update every parameter in one call: a small MLP trains 35-50% faster per
# epoch on the CPU than with the default per-tensor loop (see bench/bench_trainer.py).
OPTIMIZERS: dict[str, OptimizerBuilder] = {
    "sgd": _sgd,
    "adam": lambda p, c: torch.optim.Adam(p, lr=c.lr, weight_decay=c.l2, fused=True),
    "adamw": lambda p, c: torch.optim.AdamW(p, lr=c.lr, weight_decay=c.l2, fused=True),
    "rmsprop": lambda p, c: torch.optim.RMSprop(
        p, lr=c.lr, momentum=c.momentum, weight_decay=c.l2, foreach=True
    ),
    "adagrad": lambda p, c: torch.optim.Adagrad(p, lr=c.lr, weight_decay=c.l2, fused=True),
}


def make_optimizer(params: list[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    return OPTIMIZERS[config.optimizer](list(params), config)
