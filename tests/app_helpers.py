"""AppTest helpers shared by the page tests: open a page, wait for a job."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

import playground.jobs as jobs

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str | None = None, **state: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def wait_for(job: jobs.Job, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while job.snapshot().active and time.time() < deadline:
        time.sleep(0.05)
    assert not job.snapshot().active
