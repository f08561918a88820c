"""Background tasks: progress, cancel, the keyed cache of results, captured errors."""

from __future__ import annotations

import threading
import time

import pytest

from playground.errors import PlaygroundError
from playground.explain.base import Cancelled
from playground.tasks import WAITING, Task, TaskRunner, default_tasks


@pytest.fixture
def runner() -> TaskRunner:
    return TaskRunner(workers=1, keep=3)


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_task_reports_progress_and_its_result(runner: TaskRunner) -> None:
    gate = threading.Event()

    def work(progress):
        progress(0.5, "half way")
        gate.wait(5)
        return 42

    task = runner.submit("answer", work)
    wait_for(lambda: task.message == "half way")
    assert task.status == "running" and task.fraction == 0.5 and not task.done
    gate.set()
    assert task.wait(5)
    assert (task.status, task.result, task.fraction, task.error) == ("done", 42, 1.0, None)
    assert task.seconds > 0


def test_the_same_key_returns_the_finished_task_instantly(runner: TaskRunner) -> None:
    calls: list[int] = []
    first = runner.submit("k", lambda progress: calls.append(1) or "value")
    first.wait(5)
    start = time.perf_counter()
    again = runner.submit("k", lambda progress: calls.append(2) or "other")
    assert again is first and again.result == "value" and calls == [1]
    assert time.perf_counter() - start < 0.05
    assert runner.get("k") is first and runner.get("missing") is None


def test_a_running_key_is_not_started_twice(runner: TaskRunner) -> None:
    gate = threading.Event()
    first = runner.submit("slow", lambda progress: gate.wait(5))
    assert runner.submit("slow", lambda progress: None) is first
    gate.set()
    first.wait(5)


def test_cancel_stops_a_task_midway_and_nothing_is_cached(runner: TaskRunner) -> None:
    started = threading.Event()
    steps: list[int] = []

    def work(progress):
        for i in range(1000):
            progress(i / 1000, f"step {i}")
            steps.append(i)
            started.set()
            time.sleep(0.002)
        return "finished"

    task = runner.submit("long", work)
    started.wait(5)
    assert runner.cancel("long")
    assert task.wait(5)
    assert task.status == "cancelled" and task.result is None
    assert 0 < len(steps) < 1000
    assert runner.get("long") is None  # forgotten: the key can run again
    again = runner.submit("long", lambda progress: "second time")
    assert again is not task and again.wait(5) and again.result == "second time"


def test_a_task_cancelled_while_waiting_never_runs(runner: TaskRunner) -> None:
    gate = threading.Event()
    runner.submit("busy", lambda progress: gate.wait(5))  # the only worker is taken
    ran: list[bool] = []
    waiting = runner.submit("queued", lambda progress: ran.append(True))
    assert waiting.status == "running" and waiting.message == WAITING
    waiting.cancel()
    assert waiting.status == "cancelled" and waiting.done
    gate.set()
    runner.submit("after", lambda progress: None).wait(5)
    assert ran == []


def test_errors_are_captured_with_their_hint(runner: TaskRunner) -> None:
    def user_error(progress):
        raise PlaygroundError("Layer 9 does not exist.", "Choose one of: 0, 1.")

    def bug(progress):
        raise ValueError("boom")

    failed = runner.submit("user", user_error)
    crashed = runner.submit("bug", bug)
    assert failed.wait(5) and crashed.wait(5)
    assert (failed.status, failed.error, failed.hint) == (
        "failed",
        "Layer 9 does not exist.",
        "Choose one of: 0, 1.",
    )
    assert crashed.status == "failed" and crashed.error == "ValueError: boom"
    assert crashed.hint is None
    # A failed key can be submitted again, and the worker survived both failures.
    retry = runner.submit("bug", lambda progress: "fixed")
    assert retry is not crashed and retry.wait(5) and retry.result == "fixed"


def test_cancelled_raised_by_the_computation_counts_as_cancelled(runner: TaskRunner) -> None:
    def gives_up(progress):
        raise Cancelled()

    task = runner.submit("gives-up", gives_up)
    assert task.wait(5) and task.status == "cancelled"


def test_only_the_most_recent_finished_tasks_are_kept(runner: TaskRunner) -> None:
    tasks = [runner.submit(f"t{i}", lambda progress, i=i: i) for i in range(5)]
    for task in tasks:
        task.wait(5)
    wait_for(lambda: len(runner.tasks()) == 3)
    assert [t.key for t in runner.tasks()] == ["t2", "t3", "t4"]
    assert runner.submit("t0", lambda progress: "again").wait(5)
    assert runner.get("t0").result == "again"  # evicted, so it ran again


def test_the_default_runner_is_shared() -> None:
    assert default_tasks() is default_tasks()
    task = default_tasks().submit(f"shared-{time.time_ns()}", lambda progress: "ok")
    assert isinstance(task, Task) and task.wait(5) and task.result == "ok"
