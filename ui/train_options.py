"""Training options drawn from TrainConfig's fields (one registry drives CLI and app alike)."""

from __future__ import annotations

import typing
from typing import Any

import streamlit as st

from playground.train import TrainConfig
from playground.train.device import available_devices

GROUPS = {
    "Optimiser": ["optimizer", "lr", "momentum", "nesterov", "batch_size", "epochs"],
    "Loss and regularisation": ["loss", "l1", "l2", "grad_clip", "class_weighting"],
    "Schedule and stopping": [
        "schedule",
        "step_size",
        "gamma",
        "plateau_patience",
        "early_stopping_patience",
        "early_stopping_min_delta",
    ],
    "Reproducibility and hardware": ["seed", "device", "cpu_threads", "record_every"],
}


def _input(name: str, value: Any) -> Any:
    info = TrainConfig.model_fields[name]
    annotation, args = info.annotation, typing.get_args(info.annotation)
    label, key, help_text = name.replace("_", " "), f"cfg_{name}", info.description
    if name == "device":
        devices = {
            "auto": "auto (best available)",
            **{d.name: d.label for d in available_devices()},
        }
        options = list(devices)
        return st.selectbox(
            label,
            options,
            index=options.index(value) if value in options else 0,
            format_func=devices.__getitem__,
            key=key,
            help="Only devices this machine really has.",
        )
    if typing.get_origin(annotation) is typing.Literal:
        options = list(args)
        return st.selectbox(label, options, index=options.index(value), key=key, help=help_text)
    if annotation is bool:
        return st.checkbox(label, value=bool(value), key=key, help=help_text)
    if annotation is int:
        return int(st.number_input(label, value=int(value), step=1, key=key, help=help_text))
    if annotation is float:
        return float(
            st.number_input(label, value=float(value), format="%g", key=key, help=help_text)
        )
    # Optional numbers (grad_clip, early stopping): off when empty.
    text = st.text_input(
        label,
        value="" if value is None else str(value),
        key=key,
        help=(help_text or "") + " (empty: off)",
    )
    text = text.strip()
    if not text:
        return None
    return float(text) if float in args else int(float(text))


def training_options() -> dict[str, Any]:
    """Draw the option groups and return the chosen config as a dict (validated later)."""
    current = {**TrainConfig().model_dump(), **st.session_state["config"]}
    chosen: dict[str, Any] = {}
    for title, names in GROUPS.items():
        with st.expander(title, expanded=title == "Optimiser"):
            cols = st.columns(3)
            for i, name in enumerate(names):
                with cols[i % 3]:
                    try:
                        chosen[name] = _input(name, current[name])
                    except ValueError:
                        st.error(f"{name.replace('_', ' ')} must be a number.")
                        chosen[name] = current[name]
    st.session_state["config"] = chosen
    return chosen
