"""Benchmark training throughput in the real app against the command line.

The same run (spiral with default parameters, preset "mlp", E epochs, every other option at its
default) is trained two ways and timed from what each stores in its run store (SQLite):

* CLI: `python -m playground train --dataset spiral --preset mlp --epochs E` as a subprocess.
* App: `streamlit run app.py`, the Train page opened in headless Chromium (Playwright), epochs
  set to E, "Start training" pressed, and the page left open (it polls about once a second)
  until the progress text says the run completed.

Two scenarios: one run alone, and two runs at once (two CLI processes started together vs two
browser sessions, each its own browser context, starting a run at about the same time).

For each run, with n = training samples per epoch (from an epoch row: samples_per_sec * seconds):
* loop samples/s = n * epochs / sum of the epoch rows' "seconds" (the training loop only);
* wall samples/s = n * epochs / (finished_at - created_at) of the run's store row (everything
  from the run being recorded to it being finished: data, model, loop, validation, callbacks).
Two-run figures are the mean over the two runs.

Goal: the app trains at >= 0.90 of the CLI's throughput (app samples/s / CLI samples/s).

Run from the project root: .venv/bin/python bench/bench_app.py [--epochs 300] [--repeats 1]
[--skip-two]. Needs Debian's Chromium at /usr/bin/chromium and Playwright's Python package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GOAL = 0.90
FINAL = r"(completed|stopped|diverged|failed|interrupted)"
PROGRESS = re.compile(r"^Run (\S+) · ")
DONE = re.compile(rf"^Run \S+ · {FINAL}")
SPIRAL_TRAIN_SAMPLES = 700  # fallback only: spiral's default 1000 samples, 70% train split


@dataclass
class RunStats:
    run_id: str
    status: str
    epochs: int
    samples: int  # training samples over all epochs
    loop_seconds: float  # sum of the epoch rows' "seconds"
    wall_seconds: float  # finished_at - created_at
    setup: str  # dataset, its parameters, model spec and training config, as stored

    @property
    def loop_rate(self) -> float:
        return self.samples / self.loop_seconds if self.loop_seconds > 0 else 0.0

    @property
    def wall_rate(self) -> float:
        return self.samples / self.wall_seconds if self.wall_seconds > 0 else 0.0


@dataclass
class Side:
    """One scenario on one side (CLI or app): its runs and the wall time of the whole batch."""

    runs: list[RunStats]
    span_seconds: float  # first created_at to last finished_at
    cpu: dict[str, float]  # CPU seconds used during the scenario, by process group

    def mean(self, attr: str) -> float:
        return statistics.fmean(getattr(r, attr) for r in self.runs)


# --- the run store ------------------------------------------------------------------------------


def read_runs(data_dir: Path, run_ids: list[str] | None = None) -> list[RunStats]:
    """Stats of the given runs (default: every run) in a store, read with plain SQLite."""
    db = sqlite3.connect(data_dir / "runs.sqlite", timeout=30)
    try:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM runs ORDER BY created_at").fetchall()
        out = []
        for run in rows:
            if run_ids is not None and run["id"] not in run_ids:
                continue
            epochs = [
                json.loads(r[0])
                for r in db.execute(
                    "SELECT row FROM epochs WHERE run_id=? ORDER BY epoch", (run["id"],)
                )
            ]
            out.append(_stats(run, epochs))
        return out
    finally:
        db.close()


def _stats(run: sqlite3.Row, epochs: list[dict[str, Any]]) -> RunStats:
    per_epoch = next(
        (
            round(e["samples_per_sec"] * e["seconds"])
            for e in epochs
            if e.get("seconds") and e.get("samples_per_sec")
        ),
        SPIRAL_TRAIN_SAMPLES,
    )
    finished = run["finished_at"] or run["updated_at"]
    return RunStats(
        run_id=run["id"],
        status=run["status"],
        epochs=len(epochs),
        samples=per_epoch * len(epochs),
        loop_seconds=sum(float(e.get("seconds", 0.0)) for e in epochs),
        wall_seconds=float(finished - run["created_at"]),
        setup=_setup(run),
    )


def _setup(run: sqlite3.Row) -> str:
    """What the run trained, comparable across CLI and app (the spec's name left out)."""
    found = {}
    for key in ("dataset", "dataset_params", "spec", "config"):
        if key in run.keys():  # noqa: SIM118 (sqlite3.Row has no __contains__ for names)
            value = run[key]
            found[key] = json.loads(value) if key != "dataset" and value else value
    if isinstance(found.get("spec"), dict):
        found["spec"].pop("name", None)
    return json.dumps(found, sort_keys=True)


def configured_epochs(data_dir: Path, run_id: str) -> int | None:
    db = sqlite3.connect(data_dir / "runs.sqlite", timeout=30)
    try:
        row = db.execute("SELECT config FROM runs WHERE id=?", (run_id,)).fetchone()
    finally:
        db.close()
    return json.loads(row[0]).get("epochs") if row else None


def span(data_dir: Path, run_ids: list[str]) -> float:
    db = sqlite3.connect(data_dir / "runs.sqlite", timeout=30)
    try:
        marks = ",".join("?" * len(run_ids))
        first, last = db.execute(
            f"SELECT MIN(created_at), MAX(COALESCE(finished_at, updated_at)) FROM runs "
            f"WHERE id IN ({marks})",
            run_ids,
        ).fetchone()
    finally:
        db.close()
    return float(last - first)


def check(runs: list[RunStats], want: int, epochs: int, where: str) -> None:
    if len(runs) != want:
        raise RuntimeError(f"{where}: expected {want} run(s) in the store, found {len(runs)}")
    for r in runs:
        if r.status != "completed" or r.epochs != epochs:
            raise RuntimeError(
                f"{where}: run {r.run_id} is {r.status} after {r.epochs}/{epochs} epochs"
            )


# --- CPU accounting from /proc (Linux; empty elsewhere) ---------------------------------------


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds so far) for every process we can read."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    table: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return table


