"""The Compress page's parts: the choices, the measured table and chart, the downloads, and
the ONNX export. The work runs in `playground.compress` / `playground.model.onnx_export` as
background tasks (ui.task_view): cancellable, and cached under a key of their inputs."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st
from torch import nn

from playground.charts.compression import compression_chart
from playground.compress import PRUNERS, QUANTIZERS, CompressionResult, CompressOptions
from playground.compress.report import compress_run
from playground.compress.stored import level_slug, save_compression, stored_compression
from playground.model.onnx_export import export_run
from playground.runner import LoadedRun
from ui.state import store
from ui.task_view import start_task, task_result

SPARSITIES = [0.25, 0.5, 0.75, 0.9]
FILE_TITLES = {
    "dense": "weights (safetensors)",
    "sparse": "sparse weights (safetensors, bit mask + non-zero values)",
    "int8": "int8 weights (safetensors)",
}


def choose_options() -> CompressOptions:
    """The sidebar-free choices above the table."""
    left, middle, right = st.columns(3)
    methods = left.multiselect(
        "Pruning",
        list(PRUNERS),
        default=list(PRUNERS),
        format_func=lambda n: PRUNERS[n].title,
        key="compress_methods",
    )
    sparsities = middle.multiselect(
        "Sparsity (fraction pruned)",
        SPARSITIES,
        default=[0.5, 0.9],
        format_func=lambda s: f"{s:.0%}",
        key="compress_sparsities",
    )
    epochs = int(
        right.number_input(
            "Fine-tune epochs after pruning",
            0,
            100,
            0,
            key="compress_finetune",
            help="Trains each pruned model a few more epochs with the run's data and "
            "options, pruned weights held at zero. 0: prune only.",
        )
    )
    left, middle, right = st.columns(3)
    quantize = left.checkbox(
        QUANTIZERS["int8_dynamic"].title,
        value=True,
        key="compress_int8",
        help=QUANTIZERS["int8_dynamic"].description,
    )
    threads = int(middle.number_input("CPU threads for timing", 1, 64, 1, key="compress_threads"))
    repeats = int(right.number_input("Timed passes per batch", 3, 500, 20, key="compress_repeats"))
    return CompressOptions.make(
        methods=methods,
        sparsities=sparsities,
        finetune_epochs=epochs,
        quantize=["int8_dynamic"] if quantize else [],
        threads=threads,
        repeats=repeats,
    )


def compression_section(loaded: LoadedRun, version: int) -> CompressionResult | None:
    """Choices, a Measure button, then the table, chart and downloads once measured. A new
    measurement is kept with the run; until then the last kept one is shown."""
    with st.expander("What each method does"):
        for method in [*PRUNERS.values(), *QUANTIZERS.values()]:
            st.markdown(f"**{method.title}**: {method.description}")
    options = choose_options()
    key = f"compress:{loaded.record.id}:{version}:{options.model_dump_json()}"
    if st.button("Measure", type="primary", key="compress_go"):
        start_task(key, lambda progress: compress_run(loaded, options, progress))
    result = task_result(key, "Compressing")
    if result is None:
        kept = stored_compression(store(), loaded.record.id)
        if kept is None:
            st.caption(
                "Measure prunes and quantises copies of the model, writes each to a real file "
                "and times it on this machine's CPU: nothing in the table is estimated."
            )
            return None
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(kept.measured_at))
        st.caption(f"Kept with this run: measured {when}. Measure again to replace it.")
        show_table(kept.table, kept.repeats, kept.threads, kept.notes)
        _downloads(
            loaded.record.id,
            {
                level: {fmt: _artifact(loaded.record.id, name) for fmt, name in files.items()}
                for level, files in kept.files.items()
            },
        )
        return None
    saved = st.session_state.setdefault("compress_saved", set())
    if key not in saved:  # keep this measurement with the run, once
        save_compression(store(), result)
        saved.add(key)
    show_table(result.table(), result.repeats, result.threads, result.notes)
    _downloads(result.run_id, {lv.name: lv.files for lv in result.levels})
    return result


def _artifact(run_id: str, name: str) -> bytes:
    return store().load_artifact(run_id, name) or b""


def show_table(table: pd.DataFrame, repeats: int, threads: int, notes: list[str]) -> None:
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "size_bytes": st.column_config.NumberColumn("file (bytes)"),
            "sparse_bytes": st.column_config.NumberColumn("sparse file (bytes)"),
            "nonzero_params": st.column_config.NumberColumn("non-zero weights"),
            "latency_ms_b1": st.column_config.NumberColumn("ms, batch 1", format="%.3f"),
            "latency_ms_b256": st.column_config.NumberColumn("ms, batch 256", format="%.3f"),
        },
        key="compress_table",
    )
    st.caption(
        f"Latency: median of {repeats} forward passes with {threads} CPU "
        "thread(s) on this machine (a busy machine makes every row slower, not just one). "
        "Sizes: the bytes of each file as written. A dense file keeps pruned zeros; the sparse "
        "file stores only the non-zero weights and a bit mask."
    )
    batch = st.radio("Latency at batch", [1, 256], horizontal=True, key="compress_chart_batch")
    st.plotly_chart(compression_chart(table, int(batch)), key="compress_chart")
    for note in notes:
        st.info(note)


def _downloads(run_id: str, files: dict[str, dict[str, bytes]]) -> None:
    st.subheader("Download")
    names = list(files)
    name = st.selectbox("Level", names, index=len(names) - 1, key="compress_download_level")
    level_files = files[name]
    columns = st.columns(len(level_files))
    for column, (fmt, data) in zip(columns, level_files.items(), strict=True):
        column.download_button(
            f"{FILE_TITLES[fmt]}, {len(data):,} bytes",
            data=data,
            file_name=f"{run_id}_{level_slug(name)}.{fmt}.safetensors",
            mime="application/octet-stream",
            key=f"compress_dl_{fmt}",
        )
    st.caption(
        "Reload with playground.compress.serialize (load_dense / load_sparse / load_int8) "
        "into the run's model (playground.runner.load_run): safetensors only, nothing pickled."
    )


def onnx_section(loaded: LoadedRun, version: int, result: CompressionResult | None) -> None:
    """Export the run's modules (or a pruned level of its model) to ONNX, checked with
    onnxruntime, with a download button per module."""
    st.subheader("Export to ONNX")
    models: dict[str, dict[str, nn.Module]] = {"original": {}}
    if result is not None:  # pruned levels are float models of the same architecture
        for level in result.levels[1:]:
            if "dense" in level.files:
                models[level.name] = {"model": level.model}
    choice = "original"
    if len(models) > 1:
        choice = st.selectbox("Model", list(models), key="onnx_level")
    key = f"onnx:{loaded.record.id}:{version}:{choice}"
    if result is not None and choice != "original":
        key += f":{id(result)}"  # a pruned level belongs to one measurement
    if st.button("Export to ONNX", key="onnx_go"):
        chosen = models[choice] or None
        start_task(key, lambda progress: export_run(loaded, chosen, progress))
    exports = task_result(key, "Exporting to ONNX")
    if exports is None:
        st.caption(
            "One .onnx file per module, batch size free; each is run by onnxruntime on the "
            "test rows and compared with PyTorch. int8 models do not export (no ONNX "
            "translation of PyTorch's dynamic int8 layers): export a float level instead."
        )
        return
    columns = st.columns(len(exports))
    for column, export in zip(columns, exports.values(), strict=True):
        column.metric(f"{export.module}: max |ONNX - PyTorch|", f"{export.max_abs_diff:.1e}")
        column.download_button(
            f"{export.file_name}, {len(export.data):,} bytes",
            data=export.data,
            file_name=f"{loaded.record.id}_{export.file_name}",
            mime="application/octet-stream",
            key=f"onnx_dl_{export.module}",
        )
    st.caption(f"Checked on {next(iter(exports.values())).rows_checked} rows per module.")
