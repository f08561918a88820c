"""A short plain training loop for after pruning: the run's data, loss and optimiser settings.

Not the Trainer: that builds its modules from specs, while here the model is a pruned copy
whose masks (prune's forward pre-hooks) must stay in place, so pruned weights stay zero.
Learning-rate schedules, early stopping and reweighing are left out: a few epochs of
recovery at the run's learning rate is what fine-tuning after pruning needs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from playground.data.dataset import Dataset
from playground.train.config import TrainConfig
from playground.train.objectives import Objective, class_weights_for
from playground.train.optimizers import make_optimizer


def fine_tune(
    model: nn.Module,
    dataset: Dataset,
    config: TrainConfig,
    epochs: int,
    seed: int = 0,
    on_epoch: Callable[[int], None] | None = None,
) -> None:
    """Train `model` in place for `epochs` on the training split, seeded: the same pruned
    model and seed give the same weights. `on_epoch(k)` is called after each epoch (progress
    and cancellation)."""
    if epochs <= 0:
        return
    x, y = dataset.train.x, dataset.train.y
    width = model(x[:1]).reshape(1, -1).shape[1]
    weights = None
    if config.class_weighting and dataset.is_classification:
        weights = class_weights_for(y, len(dataset.class_names or []))
    objective = Objective(dataset.task, config.loss, width, weights)
    optimizer = make_optimizer(list(model.parameters()), config)
    weighted = [p for p in model.parameters() if p.dim() >= 2] if config.l1 else []
    order_gen = torch.Generator().manual_seed(seed)
    # Dropout draws from the global generator: fork it so this loop neither depends on nor
    # disturbs anyone else's random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.train()
        for epoch in range(epochs):
            order = torch.randperm(len(y), generator=order_gen)
            for start in range(0, len(y), config.batch_size):
                idx = order[start : start + config.batch_size]
                loss = objective.loss(model(x[idx]), y[idx])
                if weighted:
                    loss = loss + config.l1 * sum(p.abs().sum() for p in weighted)
                optimizer.zero_grad()
                loss.backward()
                if config.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
            if on_epoch is not None:
                on_epoch(epoch + 1)
    model.eval()
