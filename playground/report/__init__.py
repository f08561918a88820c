"""Reports a person can hand to a reviewer: HTML (interactive, offline), Markdown and JSON.

`build_report(run_id)` assembles the full report of a stored run and `write_report` writes
it; they are loaded on first use, so importing the document types and renderers stays light
(building a report imports the explanation and fairness engines).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from playground.report.document import Chart, Report, Section, Table
from playground.report.render import to_html, to_json, to_markdown

if TYPE_CHECKING:
    from playground.report.build import build_report, write_report

__all__ = [
    "Chart",
    "Report",
    "Section",
    "Table",
    "build_report",
    "to_html",
    "to_json",
    "to_markdown",
    "write_report",
]
_LAZY = ("build_report", "write_report")


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.build"), name)
    globals()[name] = value  # later look-ups skip this function
    return value
