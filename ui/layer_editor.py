"""The layer-stack editor: one bordered box per layer with its parameters and move/copy/delete
buttons. Each layer carries a stable id so its widgets keep their values when it moves."""

from __future__ import annotations

import itertools
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from playground.errors import PlaygroundError
from playground.model import LAYERS, ModelSpec
from playground.model.output_layer import insert_position, output_layer_index
from playground.model.shorthand import format_layers, parse_layers
from ui.widgets import typed_input

_ids = itertools.count(1)


@dataclass
class StackSlot:
    """Where one editable stack lives in the session: `holder[key]` holds its layers and
    `id_holder[id_key]` their widget ids. The supervised model is `main_slot()`; each module
    of an autoencoder or GAN has a slot of its own, so one editor serves every stack."""

    holder: MutableMapping[str, Any]
    key: str
    id_holder: MutableMapping[str, Any]
    id_key: str

    @property
    def layers(self) -> list[dict[str, Any]]:
        return self.holder[self.key]

    @layers.setter
    def layers(self, value: list[dict[str, Any]]) -> None:
        self.holder[self.key] = value

    @property
    def ids(self) -> list[int]:
        """One stable id per layer (re-made when the stack changed behind the editor)."""
        ids = self.id_holder.get(self.id_key)
        if ids is None or len(ids) != len(self.layers):
            ids = [next(_ids) for _ in self.layers]
            self.id_holder[self.id_key] = ids
        return ids


def main_slot() -> StackSlot:
    """The supervised model's stack (`st.session_state["layers"]`)."""
    return StackSlot(st.session_state, "layers", st.session_state, "layer_ids")


def set_layers(layers: list[dict[str, Any]], slot: StackSlot | None = None) -> None:
    """Replace the whole stack (preset, import, text edit): fresh ids, fresh widgets."""
    slot = slot or main_slot()
    slot.layers = layers
    slot.id_holder[slot.id_key] = [next(_ids) for _ in layers]


def layer_editor(
    error_index: str | None,
    warnings: dict[str, str] | None = None,
    slot: StackSlot | None = None,
) -> None:
    """Draw the stack; buttons change the slot's layers and rerun.

    `error_index` marks the layer at fault (🔴); `warnings` maps a top-level index to a short
    reason, marking a layer that trains badly (🟠) with the reason under its name.
    """
    warnings = warnings or {}
    slot = slot or main_slot()
    layers: list[dict[str, Any]] = slot.layers
    ids = slot.ids
    updated: list[dict[str, Any]] = []
    for i, (layer, uid) in enumerate(zip(layers, ids, strict=True)):
        kind = layer["kind"]
        cls = LAYERS[kind]
        at_fault = error_index is not None and error_index.split(".")[0] == str(i)
        warning = warnings.get(str(i))
        # Colour as well as the dot: the dot alone is lost where no emoji font is installed.
        name = f"**{i} · {cls.title}**"
        mark = (
            f"🔴 :red[{name}]" if at_fault else f"🟠 :orange[{name}]" if warning else f"⚪ {name}"
        )
        with st.container(border=True):
            head, *buttons = st.columns([6, 1, 1, 1, 1])
            head.markdown(mark)
            if warning:
                head.caption(warning)
            if buttons[0].button("↑", key=f"up_{uid}", help="move up", disabled=i == 0):
                _move(slot, i, i - 1)
            if buttons[1].button(
                "↓", key=f"down_{uid}", help="move down", disabled=i == len(layers) - 1
            ):
                _move(slot, i, i + 1)
            if buttons[2].button(
                "", icon=":material/content_copy:", key=f"dup_{uid}", help="duplicate"
            ):
                _duplicate(slot, i)
            if buttons[3].button("✕", key=f"del_{uid}", help="remove"):
                _remove(slot, i)
            fields = [f for f in cls.model_fields if f not in ("kind", "layers")]
            new = {"kind": kind}
            if fields:
                cols = st.columns(min(len(fields), 4))
                for j, name in enumerate(fields):
                    with cols[j % len(cols)]:
                        default = cls.model_fields[name].default
                        new[name] = typed_input(
                            name.replace("_", " "),
                            cls.model_fields[name].annotation,
                            layer.get(name, default),
                            key=f"f_{uid}_{name}",
                        )
            if kind == "residual":
                inner = format_layers(ModelSpec.parse({"layers": layer["layers"]}))
                text = st.text_input(
                    "layers inside the block (shorthand)",
                    value=inner,
                    key=f"res_{uid}",
                    help="e.g. linear:32 relu linear:32 — the block adds its input to their output",
                )
                try:
                    new["layers"] = parse_layers(text).model_dump()["layers"]
                except PlaygroundError as exc:
                    st.error(str(exc))
                    new["layers"] = layer["layers"]
            updated.append(new)
    slot.layers = updated


def _move(slot: StackSlot, i: int, j: int) -> None:
    layers, ids = slot.layers, slot.ids
    layers[i], layers[j] = layers[j], layers[i]
    ids[i], ids[j] = ids[j], ids[i]
    st.rerun()


def _duplicate(slot: StackSlot, i: int) -> None:
    ids = slot.ids
    slot.layers.insert(i + 1, dict(slot.layers[i]))
    ids.insert(i + 1, next(_ids))
    st.rerun()


def _remove(slot: StackSlot, i: int) -> None:
    ids = slot.ids
    del slot.layers[i]
    del ids[i]
    st.rerun()


def position_choices(layers: list[dict[str, Any]]) -> dict[str, int]:
    """Where a new layer can go, as labels -> insert index; the first is the default
    (before the output layer, so a new hidden layer lands inside the network)."""
    kinds = [layer["kind"] for layer in layers]
    choices: dict[str, int] = {}
    out = output_layer_index(kinds)
    if out is not None:
        choices[f"before the output layer ({out})"] = out
    for i, kind in enumerate(kinds):
        choices[f"after layer {i} · {LAYERS[kind].title}"] = i + 1
    choices["at the end"] = len(kinds)
    return choices


def add_layer(kind: str, position: int | None = None, slot: StackSlot | None = None) -> int:
    """Insert a new `kind` layer at `position` (default: before the output layer); returns
    the index it got."""
    layer: dict[str, Any] = {"kind": kind}
    if kind == "residual":
        layer["layers"] = [
            {"kind": "linear", "out_features": 32},
            {"kind": "relu"},
            {"kind": "linear", "out_features": 32},
        ]
    slot = slot or main_slot()
    layers = slot.layers
    ids = slot.ids
    if position is None:
        position = insert_position([d["kind"] for d in layers])
    position = max(0, min(position, len(layers)))
    layers.insert(position, layer)
    ids.insert(position, next(_ids))
    return position
