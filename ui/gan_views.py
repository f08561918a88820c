"""The GAN views of the Generative page: GAN Lab's picture for 2-D data (the discriminator's
field, real and generated samples, the generator's push, modes covered), and rows of generated
images over time for image data; with one training step per click."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from playground.analysis import gan
from playground.charts.autoencoder import image_rows
from playground.charts.gan import coverage_bars, gan_field, gan_losses
from playground.data import Dataset
from playground.runner import LoadedRun
from playground.train.modes.gan import COVERAGE_SAMPLES, covered_threshold
from ui.state import registry, store

REAL_POINTS = 400


def _real(dataset: Dataset) -> np.ndarray:
    x = dataset.train.x.numpy()
    return x[:: max(1, len(x) // REAL_POINTS)]


def _draw(view: dict[str, Any], dataset: Dataset, history: list | None, key: str) -> None:
    if view.get("field") is not None:
        modes = len(dataset.class_names or []) or None
        left, right = st.columns([3, 2])
        left.plotly_chart(gan_field(view, _real(dataset), modes), key=f"{key}_field")
        if view.get("counts") is not None:
            needed = covered_threshold(COVERAGE_SAMPLES, len(view["counts"]))
            right.plotly_chart(
                coverage_bars(view["counts"], dataset.class_names or [], needed),
                key=f"{key}_coverage",
            )
            right.caption(
                f"Of {COVERAGE_SAMPLES} samples from fixed noise, how many land near each mode "
                "of the data. A generator that has collapsed fills only a few bars: it found "
                "outputs that fool the discriminator and stopped exploring."
            )
        return
    rows = history or [(None, view["samples"])]
    images = [(f"epoch {epoch}" if epoch is not None else "now", x[:8]) for epoch, x in rows]
    st.plotly_chart(
        image_rows(images, [f"noise {i}" for i in range(len(images[0][1]))]),
        key=f"{key}_images",
    )
    st.caption("The same fixed noise, decoded by the generator at each point of training.")


def live_view(view: dict[str, Any], dataset: Dataset, run_id: str) -> None:
    """The worker's latest view, and the one-step-per-click control while paused."""
    job = registry().get(run_id)
    if job is not None:
        left, right, _ = st.columns([1, 1, 4])
        if job.control.paused:
            if left.button("One step", key="gan_step", help="Train one batch, then pause."):
                job.step_once()
            if right.button("Resume", key="gan_resume"):
                job.resume()
        elif left.button("Pause to step", key="gan_pause"):
            job.pause()
    snap = registry().snapshot(run_id)
    history = snap.view_history if snap is not None else None
    _draw(view, dataset, history, "gan_live")
    if snap is not None and snap.history:
        st.plotly_chart(gan_losses(snap.history), key="gan_live_losses")


def full_view(run: LoadedRun) -> None:
    """A finished GAN from its stored weights."""
    dataset = run.dataset
    generator, discriminator = run.modules["generator"].module, run.modules["discriminator"].module
    options = run.record.request.get("mode_options", {})
    loss = options.get("loss", "non_saturating")
    noise = int(options.get("noise", run.modules["generator"].input_shape[0]))
    seed = int(run.record.config.get("seed", 0))
    z = gan.gan_noise(noise, seed)
    shape = tuple(dataset.input_shape)
    samples = gan.sample_grid(generator, z, shape)
    view: dict[str, Any] = {"samples": samples.numpy(), "field": None, "arrows": None}
    if dataset.kind == "toy2d" and shape == (2,):
        field = gan.discriminator_field(discriminator, gan.data_bounds(dataset), 60, loss)
        view["field"] = {"xs": field.xs, "ys": field.ys, "values": field.values, "kind": field.kind}
        arrows = gan.generator_gradients(generator, discriminator, z[:80], loss)
        view["arrows"] = {"points": arrows.points, "directions": arrows.directions}
        if dataset.is_classification:
            centres, radius = gan.centres_of(dataset)
            coverage = gan.mode_coverage(samples, centres, radius)
            view["counts"], view["modes_covered"] = coverage.counts, coverage.covered
    else:
        view["samples"] = view["samples"][:16]
    _draw(view, dataset, store().samples_over_time(run.record.id) or None, "gan_full")
    history = store().epochs(run.record.id)
    if history:
        st.plotly_chart(gan_losses(history), key="gan_full_losses")
