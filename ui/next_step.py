"""The line every page ends with: the natural next thing to do, as a link to its page."""

from __future__ import annotations

import streamlit as st

# Each page's next step, in the order a first visit goes through them.
NEXT_STEPS: dict[str, tuple[str, str, str]] = {
    "learn": ("app_pages/data.py", "Next: pick data and build your own", ":material/dataset:"),
    "data": ("app_pages/build.py", "Next: build a model for this data", ":material/construction:"),
    "build": ("app_pages/train.py", "Next: train this model", ":material/model_training:"),
    "train": ("app_pages/inspect.py", "Next: look inside the trained model", ":material/biotech:"),
    "runs": ("app_pages/inspect.py", "Next: inspect a run", ":material/biotech:"),
    "inspect": ("app_pages/explain.py", "Next: explain its predictions", ":material/lightbulb:"),
    "explain": ("app_pages/fairness.py", "Next: audit it for fairness", ":material/balance:"),
    "fairness": ("app_pages/runs.py", "Next: compare this run with others", ":material/history:"),
    "train_generative": (
        "app_pages/generative.py",
        "Next: look inside the generative model",
        ":material/auto_awesome:",
    ),
    "generative": ("app_pages/runs.py", "Next: compare this run with others", ":material/history:"),
}


def next_step(page: str, note: str | None = None) -> None:
    """Draw the page's next step at its end; `note` adds why (e.g. what to try first)."""
    target, label, icon = NEXT_STEPS[page]
    st.divider()
    st.page_link(target, label=label, icon=icon)
    if note:
        st.caption(note)
