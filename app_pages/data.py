"""Data page: pick a built-in dataset or upload a CSV, and see it as the user knows it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from playground.analysis.data_summary import (
    class_balance,
    column_summary,
    dataset_frame,
    missing_values,
)
from playground.charts.data import class_balance_chart, image_grid, scatter_2d, sequence_plot
from playground.data import Dataset, list_datasets
from playground.data.csv_upload import INFINITE_CHOICES, MISSING_CHOICES
from playground.data.dataset import SPLIT_NAMES
from playground.data.options import dataset_options
from playground.data.uploads import csv_columns, keep_upload
from playground.errors import PlaygroundError
from playground.markup import escape_markdown
from ui.next_step import next_step
from ui.state import current_dataset, get_dataset, show_error, store
from ui.widgets import typed_input

YOUR_CSV = "Your CSV"
# The dataset list, grouped by kind as people think of data; the upload is a group of its own.
GROUPS = {"2D toys": "toy2d", "Tables": "tabular", "Images": "image", "Sequences": "sequence"}
MISSING_LABELS = {
    "fill": "Fill them (numbers: the median; text: the most frequent value)",
    "drop": "Drop the rows that have them",
}
INFINITE_LABELS = {
    "error": "Stop and tell me where they are",
    "missing": "Treat them as missing values",
}
INTRO = """
**Build a neural network, train it live, and look inside it.** Four steps:
1. **Data** (this page): pick a dataset below, or upload your own CSV.
2. **Build**: stack layers and see every layer's shape and parameter count.
3. **Train**: watch the loss, the accuracy and the decision boundary change as it learns.
4. **Look inside**: *Inspect* activations and mistakes, *Explain* predictions with Captum and
   SHAP, audit *Fairness* between groups and download a report, and compare *Runs*.

New to neural networks? Keep the spiral and the small network, press *Start training* on the
Train page, and watch the boundary curl around the arms.
"""

st.title("Data")
with st.expander(
    "New here? What the playground does", expanded="seen_intro" not in st.session_state
):
    st.markdown(INTRO)
st.session_state["seen_intro"] = True

infos = [info for info in list_datasets() if info.name != "csv"]
chosen = st.session_state["dataset"]
kind_of = {info.name: info.kind for info in infos}
groups = [*GROUPS, YOUR_CSV]
# The choices are keyed (stable across reruns); they start from the session's dataset, which
# another page (opening a stored run) may have changed: it then drops these keys.
current_group = next((g for g, k in GROUPS.items() if k == kind_of.get(chosen["name"])), YOUR_CSV)
if st.session_state.get("data_group") not in groups:
    st.session_state["data_group"] = current_group
group = st.radio("Kind of data", groups, key="data_group", horizontal=True)


def choose_builtin(kind: str) -> None:
    """A built-in dataset of one kind, with its parameters; sets the session's dataset."""
    options = {i.title: i for i in infos if i.kind == kind}
    if st.session_state.get("dataset_choice") not in options:
        st.session_state["dataset_choice"] = next(
            (t for t, i in options.items() if i.name == chosen["name"]), next(iter(options))
        )
    info = options[st.selectbox("Dataset", list(options), key="dataset_choice")]
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
    changed.update(option_inputs(info.name, changed, old))
    st.session_state["dataset"] = {"name": info.name, "params": changed}


def option_inputs(name: str, params: dict, old: dict) -> dict:
    """One widget per dataset option (subsets, imbalance, outliers) that fits the dataset
    built from `params`; returns the options that differ from their defaults. `old`: the
    session's current parameters, which the widgets start from."""
    try:
        base = get_dataset(name, params)  # without options: its task and class names
    except PlaygroundError:
        return {}  # the page shows the builder's error below
    options = {k: o for k, o in dataset_options().items() if o.applies_to(base)}
    if not options:
        return {}
    names = base.class_names or []
    values = {}
    with st.expander("Subsets, imbalance and outliers", expanded=False):
        columns = st.columns(min(len(options), 4))
        for i, (option_name, option) in enumerate(options.items()):
            value, key = old.get(option_name, option.default), f"dso_{name}_{option_name}"
            with columns[i % len(columns)]:
                if option_name == "keep_classes":  # class names, not indices
                    picked = st.multiselect(
                        option.title,
                        list(range(len(names))),
                        default=[c for c in value or [] if 0 <= c < len(names)],
                        format_func=names.__getitem__,
                        key=key,
                        help="In the order picked: the first becomes class 0.",
                    )
                    values[option_name] = picked or None
                    # Later options count classes after the renumbering (rare_class 0 is
                    # the first class kept).
                    names = [names[c] for c in picked] if picked else names
                elif option_name == "rare_class":
                    choices = [None, *range(len(names))]
                    values[option_name] = st.selectbox(
                        option.title,
                        choices,
                        index=choices.index(value) if value in choices else 0,
                        format_func=lambda c, names=names: "none" if c is None else names[c],
                        key=key,
                        help=option.help,
                    )
                else:
                    values[option_name] = typed_input(
                        option.title, option.annotation, value, key, option.help
                    )
    return {k: v for k, v in values.items() if v != options[k].default}


