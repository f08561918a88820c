"""Optimizer registry: name -> builder(parameters, config)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from playground.errors import TrainingError
from playground.train.config import TrainConfig

OptimizerBuilder = Callable[[Iterable[nn.Parameter], TrainConfig], torch.optim.Optimizer]


def _sgd(params: Iterable[nn.Parameter], c: TrainConfig) -> torch.optim.Optimizer:
    if c.nesterov and c.momentum <= 0:
        raise TrainingError(
            "Nesterov momentum needs momentum > 0.", "Set momentum (e.g. 0.9) or turn Nesterov off."
        )
    return torch.optim.SGD(
        params, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov, weight_decay=c.l2
    )


OPTIMIZERS: dict[str, OptimizerBuilder] = {
    "sgd": _sgd,
    "adam": lambda p, c: torch.optim.Adam(p, lr=c.lr, weight_decay=c.l2),
    "adamw": lambda p, c: torch.optim.AdamW(p, lr=c.lr, weight_decay=c.l2),
    "rmsprop": lambda p, c: torch.optim.RMSprop(p, lr=c.lr, momentum=c.momentum, weight_decay=c.l2),
    "adagrad": lambda p, c: torch.optim.Adagrad(p, lr=c.lr, weight_decay=c.l2),
}


def make_optimizer(params: Iterable[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    return OPTIMIZERS[config.optimizer](params, config)
