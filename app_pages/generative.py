"""Generative page: look inside autoencoder and GAN runs, live while they train (the worker
sends each update's view) and in full from the stored weights once they finish."""

from __future__ import annotations

import streamlit as st

from playground.store import RunRecord
from playground.train.modes.autoencoder import AUTOENCODER_NAMES
from ui.next_step import next_step
from ui.run_picker import pick_run
from ui.state import get_dataset, registry

GENERATIVE = (*AUTOENCODER_NAMES, "gan")
LIVE_SECONDS = 1.5


def _fits(record: RunRecord) -> str | None:
    if record.mode in GENERATIVE:
        return None
    return (
        f"This page shows autoencoder and GAN runs; this one is {record.mode}. Choose what to "
        "train on the Build page, or open this run on Inspect."
    )


st.title("Generative")
loaded = pick_run(accept=_fits)
if loaded is None:
    st.caption("Train an autoencoder or a GAN: choose it under 'What to train' on the Build page.")
    next_step("generative")
    st.stop()

record = loaded.record
snapshot = registry().snapshot(record.id)
active = snapshot is not None and snapshot.active


@st.fragment(run_every=LIVE_SECONDS if active else None)
def live(run_id: str) -> None:
    snap = registry().snapshot(run_id)
    if snap is None or snap.view is None:
        st.caption("The views appear after the first epoch.")
        return
    if active and not snap.active:
        st.rerun()  # finished: the full views from the stored weights
    st.progress(
        snap.progress, text=f"Run {run_id} · {snap.status} · epoch {snap.epoch}/{snap.epochs}"
    )
    dataset = get_dataset(snap.dataset, snap.dataset_params)
    if snap.view.get("kind") == "autoencoder":
        from ui.autoencoder_views import live_view

        live_view(snap.view, dataset)
    else:
        from ui.gan_views import live_view

        live_view(snap.view, dataset, run_id)


if active:
    live(record.id)
elif record.mode in AUTOENCODER_NAMES:
    from ui.autoencoder_views import full_view

    full_view(loaded)
else:
    from ui.gan_views import full_view

    full_view(loaded)
next_step("generative")
