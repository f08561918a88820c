"""Session defaults and cached engine objects shared across pages and reruns."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from playground.data import Dataset, load_dataset
from playground.errors import PlaygroundError
from playground.jobs import JobRegistry, default_registry
from playground.markup import escape_markdown
from playground.model.presets import PRESETS
from playground.store import RunStore
from playground.store.sessions import SessionSnapshots, new_token
from playground.train import TrainConfig

# What a reload must bring back: the choices, not the widgets' own keys.
KEPT_KEYS = (
    "dataset",
    "layers",
    "config",
    "job_id",
    "mode",
    "mode_options",
    "module_layers",
    "sweep_id",
)


def init_state() -> None:
    """Give a new session a working setup: the spiral, a small MLP, default training.

    A URL with `?s=<token>` (every page sets it) restores what that session had chosen, so a
    reload or a bookmark keeps the dataset, model, options and run.
    """
    ss = st.session_state
    if "session_token" not in ss:
        token = st.query_params.get("s") or ""
        saved = _snapshots().load(token)
        if saved is None:
            token = new_token()
        for key in KEPT_KEYS:
            if saved and key in saved and key not in ss:
                ss[key] = saved[key]
        ss["session_token"] = token
    st.query_params["s"] = ss["session_token"]
    ss.setdefault("dataset", {"name": "spiral", "params": {}})
    ss.setdefault("layers", PRESETS["mlp"].spec().model_dump()["layers"])
    ss.setdefault("config", TrainConfig(epochs=100).model_dump())
    ss.setdefault("job_id", None)


def save_state() -> None:
    """Keep this session's choices under its token (called after every page run)."""
    ss = st.session_state
    if "session_token" in ss:
        _snapshots().save(ss["session_token"], {k: ss[k] for k in KEPT_KEYS if k in ss})


def _snapshots() -> SessionSnapshots:
    return SessionSnapshots(store().root)


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
    # Messages quote user text (column names, file names): shown as typed, never as Markdown.
    text = escape_markdown(exc.message, streamlit=True)
    if exc.hint:
        text += "\n\n" + escape_markdown(exc.hint, streamlit=True)
    st.error(text, icon="⚠️")


def session_setup_caption(purpose: str) -> None:
    """One caption naming the session's dataset, model and epochs, and what this page does
    with them (pages that start runs from the Data, Build and Train pages' choices)."""
    from playground.data.dataset import dataset_title
    from playground.runs.naming import model_summary

    chosen = st.session_state["dataset"]
    try:
        summary = model_summary({"layers": st.session_state["layers"]})
    except (PlaygroundError, KeyError, TypeError):
        summary = "your model"
    epochs = st.session_state["config"].get("epochs", 20)
    st.caption(
        escape_markdown(
            f"{dataset_title(chosen['name'], chosen['params'])} · {summary} · {epochs} epochs: "
            f"the dataset, model and training options chosen on the Data, Build and Train "
            f"pages{purpose}.",
            streamlit=True,
        )
    )
