"""Find the module behind a row of the shape table, for hooks and layer attributions.

Rows are numbered as the user sees them ("2", "2.1" inside a residual block); the module
tree nests residual bodies one level deeper ("2.body.1").
"""

from __future__ import annotations

from torch import nn

from playground.errors import PlaygroundError
from playground.model.build import BuiltModel, LayerRow


def module_path(row_index: str) -> str:
    """'2.1' -> '2.body.1': the `named_modules()` path of a shape-table row."""
    return ".body.".join(row_index.split("."))


def module_for_row(built: BuiltModel, row_index: str) -> nn.Module:
    """The module of row `row_index` of `built.rows`; a clear error for an unknown row."""
    try:
        return built.module.get_submodule(module_path(row_index))
    except AttributeError:
        known = ", ".join(r.index for r in built.rows)
        raise PlaygroundError(
            f"The model has no layer {row_index!r}.", f"Choose one of: {known}."
        ) from None


def row_by_index(built: BuiltModel, row_index: str) -> LayerRow:
    for row in built.rows:
        if row.index == row_index:
            return row
    known = ", ".join(r.index for r in built.rows)
    raise PlaygroundError(f"The model has no layer {row_index!r}.", f"Choose one of: {known}.")


def hidden_rows(built: BuiltModel, kinds: tuple[str, ...] | None = None) -> list[LayerRow]:
    """Rows whose output is a hidden representation: every row but the last top-level one,
    optionally only of the given layer kinds (e.g. ("conv2d",) for Grad-CAM)."""
    top = [r for r in built.rows if r.depth == 0]
    last = top[-1].index if top else None
    return [r for r in built.rows if r.index != last and (kinds is None or r.kind in kinds)]
