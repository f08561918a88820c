"""Training options drawn from TrainConfig's fields (one registry drives CLI and app alike)."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

import streamlit as st

from playground.train import TrainConfig
from playground.train.device import available_devices
from playground.train.samplers import SAMPLERS
from ui.augment_preview import augment_inputs
from ui.widgets import typed_input

if TYPE_CHECKING:
    from playground.data.dataset import Dataset

GROUPS = {
    "Optimiser": ["optimizer", "lr", "momentum", "nesterov", "batch_size", "epochs"],
    "Loss and regularisation": [
        "loss",
        "l1",
        "l2",
        "grad_clip",
        "class_weighting",
        "sampler",
        "reweigh",
    ],
    "Schedule and stopping": [
        "schedule",
        "step_size",
        "gamma",
        "plateau_patience",
        "early_stopping_patience",
        "early_stopping_min_delta",
        "stop_when_not_learning",
    ],
    "Reproducibility and hardware": ["seed", "device", "cpu_threads", "record_every"],
}


def _input(name: str, value: Any, sensitive: list[str]) -> Any:
    info = TrainConfig.model_fields[name]
    annotation = info.annotation
    label, key, help_text = TrainConfig.title(name), f"cfg_{name}", info.description
    if name == "reweigh":
        # A choice among the data's sensitive columns, not free text.
        options = [None, *sensitive]
        return st.selectbox(
            label,
            options,
            index=options.index(value) if value in options else 0,
            format_func=lambda a: "no reweighing" if a is None else a,
            key=key,
            help=help_text,
            disabled=not sensitive,
        )
    if name == "sampler":
        # The engine's choices (the Literal), each said in words.
        choices = list(typing.get_args(annotation))
        return st.selectbox(
            label,
            choices,
            index=choices.index(value) if value in choices else 0,
            format_func=lambda s: SAMPLERS[s].title,
            key=key,
            help=help_text,
        )
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
    return typed_input(label, annotation, value, key, help_text)


def training_options(
    sensitive: list[str] | None = None, dataset: Dataset | None = None
) -> dict[str, Any]:
    """Draw the option groups and return the chosen config as a dict (validated later).
    `sensitive`: the dataset's sensitive attributes, which reweighing can balance;
    `dataset`: the data to offer augmentations for (none without it)."""
    current = {**TrainConfig().model_dump(), **st.session_state["config"]}
    chosen: dict[str, Any] = {}
    for title, names in GROUPS.items():
        with st.expander(title, expanded=title == "Optimiser"):
            cols = st.columns(3)
            for i, name in enumerate(names):
                with cols[i % 3]:
                    chosen[name] = _input(name, current[name], sensitive or [])
    chosen["augment"] = {}
    if dataset is not None:
        with st.expander("Augmentation", expanded=bool(current["augment"])):
            chosen["augment"] = augment_inputs(dataset, current["augment"])
    st.session_state["config"] = chosen
    return chosen
