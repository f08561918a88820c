"""Reports a person can hand to a reviewer: HTML (interactive, offline), Markdown and JSON."""

from playground.report.document import Chart, Report, Section, Table
from playground.report.render import to_html, to_json, to_markdown

__all__ = ["Chart", "Report", "Section", "Table", "to_html", "to_json", "to_markdown"]