def cpu_by_group(server_pid: int | None) -> dict[str, float]:
    """CPU seconds of the streamlit server and of the browser (Playwright driver + Chromium),
    i.e. this process's other descendants. Exited processes are not counted."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)

    def tree(root: int) -> set[int]:
        seen, todo = set(), [root]
        while todo:
            pid = todo.pop()
            if pid not in seen:
                seen.add(pid)
                todo.extend(children.get(pid, []))
        return seen

    server = tree(server_pid) if server_pid in table else set()
    browser = tree(os.getpid()) - server - {os.getpid()}
    return {
        "streamlit": sum(table[p][1] for p in server if p in table),
        "browser": sum(table[p][1] for p in browser if p in table),
    }


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}


# --- CLI side --------------------------------------------------------------------------------


def cli_scenario(epochs: int, count: int, data_dir: Path) -> Side:
    """`count` CLI runs started together in one fresh store; waits for all of them."""
    data_dir.mkdir(parents=True)
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "playground", "train", "--dataset", "spiral"]
    cmd += ["--preset", "mlp", "--epochs", str(epochs), "--quiet"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(count):
            log = data_dir / f"cli{i}.log"
            with open(log, "wb") as out:
                procs.append(
                    subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
                )
        for i, proc in enumerate(procs):
            if proc.wait(timeout=max(600, epochs * 2)) != 0:
                tail = (data_dir / f"cli{i}.log").read_text()[-2000:]
                raise RuntimeError(f"CLI run failed (exit {proc.returncode}):\n{tail}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    runs = read_runs(data_dir)
    check(runs, count, epochs, "CLI")
    return Side(runs, span(data_dir, [r.run_id for r in runs]), {})


# --- app side --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(data_dir: Path, log_path: Path) -> Iterator[tuple[str, int]]:
    """The real app on a free port with its own store; yields (url, pid), always terminated."""
    port = _free_port()
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false"]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 90
            while True:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("streamlit did not start:\n" + log_path.read_text()[-2000:])
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    time.sleep(0.3)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # a training thread still running holds it open
                proc.kill()
                proc.wait(10)


def _epochs_input(pg: Any) -> Any:
    exact = pg.get_by_label("epochs", exact=True)
    if exact.count():
        return exact.first
    return pg.get_by_role("spinbutton", name=re.compile(r"^\s*epochs\b", re.I)).first


def _open_train_page(browser: Any, url: str, epochs: int) -> tuple[Any, Any]:
    """A fresh session (browser context) on the Train page with epochs set; (context, page)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    # The session is set up by app.py's first run; a fresh session that lands on /train first
    # can miss it. So load the app, then follow its own navigation link to the Train page.
    pg.goto(url)
    pg.locator('[data-testid="stMain"] h1').first.wait_for()
    _idle(pg)
    link = pg.locator('[data-testid="stSidebarNav"] a[href$="/train"]')
    if link.count():
        link.first.click()
    else:
        pg.goto(f"{url}/train")
    pg.get_by_role("button", name=re.compile(r"start training", re.I)).first.wait_for()
    field = _epochs_input(pg)
    field.wait_for()
    field.fill(str(epochs))
    field.press("Enter")
    # Let the rerun that takes the new value finish before the button is pressed.
    pg.wait_for_timeout(800)
    _idle(pg)
    return ctx, pg


