"""The Build page for modes with several modules (autoencoders, GANs): one tab per module with
its stack in the same layer boxes as the supervised model's (and as shorthand text), its own
shape table, the mode's options, and "mirror the encoder" for decoders."""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground.data import Dataset
from playground.errors import PlaygroundError
from playground.markup import escape_markdown
from playground.model import LAYERS, ModelCheck, ModelSpec, check_model_partial
from playground.model.export_modules import export_module_sources
from playground.model.mirror import mirror_layers
from playground.model.shorthand import format_layers, parse_layers
from playground.train import TrainConfig
from playground.train.modes import get_mode
from ui.layer_editor import StackSlot, add_layer, layer_editor, position_choices, set_layers
from ui.shape_table import shape_rows
from ui.widgets import typed_input


def mode_options(mode: str) -> dict[str, Any]:
    """The session's options for `mode`, drawn as widgets (defaults from the mode)."""
    cls = get_mode(mode)
    saved = st.session_state.setdefault("mode_options", {}).get(mode, {})
    chosen: dict[str, Any] = {}
    names = list(cls.option_defaults)
    columns = st.columns(min(len(names), 4) or 1)
    for i, name in enumerate(names):
        default = cls.option_defaults[name]
        value = saved.get(name, default)
        label, key = name.replace("_", " "), f"mode_{mode}_{name}"
        with columns[i % len(columns)]:
            if name in cls.option_choices:
                options = list(cls.option_choices[name])
                index = options.index(value) if value in options else 0
                chosen[name] = st.selectbox(label, options, index=index, key=key)
            elif default is None:
                chosen[name] = typed_input(label, int | None, value, key)
            else:
                chosen[name] = typed_input(label, type(default), value, key)
    st.session_state["mode_options"][mode] = chosen
    return chosen


def apply_suggestions(mode: str) -> None:
    """Set the training options `mode` needs (e.g. a GAN's small learning rate), where the
    session still has TrainConfig's default, and say so on the next run of the page."""
    cls = get_mode(mode)
    config = st.session_state["config"]
    changed = []
    for name, value in cls.suggested_config.items():
        if config.get(name, TrainConfig.model_fields[name].default) == (
            TrainConfig.model_fields[name].default
        ):
            config[name] = value
            st.session_state[f"cfg_{name}"] = value  # the Train page's widget, if drawn before
            changed.append(f"{TrainConfig.title(name)} {value:g}")
    if changed:
        st.session_state["suggested_note"] = f"Set {', '.join(changed)}. {cls.suggestion_reason}"


def module_layers(mode: str) -> dict[str, list[dict[str, Any]]]:
    """The session's stack per module of `mode`, starting from the mode's default stacks."""
    cls = get_mode(mode)
    stacks = st.session_state.setdefault("module_layers", {}).setdefault(mode, {})
    for name in cls.module_names:
        if name not in stacks:
            text = cls.default_stacks.get(name, "linear")
            stacks[name] = parse_layers(text).model_dump()["layers"]
    return stacks


def module_checks(dataset: Dataset, mode: str, options: dict[str, Any]) -> dict[str, ModelCheck]:
    """Each module's check against what the mode feeds it; errors name the module."""
    cls = get_mode(mode)
    stacks = module_layers(mode)
    specs = {}
    for name in cls.module_names:
        try:
            specs[name] = ModelSpec.parse({"layers": stacks[name]})
        except PlaygroundError:
            specs[name] = ModelSpec.parse({"layers": []})  # its own check reports the error
    signatures = cls.signatures(dataset, specs, options)
    return {
        name: check_model_partial({"layers": stacks[name]}, signatures[name])
        for name in cls.module_names
    }


