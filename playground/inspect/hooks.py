"""Capture what layers output (or receive) in one forward pass, with forward hooks.

Every inspection runs the model once in eval mode (dropout off, BatchNorm on its running
statistics) with hooks on the rows it needs, then restores each submodule's mode. Captured
tensors are copied to the CPU once, at the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.model.build import BuiltModel
from playground.model.lookup import module_for_row

FORWARD_BATCH = 4096  # rows per forward pass; the captures of all batches are concatenated


def model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode and no autograd inside; each submodule's own mode restored after."""
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, training in modes.items():
            module.training = training


def _first_tensor(value: object) -> torch.Tensor:
    """A layer's output, or the first tensor of a tuple (RNN modules return (out, state))."""
    while isinstance(value, tuple | list):
        value = value[0]
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(value).__name__}")
    return value


def capture(
    built: BuiltModel,
    x: torch.Tensor,
    rows: Sequence[str],
    *,
    inputs: bool = False,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Run `x` (N, *input_shape) through the model once, in batches of FORWARD_BATCH.

    Returns ({row index: that row's output (N, *row.output_shape)}, model output (N, ...)), all
    on the CPU as float32 (token ids stay integer). With `inputs=True` the tensors captured are
    what each row receives instead of what it outputs.
    """
    model = built.module
    device = model_device(model)
    parts: dict[str, list[torch.Tensor]] = {r: [] for r in rows}
    handles = []
    for index in rows:
        module = module_for_row(built, index)
        if inputs:
            hook = module.register_forward_pre_hook(
                lambda _m, args, index=index: parts[index].append(_first_tensor(args).detach())
            )
        else:
            hook = module.register_forward_hook(
                lambda _m, _args, out, index=index: parts[index].append(_first_tensor(out).detach())
            )
        handles.append(hook)
    outputs = []
    try:
        with eval_mode(model):
            for start in range(0, len(x), FORWARD_BATCH):
                outputs.append(model(x[start : start + FORWARD_BATCH].to(device)))
    finally:
        for hook in handles:
            hook.remove()
    captured = {index: _to_host(torch.cat(chunks)) for index, chunks in parts.items()}
    return captured, _to_host(torch.cat(outputs))


def _to_host(t: torch.Tensor) -> torch.Tensor:
    t = t.cpu()  # reporting point: the one copy per captured tensor
    return t if not t.is_floating_point() else t.float()


def select_rows(
    dataset: Dataset, split: str, indices: Sequence[int] | None, limit: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(row positions, x, y) of `indices` in a split, or its first `limit` rows if None.
    An index outside the split raises a PlaygroundError naming the valid range."""
    part = dataset.split(split)
    n = len(part)
    if n == 0:
        raise PlaygroundError(
            f"The {split} split of {dataset.name!r} is empty.", "Choose another split."
        )
    if indices is None:
        idx = torch.arange(min(limit, n))
    else:
        idx = torch.as_tensor(list(indices), dtype=torch.long).reshape(-1)
        if len(idx) == 0:
            raise PlaygroundError("No rows chosen.", "Pick at least one row.")
        bad = [int(i) for i in idx if not 0 <= int(i) < n]
        if bad:
            raise PlaygroundError(
                f"Rows {bad[:5]} do not exist; the {split} split has {n} rows.",
                f"Choose rows between 0 and {n - 1}.",
            )
    return idx, part.x[idx], part.y[idx]
