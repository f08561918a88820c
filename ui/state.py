"""Session defaults and cached engine objects shared across pages and reruns."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from playground.data import Dataset, load_dataset
from playground.errors import PlaygroundError
from playground.jobs import JobRegistry, default_registry
from playground.model.presets import PRESETS
from playground.store import RunStore
from playground.train import TrainConfig


def init_state() -> None:
    """Give a new session a working setup: the spiral, a small MLP, default training."""
    ss = st.session_state
    ss.setdefault("dataset", {"name": "spiral", "params": {}})
    ss.setdefault("layers", PRESETS["mlp"].spec().model_dump()["layers"])
    ss.setdefault("config", TrainConfig(epochs=100).model_dump())
    ss.setdefault("job_id", None)


@st.cache_resource(max_entries=16, show_spinner="Loading the dataset...")
def _dataset(name: str, params_json: str) -> Dataset:
    return load_dataset(name, **json.loads(params_json))


def get_dataset(name: str, params: dict[str, Any]) -> Dataset:
    """A dataset shared by every session (read-only); raises PlaygroundError on bad input."""
    return _dataset(name, json.dumps(params, sort_keys=True))


def current_dataset() -> Dataset | None:
    """The session's dataset, or None after showing why it cannot be loaded."""
    chosen = st.session_state["dataset"]
    try:
        return get_dataset(chosen["name"], chosen["params"])
    except PlaygroundError as exc:
        show_error(exc)
        return None


def registry() -> JobRegistry:
    return default_registry()


def store() -> RunStore:
    return registry().store


def show_error(exc: PlaygroundError) -> None:
    st.error(exc.message + (f"\n\n{exc.hint}" if exc.hint else ""), icon="⚠️")
