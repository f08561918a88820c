"""Build page: assemble the layer stack and see every layer's output shape before training."""

from __future__ import annotations

import json

import streamlit as st

from playground.charts.architecture import architecture_dot
from playground.errors import PlaygroundError
from playground.model import LAYERS, ModelSpec, check_model_partial
from playground.model.codegen import export_pytorch_source
from playground.model.presets import PRESETS
from playground.model.shorthand import format_layers, parse_layers
from playground.train.modes import MODES
from ui.layer_editor import add_layer, layer_editor, position_choices, set_layers
from ui.module_editor import apply_suggestions, module_editor
from ui.next_step import next_step
from ui.shape_table import shape_rows
from ui.state import current_dataset, show_error

st.title("Build")
dataset = current_dataset()
if dataset is None:
    st.stop()
st.caption(
    f"Dataset **{dataset.name}**: input {tuple(dataset.input_shape)}, {dataset.task}, "
    f"{dataset.num_outputs} output{'s' if dataset.num_outputs > 1 else ''}."
)

# What to train: a supervised model (one stack, the full editor) or a mode of several
# modules (autoencoders, GANs), each module a stack of its own.
offered = {n: c.title for n, c in MODES.items() if n == "supervised" or c.default_stacks}
if st.session_state.get("mode") not in offered:
    st.session_state["mode"] = "supervised"
mode = st.radio(
    "What to train",
    list(offered),
    index=list(offered).index(st.session_state["mode"]),
    format_func=offered.get,
    horizontal=True,
)
if mode != st.session_state["mode"]:
    apply_suggestions(mode)
st.session_state["mode"] = mode
if mode != "supervised":
    st.session_state["spec_valid"] = module_editor(dataset, mode)
    next_step("build")
    st.stop()

with st.sidebar:
    st.subheader("Start from a preset")
    preset = st.selectbox(
        "Preset", list(PRESETS), format_func=lambda n: f"{PRESETS[n].title} ({PRESETS[n].suits})"
    )
    if st.button("Load preset"):
        set_layers(PRESETS[preset].spec().model_dump()["layers"])
        st.rerun()
    st.subheader("Add a layer")
    kind = st.selectbox("Layer kind", list(LAYERS), format_func=lambda k: LAYERS[k].title)
    choices = position_choices(st.session_state["layers"])
    where = st.selectbox(
        "Where", list(choices), help="A new hidden layer goes before the output layer."
    )
    if st.button("Add layer"):
        add_layer(kind, choices[where])
        st.rerun()

# Check before drawing the editor so the layers at fault or in doubt can be marked in it.
check = check_model_partial({"layers": st.session_state["layers"]}, dataset)
warned = {
    w.layer_index: "⚠️ An activation after the output layer: remove it (see the warning)."
    for w in (check.built.warnings if check.built else [])
}

left, right = st.columns([3, 2])
with left:
    st.subheader("Layers")
    layer_editor(check.error.layer_index if check.error else None, warned)
    if not st.session_state["layers"]:
        st.info("The stack is empty: load a preset or add a layer.")

# Re-check with this run's widget values (the editor may have changed them).
check = check_model_partial({"layers": st.session_state["layers"]}, dataset)
error, built = check.error, check.built
st.session_state["spec_valid"] = error is None

with right:
    st.subheader("Shapes and parameters")
    if check.rows:
        st.dataframe(
            shape_rows(check),
            hide_index=True,
            column_config={"params": st.column_config.TextColumn(alignment="right")},
        )
    if error is not None:
        st.error(str(error), icon="🔴")
        st.caption("Training is disabled until the stack is fixed.")
    elif built is not None:
        st.metric("Total parameters", f"{built.total_params:,}")
        for warning in built.warnings:
            st.warning(str(warning), icon="⚠️")
        for note in built.notes:
            st.info(note)
        st.graphviz_chart(
            architecture_dot(built, input_label=f"input {tuple(dataset.input_shape)}")
        )

st.divider()
st.subheader("Export and import")
spec_ok = error is None and st.session_state["layers"]
c1, c2, c3 = st.columns(3)
spec_json = json.dumps({"layers": st.session_state["layers"]}, indent=2)
c1.download_button("Spec as JSON", spec_json, file_name="model_spec.json", mime="application/json")
if spec_ok:
    source = export_pytorch_source(ModelSpec.parse({"layers": st.session_state["layers"]}), dataset)
    c2.download_button("PyTorch source", source, file_name="model.py", mime="text/x-python")
imported = c3.file_uploader("Import a spec (JSON)", type=["json"])
if imported is not None and st.button("Use imported spec"):
    try:
        set_layers(
            ModelSpec.parse(imported.getvalue().decode("utf-8", "replace")).model_dump()["layers"]
        )
        st.rerun()
    except PlaygroundError as exc:
        show_error(exc)

with st.expander("Edit as text"):
    try:
        current_text = format_layers(ModelSpec.parse({"layers": st.session_state["layers"]}))
    except PlaygroundError:
        current_text = ""
    text = st.text_area(
        "Layer shorthand", value=current_text, help="e.g. linear:32 relu linear:32 relu linear"
    )
    if st.button("Apply text"):
        try:
            set_layers(parse_layers(text).model_dump()["layers"])
            st.rerun()
        except PlaygroundError as exc:
            show_error(exc)

next_step(
    "build",
    None
    if error is None
    else "Fix the layer marked in red first: training needs a stack that fits the data.",
)
