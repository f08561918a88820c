"""The Train page's augmentation controls: one strength per augmentation that suits the
dataset (0 = off), and a preview of what training will see with them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from playground.charts.augment import augment_grid, augment_scatter
from playground.data.dataset import Dataset
from playground.errors import PlaygroundError
from playground.train.augment import suited
from playground.train.augment.preview import augment_preview
from playground.train.augment.registry import KIND_WORDS


def augment_inputs(dataset: Dataset, current: Mapping[str, float]) -> dict[str, float]:
    """One number box per augmentation that suits `dataset` and the session's mode; returns
    the ones switched on (strength > 0) as config["augment"]."""
    mode = st.session_state.get("mode", "supervised")
    if mode != "supervised":
        st.caption(f"Augmentation applies to supervised training; this run's mode is {mode}.")
        return {}
    fits = suited(dataset.kind, dataset.task)
    if not fits:
        st.caption(f"No augmentation suits {KIND_WORDS.get(dataset.kind, dataset.kind)} yet.")
        return {}
    st.caption(
        "Random changes to each training batch (never to validation or test data), so the "
        "model learns what does not matter. 0 = off. Training accuracy is then measured on "
        "changed examples and may sit below validation accuracy."
    )
    chosen: dict[str, float] = {}
    cols = st.columns(3)
    for i, aug in enumerate(fits):
        value = float(current.get(aug.name, 0.0))
        label, key, help_text = f"{aug.title} ({aug.unit})", f"aug_{aug.name}", aug.help
        with cols[i % 3]:
            if aug.whole:
                strength: float = st.number_input(
                    label, 0, int(aug.limit), int(value), 1, key=key, help=help_text
                )
            else:
                strength = st.number_input(
                    label, 0.0, aug.limit, value, aug.step, format="%g", key=key, help=help_text
                )
        if strength:
            chosen[aug.name] = float(strength)
    return chosen


def augment_preview_chart(dataset: Dataset, config: Mapping[str, Any]) -> None:
    """Draw augmented training samples for the config's augmentation (nothing when off)."""
    augment = config.get("augment") or {}
    if not augment:
        return
    try:
        preview = augment_preview(dataset, augment, seed=int(config.get("seed") or 0))
    except PlaygroundError as exc:
        st.warning(f"{exc.message} {exc.hint}".strip())
        return
    if preview is None:
        return
    if preview.kind == "image":
        x = dataset.train.x
        figure = augment_grid(
            preview.originals,
            preview.augmented,
            preview.names,
            (float(x.min()), float(x.max())),
        )
    else:
        figure = augment_scatter(
            preview.originals, preview.augmented, preview.names, dataset.feature_names
        )
    st.plotly_chart(figure, key="augment_preview")
