"""The Learn page in AppTest: it is the landing page, lists the lessons, runs one to its
verdict through the job registry, and its 'what to try next' loads the setup."""

from __future__ import annotations

import time

from playground.lessons import LESSONS, get_lesson
from tests.app_helpers import open_page


def wait_for_lesson(registry, count: int, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        jobs = registry.jobs()
        if len(jobs) == count and not any(j.snapshot().active for j in jobs):
            return
        time.sleep(0.1)
    raise AssertionError([j.snapshot().status for j in registry.jobs()])


def test_the_learn_page_lands_lists_and_runs_a_lesson_to_its_verdict(registry) -> None:
    at = open_page()
    assert at.title[0].value == "Learn"
    listed = " ".join(m.value for m in at.markdown)
    for lesson in LESSONS.values():
        assert lesson.title in listed
    at.button(key="open_xor").click().run()
    assert at.query_params["lesson"] == "xor"
    assert at.header[0].value == "XOR needs a hidden layer"
    assert "Press **Run this lesson**" in at.info[0].value
    at.button(key="run_xor").click().run()
    assert not at.exception, at.exception
    wait_for_lesson(registry, len(get_lesson("xor").variants))
    at.run()
    assert not at.exception, at.exception
    verdict = at.success[0].value.replace("\\", "")  # shown escaped: as plain text
    assert (
        verdict.startswith("Without a hidden layer: ")
        and "with one hidden layer of 8 units" in verdict
    )
    assert len(at.get("plotly_chart")) == 2  # the two decision boundaries
    runs = registry.store.list_runs()
    assert {r.lineage["variant"] for r in runs} == {"no hidden layer", "one hidden layer"}
    assert all(r.name.startswith("Lesson · XOR needs a hidden layer · ") for r in runs)
    # The verdict quotes the stored runs' own numbers.
    hidden = next(r for r in runs if r.lineage["variant"] == "one hidden layer")
    assert f"{100 * hidden.final_metrics['test_acc']:.0f}%." in verdict
    # What to try next: the setup without a hidden layer, opened on the Build page.
    at.button(key="try_xor_0").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Build"
    assert at.session_state["dataset"] == {"name": "xor", "params": {"n_samples": 400, "seed": 0}}
    assert [layer["kind"] for layer in at.session_state["layers"]] == ["linear"]
    assert at.session_state["config"]["lr"] == 0.03


def test_a_shared_link_opens_the_lesson_with_its_stored_runs(registry) -> None:
    from playground.lessons import run_lesson

    run_lesson(get_lesson("rare_class"), registry.store)
    at = open_page()
    at.query_params["lesson"] = "rare_class"
    at.run()
    assert not at.exception, at.exception
    assert at.header[0].value == get_lesson("rare_class").title
    assert "plain training finds" in at.success[0].value  # no new runs needed
    assert not registry.jobs()
