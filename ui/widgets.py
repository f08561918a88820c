"""Widgets generated from the engine's registries and pydantic models."""

from __future__ import annotations

from typing import Any

import streamlit as st


def param_input(label: str, default: Any, value: Any, key: str, help: str | None = None) -> Any:
    """One input widget chosen by the type of the default value."""
    if isinstance(default, bool):
        return st.checkbox(label, value=bool(value), key=key, help=help)
    if isinstance(default, int):
        return int(st.number_input(label, value=int(value), step=1, key=key, help=help))
    if isinstance(default, float):
        return float(st.number_input(label, value=float(value), format="%g", key=key, help=help))
    if isinstance(default, (tuple, list)):
        text = st.text_input(
            label, value=", ".join(map(str, value or [])), key=key, help=help or "comma-separated"
        )
        return [part.strip() for part in text.split(",") if part.strip()]
    if default is None:
        text = st.text_input(
            label,
            value="" if value is None else str(value),
            key=key,
            help=help or "empty for automatic",
        )
        return _number_or_none(text)
    return st.text_input(label, value=str(value), key=key, help=help)


def _number_or_none(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text
