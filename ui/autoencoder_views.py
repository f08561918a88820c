"""The autoencoder views of the Generative page: live (from the worker's view of a training
run) and full (from the stored weights)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from playground.analysis import autoencoder as ae
from playground.charts import autoencoder as charts
from playground.data import Dataset
from playground.errors import PlaygroundError
from playground.markup import escape_markdown
from playground.runner import LoadedRun
from playground.train.modes.autoencoder import anomaly_class

INTERPOLATION_STEPS = 9
POSTERIOR_ROWS = 30  # samples whose code distributions are drawn
GRID_STEPS = 12


def pairs_view(
    dataset: Dataset, rows: list[int], originals: np.ndarray, rebuilt: np.ndarray
) -> None:
    """Originals beside reconstructions: images as images, rows as a table."""
    if dataset.kind == "image":
        st.plotly_chart(
            charts.reconstruction_grid(originals, rebuilt, [f"row {r}" for r in rows]),
            key="ae_pairs",
        )
        return
    names = list(dataset.feature_names)[: originals.reshape(len(rows), -1).shape[1]]
    index = pd.Index(rows, name="test row")
    st.caption("As the model sees them (standardised): each row, then what the decoder rebuilt.")
    left, right = st.columns(2)
    left.dataframe(pd.DataFrame(originals.reshape(len(rows), -1), index=index, columns=names))
    right.dataframe(pd.DataFrame(rebuilt.reshape(len(rows), -1), index=index, columns=names))


def live_view(view: dict[str, Any], dataset: Dataset) -> None:
    """What the worker sent with its last update: codes and a few reconstructions."""
    left, right = st.columns(2)
    left.plotly_chart(
        charts.latent_scatter(
            view["points"], view["labels"], dataset.class_names, view["explained_variance"]
        ),
        key="ae_live_latent",
    )
    with right:
        pairs_view(dataset, view["rows"], view["originals"], view["reconstructions"])


def full_view(run: LoadedRun) -> None:
    """Every autoencoder view of a stored run."""
    dataset, mode = run.dataset, run.record.mode
    encoder, decoder = run.modules["encoder"], run.modules["decoder"]
    options = run.record.request.get("mode_options", {})
    codes = ae.latent_codes(encoder, dataset, "test", mode)
    rows = list(range(min(8, len(dataset.test))))
    originals, rebuilt = ae.reconstructions(encoder, decoder, dataset, "test", rows)
    st.subheader("Originals and reconstructions")
    pairs_view(dataset, rows, originals, rebuilt)
    st.subheader("The latent space")
    st.plotly_chart(
        charts.latent_scatter(
            codes.points, codes.labels, dataset.class_names, codes.explained_variance
        ),
        key="ae_latent",
    )
    if codes.codes.shape[1] == 2:
        grid = ae.latent_grid(
            decoder, ae.code_bounds(codes.points), GRID_STEPS, shape=dataset.input_shape
        )
        st.plotly_chart(
            charts.decoded_plane(grid.xs, grid.ys, grid.decoded, dataset.kind == "image"),
            key="ae_plane",
        )
    if mode == "vae" and codes.codes.shape[1] == 2:
        st.subheader("The reparameterisation")
        rows_shown = list(range(min(POSTERIOR_ROWS, len(dataset.test))))
        post = ae.posterior(encoder, dataset, "test", rows_shown, mode=mode)
        st.plotly_chart(charts.posterior_chart(post, dataset.class_names), key="ae_posterior")
        st.caption(
            "The encoder gives each sample a mean and a spread (sigma), not one code. Training "
            "draws the code as mean + sigma × noise, so the decoder must rebuild the sample from "
            "anywhere in its ellipse (2 sigma drawn), and the KL term pulls every ellipse "
            "towards N(0, 1). That is what lets samples of N(0, 1) decode into new inputs."
        )
    st.subheader("Interpolation between two samples")
    n = len(dataset.test)
    left, right = st.columns(2)
    a = int(left.number_input("From test row", 0, n - 1, 0, key="ae_from"))
    b = int(right.number_input("To test row", 0, n - 1, min(1, n - 1), key="ae_to"))
    x = dataset.test.x
    path = ae.interpolate(encoder, decoder, x[a], x[b], INTERPOLATION_STEPS)
    if dataset.kind == "image":
        st.plotly_chart(charts.interpolation_strip(path), key="ae_interp")
    else:
        st.dataframe(pd.DataFrame(path.reshape(len(path), -1)), key="ae_interp_table")
    anomaly = anomaly_class(dataset, options)
    if anomaly is not None and dataset.is_classification:
        st.subheader("Anomaly detection")
        name = (dataset.class_names or [])[int(anomaly)]
        how = (
            "was held out of training: the autoencoder never learnt to rebuild it"
            if options.get("anomaly_class") is not None
            else "is made of rows whose features each come from a different real row: "
            "every value is ordinary, their combination is not"
        )
        st.caption(
            f"Class {escape_markdown(name, streamlit=True)} {how}, so its reconstruction "
            "error is an anomaly score. The Explain page attributes that score to the input "
            "features."
        )
        scores = ae.anomaly_scores(encoder, decoder, dataset, "test")
        is_anomaly = dataset.test.y.numpy() == int(anomaly)
        try:
            fpr, tpr, auc = ae.anomaly_roc(scores, is_anomaly)
        except PlaygroundError as exc:
            st.info(escape_markdown(exc.message, streamlit=True))
        else:
            st.plotly_chart(
                charts.anomaly_charts(scores, is_anomaly, fpr, tpr, auc), key="ae_anomaly"
            )
