"""Explanations of a stored run: Captum and SHAP attribution methods behind one call.

    ctx = context_for_run(run_id)
    attr = explain(ctx, ExplainRequest("integrated_gradients", sample_indices=(0, 1, 2)))
    global_importance(attr, ctx.dataset.feature_groups)

Methods live one per file in `methods/` and register themselves in `METHODS`. Names are
loaded on first use, so importing `playground.explain.base` (e.g. for `Cancelled`) does not
import Captum.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "available_methods": "api",
    "cache_key": "api",
    "clear_cache": "api",
    "context_for_run": "api",
    "explain": "api",
    "explain_cached": "api",
    "method_info": "api",
    "weights_fingerprint": "api",
    "Attribution": "base",
    "Cancelled": "base",
    "ExplainRequest": "base",
    "MethodInfo": "base",
    "Progress": "base",
    "register_method": "base",
    "ExplainContext": "context",
    "completeness": "summary",
    "feature_table": "summary",
    "global_importance": "summary",
    "image_attribution": "summary",
    "time_step_attribution": "summary",
}
__all__ = [*_EXPORTS, "METHODS"]


def __getattr__(name: str) -> Any:
    if name == "METHODS":  # the full registry: every method module imported
        return importlib.import_module(f"{__name__}.api").METHODS
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
