"""Render a Report as one self-contained HTML file, as Markdown, or as JSON.

The HTML embeds plotly.js once, so it works offline and its figures stay interactive. Every
user string (run names, feature and column names, class names) is HTML-escaped; plotly's own
figure JSON escapes '<' as \\u003c, so names cannot close the script either.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from playground.markup import escape_markdown
from playground.report.document import Report, Section

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1f2933;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #e8eaeb;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}
th,td{border:1px solid #d9dde0;padding:.25em .6em;text-align:right}
th{background:#f4f6f7}td:first-child,th:first-child{text-align:left}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em}dt{font-weight:600}dd{margin:0}
.caution{background:#fff7e6;border-left:4px solid #f59322;padding:.5em .8em;margin:.4em 0}
.note,.caption{color:#52606d;font-size:.9em}nav a{margin-right:1em}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_esc(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _anchor(index: int) -> str:
    return f"s{index}"


def _html_section(index: int, section: Section) -> str:
    parts = [f'<section id="{_anchor(index)}"><h2>{_esc(section.title)}</h2>']
    if section.facts:
        items = "".join(
            f"<dt>{_esc(k)}</dt><dd>{_esc(_cell(v))}</dd>" for k, v in section.facts.items()
        )
        parts.append(f"<dl>{items}</dl>")
    parts += [f"<p>{_esc(p)}</p>" for p in section.paragraphs]
    parts += [f'<div class="caution">{_esc(c)}</div>' for c in section.cautions]
    for table in section.tables:
        parts.append(f"<h3>{_esc(table.title)}</h3>{_html_table(table.frame)}")
        if table.note:
            parts.append(f'<p class="note">{_esc(table.note)}</p>')
    for chart in section.charts:
        div = pio.to_html(chart.figure, full_html=False, include_plotlyjs=False)
        parts.append(f"<h3>{_esc(chart.title)}</h3>{div}")
        if chart.caption:
            parts.append(f'<p class="caption">{_esc(chart.caption)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def to_html(report: Report) -> str:
    """One HTML file with everything inlined (plotly.js included: about 4.5 MB)."""
    nav = "".join(
        f'<a href="#{_anchor(i)}">{_esc(s.title)}</a>' for i, s in enumerate(report.sections)
    )
    body = "\n".join(_html_section(i, s) for i, s in enumerate(report.sections))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(report.title)}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f"<h1>{_esc(report.title)}</h1>"
        f'<p class="note">Run {_esc(report.run_id)} · made {_esc(report.created_at)} '
        "by the Neural Network Playground</p>"
        f"<nav>{nav}</nav>{body}</body></html>\n"
    )


def _md_escape(value: Any) -> str:
    # Markdown renderers pass inline HTML through: escape it, then Markdown's own syntax
    # (links, images, emphasis, table pipes), so user strings read as typed.
    return escape_markdown(html.escape(_cell(value), quote=False)).replace("\n", " ")


def _md_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(_md_escape(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| " + " | ".join(_md_escape(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *rows])


def to_markdown(report: Report) -> str:
    """A readable summary: facts, text, tables and cautions (figures are named, not drawn)."""
    lines = [
        f"# {_md_escape(report.title)}",
        "",
        f"Run `{report.run_id}`, {report.created_at}.",
        "",
    ]
    for section in report.sections:
        lines += [f"## {_md_escape(section.title)}", ""]
        lines += [f"- **{_md_escape(k)}**: {_md_escape(v)}" for k, v in section.facts.items()]
        if section.facts:
            lines.append("")
        for paragraph in section.paragraphs:
            lines += [_md_escape(paragraph), ""]
        for caution in section.cautions:
            lines += [f"> **Caution:** {_md_escape(caution)}", ""]
        for table in section.tables:
            lines += [f"### {_md_escape(table.title)}", "", _md_table(table.frame), ""]
            if table.note:
                lines += [f"_{_md_escape(table.note)}_", ""]
        for chart in section.charts:
            lines += [f"- Figure (in the HTML report): {_md_escape(chart.title)}"]
        if section.charts:
            lines.append("")
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def to_json(report: Report) -> str:
    """Machine-readable: every fact, table (as records), caution and extra, no figures."""
    sections = [
        {
            "title": s.title,
            "facts": s.facts,
            "paragraphs": s.paragraphs,
            "cautions": s.cautions,
            "tables": {t.title: t.frame.to_dict(orient="records") for t in s.tables},
            "figures": [c.title for c in s.charts],
            "data": s.data,
        }
        for s in report.sections
    ]
    doc = {
        "title": report.title,
        "run_id": report.run_id,
        "created_at": report.created_at,
        "sections": sections,
    }
    return json.dumps(_jsonable(doc), indent=2, default=str)
