"""A real browser on the Sweep page: start a 3-trial sweep of the session's model and watch
the table of trials fill while the worker processes train them (Chromium, as in
tests/test_browser.py, whose server and page fixtures this uses)."""

from __future__ import annotations

import re

from tests.test_browser import page, server  # noqa: F401 (fixtures)


def test_the_sweep_page_fills_its_table_of_trials(server: str, page) -> None:  # noqa: F811
    pg = page
    pg.goto(f"{server}/sweep")
    pg.get_by_role("heading", name="Sweep").wait_for()
    pg.get_by_text("Training options to vary").wait_for()
    field = pg.get_by_label("Trials", exact=True)
    field.fill("3")
    field.press("Enter")
    pg.wait_for_timeout(500)
    pg.get_by_role("button", name="Start the sweep").click()
    # The live table: its caption counts the trials as they appear and finish.
    pg.get_by_text(re.compile(r"^Trials: [1-3] \(")).first.wait_for(timeout=120_000)
    pg.get_by_text(re.compile(r"^Trials: 3 \(3 finished, 0 running\)")).first.wait_for(
        timeout=180_000
    )
    progress = pg.get_by_text(re.compile(r"^Sweep sweep-\S+ · completed · 3 of 3 trials"))
    progress.first.wait_for(timeout=30_000)
    assert "sweep=sweep-" in pg.url  # a reload finds the sweep again
    pg.locator('[data-testid="stDataFrame"]').first.wait_for()
    pg.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
