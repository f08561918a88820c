"""One widget per typed parameter, shared by the dataset, layer and training forms: the
engine's type annotations (pydantic fields, builder signatures) decide the widget."""

from __future__ import annotations

import typing
from typing import Any

import streamlit as st


def typed_input(label: str, annotation: Any, value: Any, key: str, help: str | None = None) -> Any:
    """Draw the widget that fits `annotation` and return its value.

    Literal -> selectbox, bool -> checkbox, int/float -> number box, tuple/list -> comma-separated
    text; anything else (optional numbers, int-or-"same") is free text, empty meaning None.
    """
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        options = list(args)
        index = options.index(value) if value in options else 0
        return st.selectbox(label, options, index=index, key=key, help=help)
    if annotation is bool:
        return st.checkbox(label, value=bool(value), key=key, help=help)
    if annotation is int:
        return int(st.number_input(label, value=int(value), step=1, key=key, help=help))
    if annotation is float:
        return float(st.number_input(label, value=float(value), format="%g", key=key, help=help))
    if origin in (tuple, list):
        text = st.text_input(
            label, ", ".join(map(str, value or [])), key=key, help=help or "comma-separated"
        )
        return [part.strip() for part in text.split(",") if part.strip()]
    optional = type(None) in args
    hint = " (empty: automatic/off)" if optional else ""
    text = st.text_input(
        label, "" if value is None else str(value), key=key, help=(help or "") + hint or None
    )
    return _scalar(text.strip(), args, optional)


def _scalar(text: str, args: tuple[Any, ...], optional: bool) -> Any:
    """Text to the first type of a union it parses as; bad numbers stay text, so the engine's
    validation names the field."""
    if not text:
        return None if optional else text
    for cast in (int, float):
        if cast in args:
            try:
                return cast(text)
            except ValueError:
                continue
    return text
