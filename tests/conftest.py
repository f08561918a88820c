"""Shared fixtures: small seeded datasets and an isolated run store per test."""

from __future__ import annotations

import pytest
import torch

import playground.jobs as jobs
from playground.data.dataset import Dataset, Split
from playground.jobs import JobRegistry
from playground.store import RunStore


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "data")


@pytest.fixture
def registry(tmp_path, monkeypatch: pytest.MonkeyPatch) -> JobRegistry:
    """The app's process-wide job registry, swapped for one over a store in tmp_path."""
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "data"))
    reg = JobRegistry(store=RunStore(tmp_path / "data"))
    monkeypatch.setattr(jobs, "_default", reg)
    yield reg
    reg.shutdown()


def make_xor(n: int = 400, seed: int = 0) -> Dataset:
    """A tiny hand-made binary dataset, independent of the dataset registry."""
    g = torch.Generator().manual_seed(seed)

    def split(m: int) -> Split:
        x = torch.rand(m, 2, generator=g) * 2 - 1
        return Split(x, ((x[:, 0] * x[:, 1]) > 0).long())

    return Dataset(
        name="xor_handmade",
        params={},
        task="binary",
        kind="toy2d",
        input_shape=(2,),
        feature_names=["x1", "x2"],
        train=split(n),
        val=split(n // 4),
        test=split(n // 4),
        class_names=["different sign", "same sign"],
    )


@pytest.fixture
def xor() -> Dataset:
    return make_xor()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the test item (the browser test screenshots failures)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
