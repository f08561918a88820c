"""Data page: pick a built-in dataset or upload a CSV, and see it before training."""

from __future__ import annotations

import streamlit as st

from playground.analysis.data_summary import class_balance, column_summary, dataset_frame
from playground.charts.data import class_balance_chart, image_grid, scatter_2d, sequence_plot
from playground.data import list_datasets
from playground.data.uploads import csv_columns, keep_upload
from playground.errors import PlaygroundError
from ui.state import current_dataset, show_error, store
from ui.widgets import typed_input

UPLOAD = "Upload your own CSV"
KIND_TITLES = {"toy2d": "2D toy", "tabular": "Tabular", "image": "Images", "sequence": "Sequences"}

st.title("Data")
infos = [info for info in list_datasets() if info.name != "csv"]
labels = {f"{KIND_TITLES.get(i.kind, i.kind)} · {i.title}": i for i in infos}
chosen = st.session_state["dataset"]
names = [*labels, UPLOAD]
# The choice is keyed (stable across reruns); it starts from the session's dataset, which
# another page (opening a stored run) may have changed: it then drops this key.
if st.session_state.get("dataset_choice") not in names:
    st.session_state["dataset_choice"] = next(
        (label for label, i in labels.items() if i.name == chosen["name"]), UPLOAD
    )
choice = st.selectbox("Dataset", names, key="dataset_choice")

if choice == UPLOAD:
    upload = st.file_uploader("CSV file", type=["csv"], help="A header row, one example per row.")
    if upload is not None:
        data = upload.getvalue()
        try:
            columns = csv_columns(data)
            target = st.selectbox(
                "Target column (what to predict)", columns, index=len(columns) - 1
            )
            sensitive = st.multiselect(
                "Sensitive columns (for the fairness audit)",
                [c for c in columns if c != target],
                help="Their raw values are kept for the audit; numeric ones are banded. They "
                "stay model features unless you also drop them.",
            )
            if st.button("Use this CSV", type="primary"):
                path = keep_upload(data, store().root)
                params = {"path": str(path), "target": target}
                if sensitive:
                    params["sensitive"] = sensitive
                st.session_state["dataset"] = {"name": "csv", "params": params}
        except PlaygroundError as exc:
            show_error(exc)
    elif chosen["name"] != "csv":
        st.info("Upload a CSV to train on your own data.")
else:
    info = labels[choice]
    st.caption(info.description)
    defaults = info.defaults()
    types = info.parameter_types()
    old = chosen["params"] if chosen["name"] == info.name else {}
    params = {}
    columns = st.columns(min(len(defaults), 4) or 1)
    for i, (name, default) in enumerate(defaults.items()):
        with columns[i % len(columns)]:
            params[name] = typed_input(
                name.replace("_", " "),
                types[name],
                old.get(name, default),
                key=f"ds_{info.name}_{name}",
            )
    changed = {
        k: v for k, v in params.items() if v != defaults[k] and not (v == [] and defaults[k] == ())
    }
    st.session_state["dataset"] = {"name": info.name, "params": changed}

dataset = current_dataset()
if dataset is not None:
    sizes = {s: len(dataset.split(s)) for s in ("train", "val", "test")}
    total = sum(sizes.values())
    cols = st.columns(4)
    cols[0].metric("Task", dataset.task)
    cols[1].metric("Input shape", " × ".join(map(str, dataset.input_shape)))
    cols[2].metric("Examples", f"{total:,}")
    cols[3].metric(
        "Train / val / test", "/".join(f"{100 * n / total:.0f}" for n in sizes.values()) + " %"
    )
    for note in dataset.notes:
        st.info(note)
    if dataset.kind == "toy2d":
        st.plotly_chart(scatter_2d(dataset), key="preview")
    elif dataset.kind == "image":
        st.plotly_chart(image_grid(dataset), key="preview")
    elif dataset.kind == "sequence":
        st.plotly_chart(sequence_plot(dataset), key="preview")
    else:
        frame = dataset_frame(dataset)
        st.subheader("Rows (training split, encoded features)")
        st.dataframe(frame, height=240)
        st.subheader("Columns")
        st.dataframe(column_summary(frame))
    if dataset.sensitive_attributes:
        st.caption(
            "Sensitive attributes (kept for fairness audits): "
            + ", ".join(dataset.sensitive_attributes)
        )
    if dataset.is_classification:
        st.subheader("Class balance")
        left, right = st.columns([2, 1])
        left.plotly_chart(class_balance_chart(dataset), key="balance")
        right.dataframe(class_balance(dataset), hide_index=True)
