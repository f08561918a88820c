"""A real browser on the Learn page: the landing page lists the lessons; one quick lesson
(the rare class: three runs of 3 epochs) runs from its page to its verdict and charts, and
its shareable link opens it again. Screenshots land in test-artifacts/ (always for the
verdict, to look at; on failure for the rest)."""

from __future__ import annotations

from pathlib import Path

from tests.test_browser import ARTIFACTS, page, server, streamlit_server  # noqa: F401


def test_a_lesson_runs_from_the_learn_page_to_its_verdict(server: str, page) -> None:  # noqa: F811
    pg = page
    pg.goto(server)
    pg.get_by_role("heading", name="Learn", exact=True).wait_for(timeout=60_000)
    pg.get_by_text("Class weights or resampling lift a rare class").wait_for()
    pg.get_by_text("XOR needs a hidden layer").wait_for()
    # Open the lesson by its shareable link, as a teacher's would.
    pg.goto(f"{server}/?lesson=rare_class")
    pg.get_by_role("heading", name="Class weights or resampling lift a rare class").wait_for(
        timeout=60_000
    )
    pg.get_by_role("button", name="Run this lesson").click()
    verdict = pg.get_by_text("plain training finds")
    verdict.wait_for(timeout=120_000)
    text = verdict.inner_text()
    assert "oversampling finds" in text and "class weights" in text
    pg.locator('[data-testid="stPlotlyChart"]').first.wait_for()
    assert pg.locator('[data-testid="stPlotlyChart"]').count() == 2
    assert pg.locator('[data-testid="stException"]').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "learn_lesson_verdict.png"), full_page=True)
    # What to try next opens the setup on the Train page.
    pg.get_by_role("button", name="Open in Train").click()
    pg.get_by_role("heading", name="Train", exact=True).wait_for(timeout=60_000)
    assert pg.locator('[data-testid="stException"]').count() == 0


def test_a_shared_lesson_link_is_a_fresh_servers_first_request(tmp_path: Path, page) -> None:  # noqa: F811
    with streamlit_server(tmp_path) as (_, url):
        page.goto(f"{url}/?lesson=xor")
        page.get_by_role("heading", name="XOR needs a hidden layer").wait_for(timeout=60_000)
        page.get_by_text("Press Run this lesson").wait_for()
        assert page.locator('[data-testid="stException"]').count() == 0
