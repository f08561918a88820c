"""Compress page: make a stored run's model smaller for small devices (pruning, int8) with
every cost measured (file size, weights, CPU latency, test score), and export it to ONNX.

The work is `playground.compress` and `playground.model.onnx_export`, run as background
tasks; ui.compress_view draws the choices and results.
"""

from __future__ import annotations

import streamlit as st

from ui.compress_view import compression_section, onnx_section
from ui.run_picker import pick_run, weights_version

st.title("Compress")
loaded = pick_run()
if loaded is None:
    st.stop()
version = weights_version(loaded.record.id)
result = None
if loaded.record.mode == "supervised":
    result = compression_section(loaded, version)
else:
    st.info(
        "Pruning and quantisation are measured against a test score, which this "
        f"{loaded.record.mode} run does not have: pick a supervised run to compress. "
        "Its modules can still be exported to ONNX below."
    )
onnx_section(loaded, version, result)
st.divider()
st.page_link(
    "app_pages/runs.py", label="Next: compare this run with others", icon=":material/history:"
)
