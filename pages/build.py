"""Build page: assemble the layer stack and see every layer's output shape before training."""

from __future__ import annotations

import json

import streamlit as st

from playground.charts.architecture import architecture_dot
from playground.errors import PlaygroundError, SpecError
from playground.model import LAYERS, ModelSpec, check_model
from playground.model.codegen import export_pytorch_source
from playground.model.presets import PRESETS
from playground.model.shorthand import format_layers, parse_layers
from ui.layer_editor import add_layer, layer_editor, set_layers
from ui.state import current_dataset, show_error

st.title("Build")
dataset = current_dataset()
if dataset is None:
    st.stop()
st.caption(
    f"Dataset **{dataset.name}**: input {tuple(dataset.input_shape)}, {dataset.task}, "
    f"{dataset.num_outputs} output{'s' if dataset.num_outputs > 1 else ''}."
)

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
    if st.button("Add layer"):
        add_layer(kind)
        st.rerun()

# Check before drawing the editor so the layer at fault can be marked in it.
error: SpecError | None = None
built = None
try:
    built = check_model({"layers": st.session_state["layers"]}, dataset)
except SpecError as exc:
    error = exc

left, right = st.columns([3, 2])
with left:
    st.subheader("Layers")
    layer_editor(error.layer_index if error else None)
    if not st.session_state["layers"]:
        st.info("The stack is empty: load a preset or add a layer.")

# Re-check with this run's widget values (the editor may have changed them).
error, built = None, None
try:
    built = check_model({"layers": st.session_state["layers"]}, dataset)
except SpecError as exc:
    error = exc
st.session_state["spec_valid"] = error is None

with right:
    st.subheader("Shapes and parameters")
    if error is not None:
        st.error(str(error), icon="🔴")
        st.caption("Training is disabled until the stack is fixed.")
    elif built is not None:
        rows = [
            {
                "#": r.index,
                "layer": "  " * r.depth + r.label,
                "output": r.as_dict()["output"],
                "params": r.params,
            }
            for r in built.rows
        ]
        st.dataframe(rows, hide_index=True)
        st.metric("Total parameters", f"{built.total_params:,}")
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
