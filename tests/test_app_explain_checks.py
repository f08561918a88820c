"""AppTest: the Explain page's "Test the explanation" views open on a stored tabular run, run
their background task and draw their results (sanity, faithfulness, what-if with
attributions, counterfactuals, influential examples)."""

from __future__ import annotations

import json
import time

from playground.jobs import JobRegistry
from tests.app_helpers import open_page
from tests.test_app_analysis import MLP, _explain, _numbers, _train


def _wait_and_rerun(at, seconds: float = 90):
    from playground.tasks import default_tasks

    deadline = time.time() + seconds
    while time.time() < deadline:
        if all(t.done for t in default_tasks().tasks()):
            break
        time.sleep(0.05)
    return at.run()


def _frame(at, column: str):
    """The first table on the page with `column` (AppTest finds tables by position only)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _press(at, button: str):
    at.button(key=button).click().run()
    return _wait_and_rerun(at)


def test_each_check_view_opens_and_draws_on_a_tabular_run(registry: JobRegistry) -> None:
    run_id = _train(registry, "german_credit", {}, MLP, epochs=3)
    at = open_page("explain", job_id=run_id)
    at.number_input(key="rows").set_value(30).run()
    at = _explain(at)
    assert not at.exception
    assert at.radio(key="check_view").options == [
        "Sanity checks",
        "Faithfulness",
        "What-if",
        "Counterfactuals",
        "Influential examples",
    ]
    # Sanity checks: one rank-correlation curve per chosen method, starting at 1.
    at = _press(at, "sanity_go")
    assert not at.exception, at.exception
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    sanity = next(f for f in figures if "Cascading" in f["layout"].get("title", {}).get("text", ""))
    assert len(sanity["data"]) == len(at.multiselect(key="sanity_methods").value) >= 2
    assert all(_numbers(trace["y"])[0] == 1.0 for trace in sanity["data"])
    assert at.success or at.warning  # a verdict per method, in words

    at.radio(key="check_view").set_value("Faithfulness").run()
    at = _press(at, "faith_go")
    assert not at.exception, at.exception
    table = _frame(at, "deletion AUC")
    assert "random order (mean of 3)" in list(table["method"])
    assert len(table) == len(at.multiselect(key="faith_methods").value) + 1

    at.radio(key="check_view").set_value("What-if").run()
    at = _wait_and_rerun(at)
    before = _frame(at, "change")
    assert not at.exception and len(before) > 3
    assert (before["change"].abs() < 1e-6).all()  # nothing edited yet: the bars match
    at.number_input(key="wia_0_duration").set_value(60.0).run()
    at = _wait_and_rerun(at)
    after = _frame(at, "change")
    assert after.iloc[0]["feature"] == "duration" and abs(after.iloc[0]["change"]) > 0
    prediction = _frame(at, "row")
    assert len(prediction) == 2

    at.radio(key="check_view").set_value("Counterfactuals").run()
    assert "sex" in at.multiselect(key="cf_locked").value  # sensitive: locked by default
    at = _press(at, "cf_go")
    assert not at.exception, at.exception
    rows = next(d.value for d in at.dataframe if {"row", "sex"} <= set(d.value.columns))
    assert rows["row"].iloc[0] == "original"
    assert (rows["sex"] == rows["sex"].iloc[0]).all()

    at.radio(key="check_view").set_value("Influential examples").run()
    at.number_input(key="inf_ckpt").set_value(2).run()
    at = _press(at, "inf_go")
    assert not at.exception, at.exception
    pro = next(d.value for d in at.dataframe if "influence" in d.value.columns)
    assert len(pro) == 5 and (pro["influence"].diff().dropna() <= 1e-9).all()
    tables = [d.value for d in at.dataframe if "influence" in d.value.columns]
    assert len(tables) == 3 and len(tables[2]) == 20  # proponents, opponents, self-influence
