"""A real browser (Debian's Chromium driven by Playwright) against `streamlit run app.py`.

Builds a model on the spiral, trains it, watches the live view update, pauses, resumes and
stops it (a final state reached from the page), reloads the page and finds the run again.
Screenshots land in test-artifacts/ on failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.proc_helpers import children_of, wait_gone

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
    pytest.skip(
        "Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True
    )

playwright_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    port = _free_port()
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path / "data")}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    log = open(tmp_path / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError(
                "streamlit did not start: " + (tmp_path / "streamlit.log").read_text()[-2000:]
            )
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with streamlit_server(tmp_path) as (_, url):
        yield url


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.set_default_timeout(30_000)
        yield pg
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        browser.close()


def _progress_text(pg) -> str:
    return pg.get_by_text(re.compile(r"^Run \S+ · ")).first.inner_text()


def test_build_train_watch_reload_and_find_the_run(server: str, page) -> None:
    pg = page
    pg.goto(f"{server}/data")
    pg.get_by_role("heading", name="Data").wait_for()
    pg.get_by_text("Spiral").first.wait_for()

    pg.goto(f"{server}/build")
    pg.get_by_role("heading", name="Shapes and parameters").wait_for()
    pg.get_by_text("Total parameters").wait_for()

    # Long enough that it cannot finish before the pause below, however fast the machine.
    # The live view: progress text and charts update on their own while the run goes.
    _start_a_long_run(pg, server)
    # The fragment redraws every second; on a loaded machine a plot may take a while to draw.
    pg.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=90_000)
    pg.get_by_role("button", name="Pause").click()
    paused = pg.get_by_text(re.compile(r"^Run \S+ · paused · epoch \d+"))
    paused.first.wait_for()
    held = _progress_text(pg)
    pg.wait_for_timeout(2500)  # two timer ticks: a paused run stays where it is
    assert _progress_text(pg) == held
    pg.get_by_role("button", name="Resume").click()
    pg.get_by_text(re.compile(r"^Run \S+ · running")).first.wait_for()
    advanced = re.search(r"epoch (\d+)", _progress_text(pg))
    assert advanced and int(advanced.group(1)) >= int(re.search(r"epoch (\d+)", held).group(1))
    # The rest would only take time. A click that lands while the page is still redrawing
    # after Resume can be dropped by Streamlit (seen once in CI): click again if so.
    stopped = pg.get_by_text(re.compile(r"^Run \S+ · stopped")).first
    for _ in range(3):
        pg.get_by_role("button", name="Stop").click()
        try:
            stopped.wait_for(timeout=20_000)
            break
        except playwright_api.TimeoutError:
            continue
    stopped.wait_for(timeout=20_000)
    final = _progress_text(pg)
    assert pg.get_by_text("Stopped by request").first.is_visible()
    run_id = final.split()[1]
    assert f"job={run_id}" in pg.url

    pg.reload()  # the job id in the URL brings the same run back
    pg.get_by_text(re.compile(rf"^Run {run_id} · stopped")).wait_for()
    pg.locator('[data-testid="stPlotlyChart"]').first.wait_for(
        timeout=90_000
    )  # its curves come back too

    pg.goto(f"{server}/runs")
    pg.get_by_role("heading", name="Runs").wait_for()
    # The table is a canvas grid (its cells are hidden text); the run is also in the pickers.
    pg.locator(f"text={run_id} >> visible=true").first.wait_for()


def test_fairness_page_audits_a_run_and_downloads_the_report(
    server: str, page, tmp_path: Path
) -> None:
    from playground.store import RunStore
    from tests.run_helpers import train_stored

    run, _ = train_stored(
        "hiring",
        {"n_samples": 1200},
        {"layers": [{"kind": "linear", "out_features": 16}, {"kind": "relu"}, {"kind": "linear"}]},
        {"epochs": 5, "lr": 0.01},
        RunStore(tmp_path / "data"),  # the server's store
        name="hiring <b>demo</b>",
    )
    pg = page
    pg.goto(f"{server}/fairness?run={run.run_id}")
    pg.get_by_role("heading", name="Fairness").wait_for()
    pg.get_by_role("tab", name="Model").click()
    pg.get_by_text("Demographic parity difference").first.wait_for(timeout=60_000)
    html = _download_the_report_twice(pg, tmp_path)
    assert html.startswith("<!DOCTYPE html>") and run.run_id in html
    assert "hiring &lt;b&gt;demo&lt;/b&gt;" in html and "<b>demo</b>" not in html
    assert "Fairness audit" in html and "Mitigation" in html


def _download_the_report_twice(pg, folder: Path) -> str:
    """Build the report on the Fairness page and download the HTML twice: however often it is
    clicked, the same report downloads (a deferred file once vanished). Returns the HTML."""
    pg.get_by_role("tab", name="Report").click()
    pg.get_by_role("button", name="Build the report").click()
    button = pg.get_by_role("button", name="HTML report")
    button.wait_for(timeout=180_000)
    pages = []
    for attempt in range(2):
        with pg.expect_download(timeout=60_000) as download_info:
            button.click()
        path = folder / f"report-{attempt}.html"
        download_info.value.save_as(path)
        pages.append(path.read_text())
    assert pages[0] == pages[1]
    return pages[0]


def _start_a_long_run(pg, server: str, epochs: int = 100_000) -> str:
    if not pg.url.startswith(server):
        pg.goto(f"{server}/data")
        pg.get_by_role("heading", name="Data").wait_for()
    pg.goto(f"{server}/train")
    field = pg.get_by_label("epochs", exact=True)
    field.fill(str(epochs))
    field.press("Enter")
    pg.wait_for_timeout(500)
    pg.get_by_role("button", name="Start training").click()
    pg.get_by_text(re.compile(r"^Run \S+ · running · epoch [1-9]")).first.wait_for(timeout=90_000)
    return _progress_text(pg).split()[1]


def test_stopping_the_server_stops_its_runs_and_workers(tmp_path: Path, page) -> None:
    from playground.store import RunStore

    with streamlit_server(tmp_path) as (proc, url):
        run_id = _start_a_long_run(page, url)
        workers = children_of(proc.pid)
        assert workers  # the run trains in a worker process, not in the server
        proc.terminate()  # SIGTERM, as a service manager or Ctrl+C would stop it
        proc.wait(30)
    assert wait_gone(workers) == []
    record = RunStore(tmp_path / "data").get_run(run_id)
    assert record.status == "stopped", (record.status, record.message)
    assert record.epochs_done >= 1


def test_a_csv_walk_shows_the_users_own_values_from_upload_to_report(
    server: str, page, tmp_path: Path
) -> None:
    """Upload a CSV with text, missing values and a sensitive column; train, inspect, explain
    and download the report twice: every row reads as in the file, the file keeps its name."""
    from playground.analysis.data_summary import dataset_frame
    from playground.inspect.evaluation import predict_split, worst_misclassified
    from playground.runner import load_run
    from playground.store import RunStore
    from tests.csv_helpers import write_titanic

    csv = write_titanic(tmp_path)
    pg = page
    pg.goto(f"{server}/data")
    pg.get_by_role("heading", name="Data").wait_for()
    pg.get_by_text("Your CSV", exact=True).click()
    pg.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    # Shown at once, as uploaded: the missing values and how they are filled.
    pg.get_by_role("heading", name="Missing values").wait_for(timeout=60_000)
    pg.get_by_text("You are working on titanic.csv").wait_for()
    pg.locator('[data-testid="stMultiSelect"]').first.click()
    pg.keyboard.type("gender")
    pg.keyboard.press("Enter")
    pg.keyboard.press("Escape")
    pg.get_by_text("Sensitive attributes (kept for fairness audits): gender").wait_for()

    pg.get_by_role("link", name="Train").first.click()
    field = pg.get_by_label("epochs", exact=True)
    field.fill("30")
    field.press("Enter")
    pg.wait_for_timeout(500)
    pg.get_by_role("button", name="Start training").click()
    done = pg.get_by_text(re.compile(r"^Run \S+ · completed"))
    done.first.wait_for(timeout=120_000)
    run_id = _progress_text(pg).split()[1]
    run = load_run(run_id, RunStore(tmp_path / "data"))
    assert run.record.name.startswith("titanic.csv · MLP")

    # Inspect: the worst mistakes list passengers as in the file.
    pg.get_by_role("link", name="Inspect").first.click()
    pg.get_by_role("tab", name="Evaluation").click()
    mistakes = worst_misclassified(predict_split(run.built, run.dataset, "test"), run.dataset)
    if len(mistakes.table):
        first = mistakes.table.iloc[0]
        pg.get_by_text(str(first["class"]), exact=True).first.wait_for(timeout=60_000)
        assert pg.get_by_text(str(first["gender"]), exact=True).count() >= 1

    # Explain: the waterfall names the first test row's own age and gender.
    pg.get_by_role("link", name="Explain").first.click()
    pg.get_by_role("button", name="Explain", exact=True).click()
    pg.get_by_role("tab", name="One sample").click(timeout=120_000)
    row = dataset_frame(run.dataset, "test", rows=[0]).iloc[0]
    age = "(missing)" if row.isna()["age"] else f"{row['age']:.4g}"
    pg.get_by_text(f"age = {age}", exact=True).first.wait_for(timeout=60_000)
    pg.get_by_text(f"gender = {row['gender']}", exact=True).first.wait_for()

    # Fairness: the report downloads twice, names the file, and shows the rows as uploaded.
    pg.get_by_role("link", name="Fairness").first.click()
    html = _download_the_report_twice(pg, tmp_path)
    assert "titanic.csv" in html
    assert Path(run.dataset.params["path"]).stem not in html
    assert f"<td>{row['gender']}</td>" in html


PAGES = {
    "": "Learn",
    "data": "Data",
    "build": "Build",
    "train": "Train",
    "runs": "Runs",
    "inspect": "Inspect",
    "explain": "Explain",
    "fairness": "Fairness",
}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_works_as_a_fresh_servers_first_request(tmp_path: Path, page, path: str) -> None:
    """A deep link (a bookmark, a reload after a restart) is the server's first request: the
    page opens with its query parameters, and again without them in a new session."""
    from playground.store import RunStore
    from tests.run_helpers import train_stored

    run, _ = train_stored(
        "xor",
        {"n_samples": 200},
        {"layers": [{"kind": "linear", "out_features": 4}, {"kind": "relu"}, {"kind": "linear"}]},
        {"epochs": 2},
        RunStore(tmp_path / "data"),
    )
    query = f"?job={run.run_id}&run={run.run_id}&s=unknown-session-token"
    with streamlit_server(tmp_path) as (_, url):
        for target in (f"{url}/{path}{query}", f"{url}/{path}"):
            page.goto(target)
            page.get_by_role("heading", name=PAGES[path], exact=True).wait_for(timeout=60_000)
            page.wait_for_timeout(1500)  # let the script finish: an exception would show now
            assert page.locator('[data-testid="stException"]').count() == 0, target
            page.context.clear_cookies()


def test_a_gan_on_the_ring_trains_from_the_app_and_its_heat_map_updates(
    server: str, page, tmp_path: Path
) -> None:
    pg = page
    pg.goto(f"{server}/data")
    pg.get_by_role("heading", name="Data").wait_for()
    pg.locator('[data-testid="stSelectbox"]').first.click()
    pg.keyboard.type("Ring of 8")
    pg.keyboard.press("Enter")
    pg.get_by_text("Input shape").wait_for()
    pg.get_by_role("link", name="Build").first.click()
    pg.get_by_text("GAN: a generator learns", exact=False).first.click()
    pg.get_by_role("tab", name="discriminator").wait_for(timeout=60_000)
    pg.get_by_role("link", name="Train").first.click()
    for label, value in (("epochs", "3000"), ("learning rate", "0.001")):
        field = pg.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Enter")
        pg.wait_for_timeout(500)
    pg.get_by_role("button", name="Start training").click()
    pg.get_by_text(re.compile(r"^Run \S+ · running · epoch [1-9]")).first.wait_for(timeout=90_000)
    run_id = _progress_text(pg).split()[1]
    pg.get_by_role("link", name="Generative").first.click()
    heat = pg.locator('[data-testid="stPlotlyChart"] .heatmaplayer image').first
    heat.wait_for(timeout=60_000)
    first = heat.get_attribute("href")
    # The worker sends a new field with each update; the picture must change while it trains.
    deadline = time.time() + 60
    while time.time() < deadline and heat.get_attribute("href") == first:
        pg.wait_for_timeout(500)
    assert heat.get_attribute("href") != first
    assert pg.get_by_text(re.compile(r"of 8 modes covered")).count() >= 1
    # One step per click: pausing offers the step button.
    pg.get_by_role("button", name="Pause to step").click()
    pg.get_by_role("button", name="One step").wait_for(timeout=30_000)
    assert run_id in pg.url or pg.get_by_text(run_id).count() >= 1
