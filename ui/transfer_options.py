"""Transfer learning on the Train page: start the next run from a stored run (which layers
to copy, which to freeze), see the plan before training, and compare the fine-tuned run with
the same run trained from scratch in one chart."""

from __future__ import annotations

from typing import Any

import streamlit as st
from safetensors.torch import load as load_safetensors

from playground.charts.transfer import transfer_comparison
from playground.data import Dataset
from playground.errors import PlaygroundError
from playground.markup import escape_markdown
from playground.runs import RunRequest, check_request, start_weights
from playground.runs.request import StartFrom
from playground.runs.transfer import plan_transfer
from ui.run_picker import run_label
from ui.state import store

NOT_FROM_A_RUN = "(train from scratch)"


def start_from_options(request: RunRequest, dataset: Dataset) -> tuple[StartFrom | None, bool]:
    """The widgets of the "Start from a stored run" section: (the start, or None; whether
    to also train the same run from scratch to compare)."""
    runs = [r for r in store().list_runs() if store().has_weights(r.id)]
    if not runs:
        st.caption("No stored run has weights yet: train one first, then start from it.")
        return None, False
    labels = {r.id: run_label(r) for r in runs}
    run_id = st.selectbox(
        "Start from",
        [NOT_FROM_A_RUN, *labels],
        format_func=lambda i: labels.get(i, i),
        key="start_from_run",
        help="Copy a stored run's weights into this run's layers where their shapes fit.",
    )
    if run_id == NOT_FROM_A_RUN:
        return None, False
    record = store().get_run(run_id)
    source_module = None
    if len(record.module_specs) > 1:
        names = list(record.module_specs)
        source_module = st.selectbox(
            "Take the stored run's module",
            names,
            index=names.index("encoder") if "encoder" in names else 0,
            key="start_from_module",
            help="An autoencoder's encoder starts a classifier: self-supervised pretraining.",
        )
    try:
        checked = check_request(request, dataset)
    except PlaygroundError:
        return None, False  # the page already says why the model cannot be built
    names = _layers_with_weights(checked.modules)
    left, right = st.columns(2)
    chosen = left.multiselect(
        "Copy these layers (empty: every layer that fits)",
        list(names),
        format_func=lambda k: f"{k} · {names[k]}",
        key="start_from_layers",
    )
    frozen = right.multiselect(
        "Freeze these layers",
        list(names),
        format_func=lambda k: f"{k} · {names[k]}",
        key="start_from_freeze",
        help="Frozen layers keep the stored weights; the rest learn the new data.",
    )
    scale = 0.0
    if frozen:
        scale = st.slider(
            "Frozen layers' learning rate (× the learning rate; 0: frozen)",
            0.0,
            1.0,
            0.0,
            0.05,
            key="start_from_scale",
        )
    start = StartFrom(
        run_id=run_id,
        source_module=source_module,
        layers=chosen or None,
        freeze=frozen,
        frozen_lr_scale=scale,
    )
    try:
        stored = load_safetensors(
            start_weights(request.model_copy(update={"start_from": start}), store())
        )
        plan = plan_transfer(start, checked.modules, stored)
    except PlaygroundError as exc:
        st.error(escape_markdown(str(exc), streamlit=True), icon="🔴")
        return None, False
    copied = ", ".join(
        f"{plan.name(m, i)} · {names.get(plan.name(m, i), '')}" for m, i in plan.copies
    )
    st.caption(f"Copied from the stored run: {escape_markdown(copied, streamlit=True)}.")
    for module, layer, why in plan.new:
        name = plan.name(module, layer)
        text = f"New (fresh weights): {name} · {names.get(name, '')} — {why}."
        st.caption(escape_markdown(text, streamlit=True))
    compare = st.checkbox(
        "Also train the same run from scratch, to compare",
        value=True,
        key="start_from_compare",
        help="Both runs train at once; their validation scores are drawn in one chart.",
    )
    return start, compare


def _layers_with_weights(modules: dict[str, Any]) -> dict[str, str]:
    """Top-level layers that have weights, by the name a start uses ("1", "encoder.1")."""
    single = len(modules) == 1
    names = {}
    for module, built in modules.items():
        keys = {k.split(".", 1)[0] for k in built.module.state_dict()}
        for row in built.rows:
            if row.depth == 0 and row.index in keys:
                # The output layer's width is "auto" in a spec; say what it is here.
                label = row.label.replace("(auto)", f"({row.output_shape[-1]})")
                names[row.index if single else f"{module}.{row.index}"] = label
    return names


def transfer_summary(run_id: str, compare_with: str | None) -> None:
    """Where a run started from, and (when a scratch twin was trained) both curves."""
    try:
        record = store().get_run(run_id)
    except PlaygroundError:
        return
    lineage = record.lineage
    if "started_from" not in lineage:
        return
    parts = [f"started from run {lineage['started_from']}"]
    for key, words in (
        ("copied_layers", "copied"),
        ("new_layers", "new"),
        ("frozen_layers", "frozen"),
    ):
        if lineage.get(key):
            parts.append(f"{words}: {', '.join(lineage[key])}")
    st.caption(escape_markdown("Transfer learning: " + "; ".join(parts) + ".", streamlit=True))
    if compare_with is None:
        return
    try:
        twin = store().get_run(compare_with)
    except PlaygroundError:
        return
    histories = {
        f"fine-tuned ({record.name or record.id})": store().epochs(run_id),
        f"from scratch ({twin.name or twin.id})": store().epochs(compare_with),
    }
    st.plotly_chart(transfer_comparison(histories), key="transfer_compare")
