"""The shape table every module gets on the Build page: each layer reached, the one at fault
marked ❌ with the shape it received."""

from __future__ import annotations

from typing import Any

from playground.errors import format_shape
from playground.model import ModelCheck


def shape_rows(check: ModelCheck) -> list[dict[str, Any]]:
    """Rows of the table; a layer at fault shows the shape it got (its output is unknown), so
    a beginner sees how far the data went."""
    at_fault = check.error.layer_index if check.error else None
    rows = []
    for r in check.rows:
        failed = r.index in check.failed
        mark = "❌ " if failed or r.index == at_fault else ""
        rows.append(
            {
                "#": r.index,
                "layer": "  " * r.depth + mark + r.label,
                "output": f"got {format_shape(r.input_shape)}"
                if failed
                else format_shape(r.output_shape),
                # Text, so the layer at fault shows a dash rather than "None".
                "params": "—" if failed else f"{r.params:,}",
            }
        )
    return rows