def _choice(
    label: str, param: str, choices: tuple[str, ...], labels: dict[str, str], kept: dict, key: str
) -> str:
    """A radio over one CSV option's choices (the engine's, the first is its default), labelled
    in words."""
    index = choices.index(kept[param]) if kept.get(param) in choices else 0
    return st.radio(
        label,
        choices,
        index=index,
        format_func=labels.get,
        key=f"csv_{param}_{key}",
        horizontal=True,
    )


def choose_csv() -> None:
    """Upload a CSV (shown at once, last column as the target) or keep working on the last one."""
    upload = st.file_uploader("CSV file", type=["csv"], help="A header row, one example per row.")
    old = chosen["params"] if chosen["name"] == "csv" else {}
    if upload is not None:
        data, file_name = upload.getvalue(), upload.name
    elif old.get("path") and Path(old["path"]).is_file():
        data, file_name = Path(old["path"]).read_bytes(), old.get("file_name", "")
    else:
        st.info("Upload a CSV to train on your own data: one row per example, with a header.")
        st.stop()
    try:
        columns = csv_columns(data)
        path = keep_upload(data, store().root)
    except PlaygroundError as exc:
        show_error(exc)
        st.stop()
    same_file = old.get("path") == str(path)
    # Keys per file: a new file starts from its own defaults (the last column as the target).
    key = path.stem
    target_default = old["target"] if same_file and old.get("target") in columns else columns[-1]
    left, right = st.columns(2)
    target = left.selectbox(
        "Target column (what to predict)",
        columns,
        index=columns.index(target_default),
        key=f"csv_target_{key}",
    )
    sensitive = right.multiselect(
        "Sensitive columns (for the fairness audit)",
        [c for c in columns if c != target],
        default=[c for c in old.get("sensitive", ()) if c != target] if same_file else [],
        key=f"csv_sensitive_{key}",
        help="Their raw values are kept for the audit; numeric ones are banded. They stay "
        "model features.",
    )
    # A file seen before keeps its choices; a new one starts from the defaults (the first).
    kept = old if same_file else {}
    missing = _choice("Missing values", "missing", MISSING_CHOICES, MISSING_LABELS, kept, key)
    infinite = _choice(
        "Infinite values (inf, or numbers too large such as 1e999)",
        "infinite",
        INFINITE_CHOICES,
        INFINITE_LABELS,
        kept,
        key,
    )
    params = {
        "path": str(path),
        "target": target,
        "file_name": file_name,
        "missing": missing,
        "infinite": infinite,
    }
    if sensitive:
        params["sensitive"] = sensitive
    params.update(option_inputs("csv", params, old if same_file else {}))
    st.session_state["dataset"] = {"name": "csv", "params": params}


if group == YOUR_CSV:
    choose_csv()
else:
    choose_builtin(GROUPS[group])


def table_view(dataset: Dataset) -> None:
    """Rows as given (age 22, sex female), the encoding on request; columns and missing values."""
    encoded = st.toggle(
        "Show the rows as the model sees them (standardised numbers, one-hot categories)",
        key="rows_encoded",
    )
    source = "as the model sees them" if encoded else "as in the data"
    st.subheader(f"Rows (training split, {source})")
    st.dataframe(dataset_frame(dataset, encoded=encoded), height=240)
    every_row = pd.concat(
        [dataset_frame(dataset, split, limit=len(dataset.split(split))) for split in SPLIT_NAMES]
    )
    st.subheader(f"Columns (all {len(every_row):,} rows)")
    st.dataframe(column_summary(every_row), hide_index=True)
    missing = missing_values(dataset)
    if not missing.empty:
        st.subheader("Missing values")
        st.caption("Counted in the file as given; the choice above says how they are handled.")
        st.dataframe(missing, hide_index=True)


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
        st.info(escape_markdown(note, streamlit=True))
    if dataset.kind == "toy2d":
        st.plotly_chart(scatter_2d(dataset), key="preview")
    elif dataset.kind == "image":
        st.plotly_chart(image_grid(dataset), key="preview")
    elif dataset.kind == "sequence":
        st.plotly_chart(sequence_plot(dataset), key="preview")
    else:
        table_view(dataset)
    if dataset.sensitive_attributes:
        st.caption(
            "Sensitive attributes (kept for fairness audits): "
            + escape_markdown(", ".join(dataset.sensitive_attributes), streamlit=True)
        )
    if dataset.is_classification:
        st.subheader("Class balance")
        left, right = st.columns([2, 1])
        left.plotly_chart(class_balance_chart(dataset), key="balance")
        right.dataframe(class_balance(dataset), hide_index=True)
    title = escape_markdown(dataset.title, streamlit=True)
    next_step("data", f"You are working on {title}: a {dataset.task} task.")
