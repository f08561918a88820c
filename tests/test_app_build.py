"""The Build page's guidance: where a new layer goes, activations after the output layer, and
the shape rows kept when one layer is bad. Engine first, then the page through AppTest."""

from __future__ import annotations

import pytest

from playground.jobs import JobRegistry
from playground.model import check_model, check_model_partial
from playground.model.output_layer import (
    activation_after_output,
    insert_position,
    output_layer_index,
)
from playground.model.shorthand import parse_layers
from tests.app_helpers import open_page
from tests.signatures import FLAT, IMAGE, SIGNAL


def _dicts(text: str) -> list[dict]:
    return parse_layers(text).model_dump()["layers"]


# --- engine: the output layer and where a new layer goes ---------------------------------


@pytest.mark.parametrize(
    ("kinds", "output", "insert"),
    [
        (["linear", "relu", "linear"], 2, 2),
        (["linear", "relu", "linear", "sigmoid", "dropout"], 2, 2),  # trailing layers skipped
        (["conv2d", "relu", "flatten", "linear", "relu"], 3, 3),
        (["lstm", "linear"], 1, 1),
        (["relu", "dropout"], None, 2),  # no weights anywhere: append
        ([], None, 0),
    ],
)
def test_output_layer_is_the_last_with_weights(kinds, output, insert) -> None:
    assert output_layer_index(kinds) == output
    assert insert_position(kinds) == insert


# --- engine: activations after the output layer ------------------------------------------


def test_an_activation_after_the_output_layer_is_a_warning_naming_it() -> None:
    built = check_model(parse_layers("linear:32 relu linear sigmoid"), FLAT)  # still builds
    assert [(w.layer_index, w.layer_kind) for w in built.warnings] == [("3", "sigmoid")]
    text = str(built.warnings[0])
    assert text.startswith("Layer 3 (sigmoid):")
    assert "layer 2, Linear" in text and "softmax" in text  # 2 outputs: cross-entropy
    assert "Fix: remove layer 3" in text
    # The hidden ReLU (before the output layer) is not flagged; a clean stack has none.
    assert check_model(parse_layers("linear:32 relu linear"), FLAT).warnings == []


def test_the_reason_follows_the_loss_of_the_task() -> None:
    one_logit = activation_after_output(["linear", "relu", "linear", "tanh"], "binary", 1)
    assert "binary cross-entropy" in one_logit[0].message and "sigmoid" in one_logit[0].message
    regression = check_model(parse_layers("conv1d:4:3 flatten linear relu"), SIGNAL).warnings
    assert len(regression) == 1 and regression[0].layer_index == "3"
    assert "never predict" in regression[0].message and "negative output to 0" in (
        regression[0].message
    )
    # Identity changes nothing, and a module feeding another ("features") may end as it likes.
    assert activation_after_output(["linear", "identity"], "multiclass", 3) == []
    assert activation_after_output(["linear", "tanh"], "features", 8) == []


def test_softmax_is_not_a_layer_and_the_error_says_why() -> None:
    check = check_model_partial([*_dicts("linear:32 relu"), {"kind": "softmax"}], FLAT)
    assert check.error is not None and check.error.layer_index == "2"
    assert "loss already applies softmax" in str(check.error)


# --- engine: rows before the layer at fault -----------------------------------------------


def test_partial_check_keeps_the_rows_before_the_bad_layer() -> None:
    check = check_model_partial(_dicts("linear:32 relu conv2d:8 linear"), FLAT)
    assert check.built is None and check.error is not None
    assert check.error.layer_index == "2" and check.error.layer_kind == "conv2d"
    assert [(r.index, r.output_shape, r.params) for r in check.ok_rows()] == [
        ("0", (32,), 2 * 32 + 32),
        ("1", (32,), 0),
    ]
    assert check.failed == {"2"}
    assert [r.input_shape for r in check.rows if r.index in check.failed] == [(32,)]


def test_partial_check_of_a_good_spec_equals_check_model() -> None:
    check = check_model_partial(_dicts("conv2d:4:3 relu flatten linear"), IMAGE)
    full = check_model(parse_layers("conv2d:4:3 relu flatten linear"), IMAGE)
    assert check.error is None and not check.failed and check.built is not None
    assert check.built.table() == full.table() and check.rows == full.rows


def test_partial_check_inside_a_residual_block_marks_the_block_too() -> None:
    check = check_model_partial(_dicts("linear:8 residual[linear:8 relu conv2d:3] linear"), FLAT)
    assert check.failed == {"1", "1.2"}
    assert [r.index for r in check.ok_rows()] == ["0", "1.0", "1.1"]


def test_partial_check_of_an_invalid_parameter_still_shapes_the_layers_before() -> None:
    layers = _dicts("linear:32 relu linear:4 linear")
    layers[2]["out_features"] = "abc"  # what a typo in the editor's text box gives
    check = check_model_partial(layers, FLAT)
    assert check.error is not None and check.error.layer_index == "2"
    assert [r.index for r in check.ok_rows()] == ["0", "1"]
    bad = check.rows[-1]
    assert (bad.index, bad.kind, bad.input_shape) == ("2", "linear", (32,))


# --- the page ----------------------------------------------------------------------------


def test_add_layer_goes_before_the_output_layer_by_default(registry: JobRegistry) -> None:
    at = open_page("build")  # the default small MLP: linear:32 relu linear:32 relu linear
    where = next(s for s in at.selectbox if s.label == "Where")
    assert where.value == "before the output layer (4)"
    next(s for s in at.selectbox if s.label == "Layer kind").select("dropout").run()
    next(b for b in at.button if b.label == "Add layer").click().run()
    kinds = [layer["kind"] for layer in at.session_state["layers"]]
    assert kinds == ["linear", "relu", "linear", "relu", "dropout", "linear"]
    # The other choices still reach the ends of the stack.
    next(s for s in at.selectbox if s.label == "Where").select("at the end").run()
    next(b for b in at.button if b.label == "Add layer").click().run()
    assert at.session_state["layers"][-1]["kind"] == "dropout"
    assert not at.exception


def test_an_activation_after_the_output_layer_is_flagged_not_blocked(
    registry: JobRegistry,
) -> None:
    at = open_page("build", layers=_dicts("linear:32 relu linear sigmoid"))
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("Layer 3 (sigmoid)") and "remove" in w for w in warnings)
    assert any("🟠" in md.value and "3 · Sigmoid" in md.value for md in at.markdown)
    assert not at.error and at.session_state["spec_valid"]  # training stays allowed


def test_a_bad_layer_keeps_the_rows_before_it_in_the_table(registry: JobRegistry) -> None:
    at = open_page("build", layers=_dicts("linear:32 relu conv2d:8 linear"))
    table = at.dataframe[0].value
    assert list(table["#"]) == ["0", "1", "2"]
    assert list(table["output"][:2]) == ["(B, 32)", "(B, 32)"]
    assert table["layer"][2].startswith("❌") and table["output"][2] == "got (B, 32)"
    assert any(e.value.startswith("Layer 2 (conv2d)") for e in at.error)
    assert not at.session_state["spec_valid"]
