"""A report as plain data: sections of facts, paragraphs, tables, figures and cautions.

Builders fill it from a stored run; renderers turn it into self-contained HTML, Markdown or
JSON. Keeping the content apart from the format means the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go


@dataclass
class Table:
    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass
class Chart:
    title: str
    figure: go.Figure
    caption: str = ""


@dataclass
class Section:
    title: str
    facts: dict[str, Any] = field(default_factory=dict)  # shown as a two-column list
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # machine-readable extras for JSON


@dataclass
class Report:
    title: str
    run_id: str
    created_at: str  # ISO 8601, UTC
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)
