"""Ensembles & CV page: the session's dataset and model, trained as an ensemble of K members
at once, or cross-validated over K folds.

Like the Train page, this page only submits run requests to the job registry (its executor's
workers train them) and reads what they report; it never holds a training loop.
"""

from __future__ import annotations

import streamlit as st

from playground.errors import PlaygroundError
from playground.runs import RunRequest
from playground.runs.cross_validation import fold_requests
from playground.train.modes.ensemble import MAX_MEMBERS
from ui.ensemble_view import cv_results, ensemble_results
from ui.next_step import next_step
from ui.state import current_dataset, registry, session_setup_caption, show_error

# Every fold waits in the registry's queue at once; more than it holds would be refused.
MAX_PAGE_FOLDS = 10

st.title("Ensembles & CV")
dataset = current_dataset()
if dataset is None:
    st.stop()
registry().warm()

chosen = st.session_state["dataset"]
layers = st.session_state["layers"]
config = st.session_state["config"]
session_setup_caption("")


def base_request(mode_options: dict | None = None) -> RunRequest:
    """The session's run, as the Train page would submit it (supervised), or as an ensemble."""
    fields: dict = {
        "dataset": chosen["name"],
        "dataset_params": chosen["params"],
        "modules": {"model": {"layers": layers}},
        "config": config,
    }
    if mode_options is not None:
        fields.update(mode="ensemble", mode_options=mode_options)
    return RunRequest.parse(fields)


ensemble_tab, cv_tab = st.tabs(["Ensemble", "Cross-validation"])

with ensemble_tab:
    st.markdown(
        "Train **K copies** of your model at once, each from its own initial weights: their "
        "average is usually better than any one of them, and where they disagree the answer "
        "is uncertain."
    )
    c1, c2, c3 = st.columns([1, 1, 1], vertical_alignment="bottom")
    members = c1.number_input(
        "Members (K)", min_value=2, max_value=MAX_MEMBERS, value=5, step=1, key="ens_members"
    )
    bootstrap = c2.checkbox(
        "Bootstrap",
        key="ens_bootstrap",
        help="Train each member on its own resample (with replacement) of the training rows, "
        "as bagging does: the members differ more.",
    )
    if c3.button("Train the ensemble", type="primary", key="ens_start"):
        try:
            request = base_request({"members": int(members), "bootstrap": bool(bootstrap)})
            job = registry().submit(request)
        except PlaygroundError as exc:
            show_error(exc)
        else:
            st.session_state["ens_job"] = job.id
            st.rerun()
    if st.session_state.get("ens_job"):
        ensemble_results(st.session_state["ens_job"])
    else:
        st.info("Press **Train the ensemble**: the members train together in a worker.")

with cv_tab:
    st.markdown(
        "**K-fold cross-validation**: the training and validation rows are pooled and dealt "
        "into K folds; K runs each validate on one fold and train on the rest. The spread of "
        "their scores says how far one validation split can be trusted."
    )
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    folds = c1.number_input(
        "Folds (K)", min_value=2, max_value=MAX_PAGE_FOLDS, value=5, step=1, key="cv_folds"
    )
    if c2.button("Run cross-validation", type="primary", key="cv_start"):
        try:
            _, requests = fold_requests(base_request(), int(folds))
            run_ids = [registry().submit(r).id for r in requests]
        except PlaygroundError as exc:
            show_error(exc)
        else:
            st.session_state["cv_runs"] = run_ids
            st.rerun()
    if st.session_state.get("cv_runs"):
        cv_results(st.session_state["cv_runs"])
    else:
        st.info(
            f"Press **Run cross-validation**: the folds queue for the {registry().max_workers} workers."
        )

next_step("train")
