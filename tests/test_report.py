"""The full report: sections in order, user strings escaped (column names holding HTML render
as text), self-contained HTML, the mitigation comparison, non-binary runs, and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from playground.cli import main
from playground.errors import PlaygroundError
from playground.fairness.variants import derive_threshold_variant, train_now
from playground.model.presets import PRESETS
from playground.model.shorthand import parse_layers
from playground.report import build_report, to_html, to_json, to_markdown, write_report
from playground.report.build import SECTION_TITLES, STANDING_CAUTION
from playground.report.sections_fairness import mitigation_section
from playground.store import RunStore
from tests.run_helpers import train_stored

SCRIPT = "<script>alert(1)</script>"
BOLD = "<b>bold</b>"
AMP = "a & b"
SEX = "<em>sex</em>"
MALE = "<u>M</u>"
FAST = {"explain_rows": 24, "n_boot": 20}


def _train(store: RunStore, dataset: str, params: dict, layers: str, epochs: int = 2) -> str:
    spec = PRESETS[layers].spec() if layers in PRESETS else parse_layers(layers)
    outcome, _ = train_stored(dataset, params, spec, {"epochs": epochs, "seed": 0}, store)
    return outcome.run_id


@pytest.fixture(scope="module")
def html_named(tmp_path_factory) -> tuple[RunStore, str]:
    """A run on a CSV whose column names and one group label are HTML."""
    root = tmp_path_factory.mktemp("html_csv")
    rng = np.random.default_rng(0)
    n = 240
    sex = rng.choice(["F", MALE], n)
    frame = pd.DataFrame(
        {
            SCRIPT: rng.normal(size=n),
            BOLD: rng.choice(["x", "<i>y</i>"], n),
            AMP: rng.normal(size=n),
            SEX: sex,
        }
    )
    noise = rng.normal(scale=0.5, size=n)
    frame["hired"] = ((frame[SCRIPT] + 0.5 * (sex == "F") + noise) > 0.3).astype(int)
    frame.to_csv(root / "people.csv", index=False)
    store = RunStore(root / "data")
    params = {"path": str(root / "people.csv"), "target": "hired", "sensitive": [SEX]}
    return store, _train(store, "csv", params, "linear:8 relu linear")


@pytest.fixture(scope="module")
def html_report(html_named):
    store, run_id = html_named
    return build_report(run_id, store, **FAST)


def test_sections_come_in_order_and_cautions_end_with_the_standing_one(html_report) -> None:
    assert [s.title for s in html_report.sections] == list(SECTION_TITLES)
    fairness = html_report.section("Fairness audit")
    assert fairness.data["audited"] is True
    assert set(fairness.data["attributes"]) == {SEX}
    assert len(fairness.tables) >= 4 and len(fairness.charts) >= 5
    cautions = html_report.section("Cautions").cautions
    assert cautions[-1] == STANDING_CAUTION
    assert not any("a metric is not a verdict" in c.lower() for c in cautions[:-1])
    assert all(c in cautions for c in fairness.cautions if "not a verdict" not in c)
    assert len(cautions) == len(set(cautions))
    mitigation = html_report.section("Mitigation comparison")
    assert "No mitigation variants" in mitigation.paragraphs[0]


def test_html_renders_html_column_names_as_text_and_is_self_contained(html_report) -> None:
    page = to_html(html_report)
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page  # a proxy table row
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "a &amp; b" in page
    for raw in (SCRIPT, "<script>alert", BOLD, SEX, MALE, "<i>y</i>"):
        assert raw not in page  # not even inside plotly's JSON, which escapes '<' as \u003c
    figures = sum(len(s.charts) for s in html_report.sections)
    assert page.count("<script") == 1 + figures  # plotly.js, then one per figure: no others
    assert get_plotlyjs()[:500] in page and len(page) > 3_000_000
    assert re.search(r"<script[^>]*\bsrc\s*=", page) is None  # nothing fetched from outside


def test_markdown_escapes_and_json_keeps_names_verbatim(html_report) -> None:
    md = to_markdown(html_report)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "<script" not in md
    assert SEX not in md and "&lt;em&gt;sex&lt;/em&gt;" in md
    doc = json.loads(to_json(html_report))
    assert [s["title"] for s in doc["sections"]] == list(SECTION_TITLES)
    fairness = doc["sections"][SECTION_TITLES.index("Fairness audit")]
    numbers = fairness["data"]["attributes"][SEX]
    assert {row["group"] for row in numbers["by_group"]} == {"F", MALE}
    assert SCRIPT in {row["feature"] for row in numbers["proxies"]}
    assert set(numbers["disparities"]) >= {"demographic_parity_difference"}
    explain = doc["sections"][SECTION_TITLES.index("Explanations")]
    importance = explain["data"]["importance_integrated_gradients"]
    assert {row["feature"] for row in importance} >= {SCRIPT, BOLD, AMP}


@pytest.fixture(scope="module")
def hiring(tmp_path_factory) -> tuple[RunStore, str, list[str]]:
    """A hiring run with a reweighing variant and a post-processed one."""
    store = RunStore(tmp_path_factory.mktemp("hiring"))
    run_id = _train(store, "hiring", {"n_samples": 600}, "linear:8 relu linear")
    variants = [
        train_now(store, run_id, "reweighing", "gender"),
        derive_threshold_variant(store, run_id, "gender"),
    ]
    return store, run_id, variants


def test_report_on_a_run_with_variants_includes_the_mitigation_table(hiring) -> None:
    store, run_id, variants = hiring
    report = build_report(run_id, store, threshold=0.4, explain_rows=24, n_boot=0)
    fairness = report.section("Fairness audit")
    # By default: every sensitive attribute, then the intersection of the first two.
    assert list(fairness.data["attributes"]) == ["gender", "age", "gender & age"]
    assert "threshold 0.40" in fairness.paragraphs[0]
    mitigation = report.section("Mitigation comparison")
    (table,) = mitigation.tables  # the variants were made for gender only
    assert list(table.frame["run"]) == [run_id, *variants]
    assert list(table.frame["variant"]) == [
        "original",
        "trained with reweighing",
        "post-processed (ThresholdOptimizer)",
    ]
    assert table.frame["demographic parity difference"].notna().all()
    (chart,) = mitigation.charts
    assert sum(t.meta == "original" for t in chart.figure.data) == 1
    assert len(chart.figure.data) == 3
    rows = mitigation.data["comparisons"]["gender"]["table"]
    assert [r["run"] for r in rows] == [run_id, *variants]
    assert "trained with reweighing" in to_markdown(report)

    # Seen from a variant, the comparison covers the same family.
    section = mitigation_section(store, variants[0], "gender", 0.4)
    assert section.paragraphs[0].startswith(f"This run is a variant of run {run_id}")
    assert list(section.tables[0].frame["run"]) == [run_id, *variants]


def test_bad_attributes_and_thresholds_fail_before_any_work(hiring) -> None:
    store, run_id, _ = hiring
    with pytest.raises(PlaygroundError, match="No sensitive attribute 'race'"):
        build_report(run_id, store, attributes=["gender", "race"])
    with pytest.raises(PlaygroundError, match=r"outside 0\.\.1"):
        build_report(run_id, store, threshold=1.5)


@pytest.mark.parametrize(
    ("dataset", "layers", "why"),
    [
        ("iris", "linear:8 relu linear", "multiclass"),
        ("digits", "cnn", "multiclass"),
        ("sine", "lstm", "regression"),
    ],
)
def test_non_binary_runs_get_every_section_and_say_why_there_is_no_audit(
    store: RunStore, dataset: str, layers: str, why: str
) -> None:
    run_id = _train(store, dataset, {}, layers, epochs=1)
    report = build_report(run_id, store, explain_rows=8)
    assert [s.title for s in report.sections] == list(SECTION_TITLES)
    fairness = report.section("Fairness audit")
    assert fairness.paragraphs[0].startswith("No fairness audit") and why in fairness.paragraphs[0]
    assert not fairness.tables and not fairness.charts
    assert report.section("Explanations").charts  # images and sequences are explained too
    assert report.section("Mitigation comparison").paragraphs[0].startswith("No mitigation")
    # No fairness caution for these runs; a one-epoch model may fail an explanation check
    # (its maps barely change when its weights are randomised), which is said too.
    cautions = report.section("Cautions").cautions
    assert cautions[-1] == STANDING_CAUTION
    assert set(cautions[:-1]) <= set(report.section("Explanation checks").cautions)
    assert json.loads(to_json(report))["run_id"] == run_id
    assert "<h2>Fairness audit</h2>" in to_html(report)


def test_write_report_to_a_folder_or_a_file_path(html_report, tmp_path: Path) -> None:
    paths = write_report(html_report, tmp_path / "out")
    assert [p.suffix for p in paths] == [".html", ".md", ".json"]
    assert all(p.parent == tmp_path / "out" and p.stat().st_size > 0 for p in paths)
    assert paths[0].name == f"report-{html_report.run_id}.html"
    named = write_report(html_report, tmp_path / "mine" / "review.html", ("html", "json"))
    assert [p.name for p in named] == ["review.html", "review.json"]
    json.loads(named[1].read_text(encoding="utf-8"))
    with pytest.raises(PlaygroundError, match="Unknown report format"):
        write_report(html_report, tmp_path, ("pdf",))


def test_cli_writes_the_three_files_and_rejects_unknown_runs(
    hiring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, run_id, _ = hiring
    out = tmp_path / "reports"
    args = ["--data-dir", str(store.root), "report", run_id, "--out", str(out)]
    code = main([*args, "--rows", "0", "--attribute", "gender", "--threshold", "0.6", "--quiet"])
    printed, err = capsys.readouterr()
    assert code == 0, err
    paths = [Path(line) for line in printed.split()]
    assert sorted(p.suffix for p in paths) == [".html", ".json", ".md"]
    assert all(p.exists() and p.parent == out for p in paths)
    doc = json.loads(next(p for p in paths if p.suffix == ".json").read_text(encoding="utf-8"))
    fairness = next(s for s in doc["sections"] if s["title"] == "Fairness audit")
    assert fairness["data"]["threshold"] == 0.6
    assert fairness["data"]["attributes"]["gender"]["attribution_by_group"]  # IG made here
    explain = next(s for s in doc["sections"] if s["title"] == "Explanations")
    assert explain["paragraphs"] == ["Explanations were not asked for."]

    code = main(["--data-dir", str(store.root), "report", "no-such-run", "--out", str(out)])
    printed, err = capsys.readouterr()
    assert code == 2 and printed == ""
    assert err.startswith("error: No stored run has id 'no-such-run'")
    code = main([*args, "--format", "pdf"])
    assert code == 2 and "Unknown report format" in capsys.readouterr().err
    assert len(list(out.iterdir())) == 3  # the failed calls wrote nothing

    # Without --out, the report goes next to the runs, in the data dir.
    quick = ["--rows", "0", "--attribute", "gender", "--format", "md", "--quiet"]
    assert main(["--data-dir", str(store.root), "report", run_id, *quick]) == 0
    (written,) = [Path(line) for line in capsys.readouterr().out.split()]
    assert written.parent == store.root / "reports" and written.suffix == ".md"