def module_editor(dataset: Dataset, mode: str) -> bool:
    """Options, then one tab per module (its shorthand, shape table and errors naming the
    module); returns whether every module checks."""
    note = st.session_state.pop("suggested_note", None)
    if note:
        st.info(escape_markdown(note, streamlit=True))
    st.subheader("Options")
    try:
        options = mode_options(mode)
    except PlaygroundError as exc:
        st.error(escape_markdown(str(exc), streamlit=True), icon="🔴")
        return False
    if mode == "vae":
        st.caption(
            "The encoder outputs twice the latent size: a mean and a log-variance per code "
            "dimension. Training draws each code as mean + sigma × noise (the "
            "reparameterisation), so the gradient reaches the encoder through the noise."
        )
    stacks = module_layers(mode)
    ids = st.session_state.setdefault("module_layer_ids", {})
    # Checked before the editors are drawn, to mark each module's layer at fault in its boxes.
    try:
        before = module_checks(dataset, mode, options)
    except PlaygroundError:
        before = {}
    tables = {}
    for name, tab in zip(stacks, st.tabs(list(stacks)), strict=True):
        with tab:
            left, right = st.columns([3, 2])
            slot = StackSlot(stacks, name, ids, f"{mode}.{name}")
            with left:
                _module_stack(mode, name, slot, stacks, before.get(name))
            tables[name] = right.container()
    # Checked after every editor is read, so each table shows the stack as edited now.
    try:
        checks = module_checks(dataset, mode, options)
    except PlaygroundError as exc:
        st.error(escape_markdown(str(exc), streamlit=True), icon="🔴")
        return False
    for name, check in checks.items():
        with tables[name]:
            st.dataframe(shape_rows(check), hide_index=True)
            st.metric(f"{name} parameters", f"{sum(r.params for r in check.ok_rows()):,}")
            if check.error is not None:
                st.error(f"{name}: {escape_markdown(str(check.error), streamlit=True)}", icon="🔴")
    ok = all(c.error is None for c in checks.values())
    if not ok:
        st.caption("Training is disabled until every module checks.")
        return False
    specs = {name: ModelSpec.parse({"layers": layers}) for name, layers in stacks.items()}
    sources = export_module_sources(mode, dataset, specs, options)
    st.caption("PyTorch source of each module (a stored run's weights load into them):")
    for column, (file_name, source) in zip(st.columns(len(sources)), sources.items(), strict=True):
        column.download_button(
            file_name, source, file_name=file_name, mime="text/x-python", on_click="ignore"
        )
    return True


def _module_stack(
    mode: str,
    name: str,
    slot: StackSlot,
    stacks: dict[str, list[dict[str, Any]]],
    check: ModelCheck | None,
) -> None:
    """One module's stack in the same boxes as the supervised model's, with "mirror the
    encoder" for a decoder, a row to add a layer, and the stack as shorthand text."""
    if (
        name == "decoder"
        and "encoder" in stacks
        and st.button("Mirror the encoder", key=f"mirror_{mode}", help="Its widths in reverse.")
    ):
        set_layers(mirror_layers(stacks["encoder"]), slot)
        st.rerun()
    error = check.error if check is not None else None
    layer_editor(error.layer_index if error is not None else None, slot=slot)
    kind_column, where_column, button_column = st.columns([2, 2, 1], vertical_alignment="bottom")
    kind = kind_column.selectbox(
        f"Add to the {name}",
        list(LAYERS),
        format_func=lambda k: LAYERS[k].title,
        key=f"add_kind_{mode}_{name}",
    )
    choices = position_choices(slot.layers)
    where = where_column.selectbox("Where", list(choices), key=f"add_where_{mode}_{name}")
    if button_column.button("Add layer", key=f"add_{mode}_{name}"):
        add_layer(kind, choices[where], slot)
        st.rerun()
    with st.expander(f"Edit the {name} as text"):
        text = st.text_area(
            f"{name} layers (shorthand)",
            value=format_layers(ModelSpec.parse({"layers": slot.layers})),
            key=f"stack_{mode}_{name}_{'-'.join(map(str, slot.ids))}",
            help="e.g. linear:64 relu linear — the last layer's size is set by the mode",
        )
        if st.button("Apply text", key=f"apply_{mode}_{name}"):
            try:
                set_layers(parse_layers(text).model_dump()["layers"], slot)
                st.rerun()
            except PlaygroundError as exc:
                st.error(f"{name}: {escape_markdown(str(exc), streamlit=True)}", icon="🔴")