def _idle(pg: Any) -> None:
    """Wait (briefly) until Streamlit shows no script run in progress."""
    with contextlib.suppress(Exception):
        pg.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=10_000)


def _start(pg: Any) -> None:
    pg.get_by_role("button", name=re.compile(r"start training", re.I)).first.click()


def _run_id(pg: Any) -> str:
    text = pg.get_by_text(PROGRESS).first.inner_text(timeout=60_000)
    match = PROGRESS.match(text.strip())
    if not match:
        raise RuntimeError(f"unexpected progress text: {text!r}")
    return match.group(1)


def _wait_done(pg: Any, epochs: int) -> str:
    pg.get_by_text(DONE).first.wait_for(timeout=max(600, epochs * 3) * 1000)
    return pg.get_by_text(DONE).first.inner_text()


def app_scenario(
    browser: Any, url: str, server_pid: int, data_dir: Path, epochs: int, count: int
) -> Side:
    """`count` browser sessions each start a run at about the same time; waits for all."""
    opened = [_open_train_page(browser, url, epochs) for _ in range(count)]
    try:
        cpu0 = cpu_by_group(server_pid)
        for _, pg in opened:
            _start(pg)
        ids = [_run_id(pg) for _, pg in opened]
        texts = [_wait_done(pg, epochs) for _, pg in opened]
        # The page says "completed" a moment before the worker has stored the run as finished.
        deadline = time.time() + 30
        while True:
            runs = read_runs(data_dir, ids)
            if all(r.status == "completed" for r in runs) or time.time() > deadline:
                break
            time.sleep(0.2)
        cpu = cpu_delta(cpu0, cpu_by_group(server_pid))
    except Exception:
        for i, (_, pg) in enumerate(opened):
            shot = Path(tempfile.gettempdir()) / f"bench_app_failure_{i}.png"
            with contextlib.suppress(Exception):
                pg.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of session {i + 1}: {shot}", file=sys.stderr)
        raise
    finally:
        for ctx, _ in opened:
            with contextlib.suppress(Exception):
                ctx.close()
    for run_id, text in zip(ids, texts, strict=True):
        got = configured_epochs(data_dir, run_id)
        if got != epochs:
            raise RuntimeError(f"app run {run_id} was set to {got} epochs, not {epochs}: {text}")
    check(runs, count, epochs, "app")
    return Side(runs, span(data_dir, ids), cpu)


