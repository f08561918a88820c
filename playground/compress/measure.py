"""What a compressed model costs and how well it does, every figure measured on this machine:
file sizes are the lengths of real files, latency is wall-clock time of real forward passes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from playground.compress.serialize import quantized_weights
from playground.data.dataset import Dataset
from playground.train.objectives import Objective


@contextmanager
def cpu_threads(threads: int) -> Iterator[None]:
    """Fix the intra-op thread count while measuring, then put it back: latency depends on
    it more than on anything else, so every level is timed with the same number."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def batch_of(x: torch.Tensor, rows: int) -> torch.Tensor:
    """`rows` inputs from `x`, repeating it when it has fewer (a latency batch of 256 from a
    test split of 100)."""
    repeats = -(-rows // max(len(x), 1))
    return x.repeat(repeats, *([1] * (x.dim() - 1)))[:rows].contiguous()


@torch.inference_mode()
def latency_ms(model: nn.Module, x: torch.Tensor, repeats: int = 20, warmup: int = 3) -> float:
    """Median wall-clock milliseconds of one forward pass of `x` (time.perf_counter); the
    median, not the mean, so a pause of the shared machine does not count."""
    model.eval()
    for _ in range(warmup):  # first calls allocate and pick kernels
        model(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def weight_values(model: nn.Module) -> list[torch.Tensor]:
    """Every weight and bias, as float tensors (quantised layers dequantised)."""
    return quantized_weights(model)


def count_params(model: nn.Module) -> tuple[int, int]:
    """(all, non-zero) weights and biases. A pruned weight is stored as 0 and counts as zero;
    so does an int8 weight rounded to 0."""
    values = weight_values(model)
    total = sum(v.numel() for v in values)
    nonzero = sum(int(torch.count_nonzero(v)) for v in values)
    return total, nonzero


@torch.inference_mode()
def test_score(
    model: nn.Module, dataset: Dataset, loss: str = "auto", split: str = "test"
) -> float:
    """Accuracy (classification) or R2 (regression) on a split, scored as the trainer does."""
    model.eval()
    data = dataset.split(split)
    out = model(data.x)
    out = out.reshape(len(out), -1)
    objective = Objective(dataset.task, loss, out.shape[1], None)
    sums = objective.score_sums(objective.predict(out), data.y)
    return objective.finish_score(sums, len(data.y))
