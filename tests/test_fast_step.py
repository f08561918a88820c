"""The hot loop's optimiser calls give exactly torch's updates, and fall back to torch's own
step wherever the fast path would not be exactly the same."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from playground.train.fast_step import OptimizerSteps


def _pair(cls, **options):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
    twin = copy.deepcopy(model)
    return (model, cls(model.parameters(), lr=0.01, **options)), (
        twin,
        cls(twin.parameters(), lr=0.01, **options),
    )


@pytest.mark.parametrize(
    ("cls", "options"),
    [
        (torch.optim.Adam, {"fused": True}),
        (torch.optim.Adam, {"fused": True, "weight_decay": 0.01}),
        (torch.optim.AdamW, {"fused": True}),
        (torch.optim.Adam, {"fused": True, "amsgrad": True}),  # falls back
        (torch.optim.SGD, {"momentum": 0.9}),  # falls back
    ],
)
def test_fast_steps_match_torch_bit_for_bit(cls, options) -> None:
    (plain, plain_opt), (fast, fast_opt) = _pair(cls, **options)
    schedules = [torch.optim.lr_scheduler.StepLR(o, 3, 0.5) for o in (plain_opt, fast_opt)]
    steps = OptimizerSteps(fast_opt)
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(1))
    y = (x[:, 0] > 0).long()
    for _ in range(12):
        loss = nn.functional.cross_entropy(plain(x), y)
        plain_opt.zero_grad(set_to_none=True)
        loss.backward()
        plain_opt.step()
        loss = nn.functional.cross_entropy(fast(x), y)
        steps.zero_grad()
        loss.backward()
        steps.step()
        for schedule in schedules:
            schedule.step()
    for a, b in zip(plain.parameters(), fast.parameters(), strict=True):
        assert torch.equal(a, b)
    fused_plain_adam = cls in (torch.optim.Adam, torch.optim.AdamW) and not options.get("amsgrad")
    assert (steps._state is not None) == fused_plain_adam


def test_a_parameter_without_a_gradient_takes_torchs_step() -> None:
    (plain, plain_opt), (fast, fast_opt) = _pair(torch.optim.Adam, fused=True)
    steps = OptimizerSteps(fast_opt)
    x = torch.randn(8, 3)
    for model, opt, step in ((plain, plain_opt, None), (fast, fast_opt, steps)):
        for i in range(4):
            # The first layer only takes part on even steps: torch skips it on the others.
            out = model[2](model[1](model[0](x))) if i % 2 == 0 else model[2](torch.ones(8, 16))
            loss = out.pow(2).mean()
            if step:
                step.zero_grad()
                loss.backward()
                step.step()
            else:
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    for a, b in zip(plain.parameters(), fast.parameters(), strict=True):
        assert torch.equal(a, b)