# --- report -------------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def print_table(results: dict[str, dict[str, list[Side]]], epochs: int, repeats: int) -> None:
    print()
    print(f"spiral / preset mlp / {epochs} epochs / defaults; median of {repeats} repeat(s)")
    print("loop samples/s = samples / sum(epoch 'seconds'); per-run mean for two runs")
    print("wall samples/s = samples / (finished_at - created_at) of the stored run")
    print("wall s = per-run finished_at - created_at (mean); span s = first start to last finish")
    head = f"{'scenario':<10}{'measure':<16}{'CLI':>12}{'app':>12}{'app/CLI':>10}"
    print(head)
    print("-" * len(head))
    measures = [
        ("loop samples/s", lambda s: s.mean("loop_rate"), True),
        ("wall samples/s", lambda s: s.mean("wall_rate"), True),
        ("wall s", lambda s: s.mean("wall_seconds"), False),
        ("span s", lambda s: s.span_seconds, False),
    ]
    for scenario, sides in results.items():
        for label, fn, is_rate in measures:
            cli = _median([fn(s) for s in sides["cli"]])
            app = _median([fn(s) for s in sides["app"]])
            ratio = app / cli if cli else 0.0
            fmt = "{:>12,.0f}" if is_rate else "{:>12.2f}"
            print(
                f"{scenario:<10}{label:<16}{fmt.format(cli)}{fmt.format(app)}{ratio:>10.2f}"
                + ("" if is_rate else "  (time)")
            )
    print()
    for scenario, sides in results.items():
        for i, side in enumerate(sides["app"]):
            cpu = ", ".join(f"{k} {v:.1f}s" for k, v in side.cpu.items())
            print(f"app CPU during '{scenario}' repeat {i + 1}: {cpu or 'n/a'}")
    print(f"goal: app >= {GOAL:.2f} of CLI")
    for scenario, sides in results.items():
        cli = _median([s.mean("loop_rate") for s in sides["cli"]])
        app = _median([s.mean("loop_rate") for s in sides["app"]])
        ratio = app / cli if cli else 0.0
        verdict = "met" if ratio >= GOAL else "NOT met"
        print(f"  {scenario}: loop samples/s app/CLI = {ratio:.2f} -> {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300, help="epochs per run (default 300)")
    parser.add_argument("--repeats", type=int, default=1, help="repeats of everything (default 1)")
    parser.add_argument("--skip-two", action="store_true", help="skip the two-runs-at-once part")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    scenarios = [("one run", 1)] + ([] if args.skip_two else [("two runs", 2)])
    results: dict[str, dict[str, list[Side]]] = {
        name: {"cli": [], "app": []} for name, _ in scenarios
    }
    with tempfile.TemporaryDirectory(prefix="bench_app_") as tmp:
        work = Path(tmp)
        app_data = work / "app_data"
        with (
            streamlit_server(app_data, work / "streamlit.log") as (url, server_pid),
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                for rep in range(args.repeats):
                    for name, count in scenarios:
                        cli = cli_scenario(args.epochs, count, work / f"cli_{rep}_{count}")
                        results[name]["cli"].append(cli)
                        app = app_scenario(browser, url, server_pid, app_data, args.epochs, count)
                        results[name]["app"].append(app)
                        setups = {r.setup for r in cli.runs + app.runs}
                        if len(setups) > 1:
                            print("warning: the CLI and app runs differ in setup:", file=sys.stderr)
                            for setup in sorted(setups):
                                print(f"  {setup}", file=sys.stderr)
                        print(
                            f"repeat {rep + 1} {name}: "
                            f"CLI loop {cli.mean('loop_rate'):,.0f} samples/s, "
                            f"wall {cli.mean('wall_seconds'):.2f}s | "
                            f"app loop {app.mean('loop_rate'):,.0f} samples/s, "
                            f"wall {app.mean('wall_seconds'):.2f}s",
                            flush=True,
                        )
            finally:
                browser.close()
    print_table(results, args.epochs, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
