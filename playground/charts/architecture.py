"""The layer stack as a picture: Graphviz DOT source (for st.graphviz_chart) or a plotly figure.

Both read a `BuiltModel`'s rows (index, label, output shape, parameters), top to bottom; a
residual block is drawn as a group of its inner layers ending in an add node, with a skip edge
from the block's input to that node. Labels can come from users, so all text is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import plotly.graph_objects as go

from playground.charts import BLUE, NEUTRAL, TEMPLATE, plain
from playground.errors import format_shape
from playground.model.build import BuiltModel, LayerRow

_DOT_SPECIAL = {
    "&": "&amp;",  # Graphviz decodes HTML entities in plain labels; keep '&' literal
    "\\": "\\\\",
    '"': '\\"',
    "<": "\\<",  # record-label syntax (<port>, {}, |): a backslash makes each one literal
    ">": "\\>",
    "{": "\\{",
    "}": "\\}",
    "|": "\\|",
    "\n": "\\n",
    "\r": "\\n",
}


def dot_escape(text: object) -> str:
    """Text for the inside of a double-quoted DOT string, shown verbatim: quotes, backslashes,
    <, >, braces, '|' and '&' are escaped; line breaks become DOT's centred line break."""
    out = str(text)
    out = out.replace("\r\n", "\n")
    return "".join(_DOT_SPECIAL.get(ch, ch) for ch in out)


@dataclass
class _Node:
    row: LayerRow
    children: list[_Node] = field(default_factory=list)

    @property
    def is_block(self) -> bool:
        return bool(self.children)


def _tree(rows: list[LayerRow]) -> list[_Node]:
    """Rows in model order (a block's row, then its inner rows "2.0", "2.1", ...) -> a tree."""
    top: list[_Node] = []
    by_index: dict[str, _Node] = {}
    for row in rows:
        node = _Node(row)
        by_index[row.index] = node
        parent = by_index.get(row.index.rpartition(".")[0]) if "." in row.index else None
        (parent.children if parent is not None else top).append(node)
    return top


def _node_id(index: str, suffix: str = "") -> str:
    # Indices are digits and dots, so ids are safe; they are quoted anyway.
    return "n" + index.replace(".", "_") + suffix


def _params(count: int) -> str:
    return f"{count:,} param" + ("" if count == 1 else "s")


def architecture_dot(built: BuiltModel, input_label: str = "input") -> str:
    """Graphviz DOT source of the model, top to bottom: an input node (with the input shape),
    one node per layer ("index  label", output shape, parameter count) and, for each residual
    block, a cluster of its inner layers ending in an add node, with a dashed skip edge."""
    lines = [
        "digraph model {",
        "  rankdir=TB;",
        '  graph [fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.3];',
        '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f8", color="#9aa5b1", '
        'fontname="Helvetica", fontsize=11];',
        '  edge [color="#666666", arrowsize=0.7, fontname="Helvetica"];',
        f'  "input" [label="{dot_escape(input_label)}\\n{dot_escape(format_shape(built.input_shape))}", '
        'shape=oval, fillcolor="#ffffff"];',
    ]
    edges: list[str] = []
    _emit(_tree(built.rows), "input", lines, edges, indent="  ")
    lines += edges
    lines.append("}")
    return "\n".join(lines) + "\n"


def _emit(nodes: list[_Node], prev: str, lines: list[str], edges: list[str], indent: str) -> str:
    """Write nodes (and clusters) after `prev`; return the id of the last one."""
    for node in nodes:
        row = node.row
        if not node.is_block:
            node_id = _node_id(row.index)
            text = f"{row.index}  {row.label}\n{format_shape(row.output_shape)}  ·  {_params(row.params)}"
            lines.append(f'{indent}"{node_id}" [label="{dot_escape(text)}"];')
            edges.append(f'  "{prev}" -> "{node_id}";')
            prev = node_id
            continue
        cluster = _node_id(row.index)
        title = f"{row.index}  {row.label}  ·  {_params(row.params)}"
        lines.append(f'{indent}subgraph "cluster_{cluster}" {{')
        lines.append(
            f'{indent}  label="{dot_escape(title)}"; style="rounded,dashed"; color="{BLUE}"; '
            'labeljust="l";'
        )
        last = _emit(node.children, prev, lines, edges, indent + "  ")
        add_id = _node_id(row.index, "_add")
        add_text = f"+ add\n{format_shape(row.output_shape)}"
        lines.append(
            f'{indent}  "{add_id}" [label="{dot_escape(add_text)}", shape=ellipse, '
            'fillcolor="#ffffff"];'
        )
        lines.append(f"{indent}}}")
        edges.append(f'  "{last}" -> "{add_id}";')
        edges.append(
            f'  "{prev}" -> "{add_id}" [style=dashed, color="{BLUE}", label="skip", '
            f'fontcolor="{BLUE}", fontsize=9];'
        )
        prev = add_id
    return prev


# -- plotly fallback -----------------------------------------------------------------------

_BOX_W, _BOX_H, _INDENT = 3.2, 0.7, 0.35


@dataclass
class _Box:
    text: str
    depth: int
    kind: str  # "input", "layer", "block" (a residual's header) or "add"


def architecture_figure(built: BuiltModel, input_label: str = "input") -> go.Figure:
    """The same picture as `architecture_dot`, drawn with plotly: one box per layer (as layout
    shapes), arrows between consecutive boxes, residual blocks indented under a header box
    and closed by an add box, with a skip arrow on their left. One text trace holds all
    labels (escaped)."""
    boxes = [_Box(f"{input_label}  {format_shape(built.input_shape)}", 0, "input")]
    skips: list[tuple[int, int, int]] = []  # (from box, to box, depth)
    _layout(_tree(built.rows), boxes, skips)
    fig = go.Figure()
    ys = [-1.0 * i for i in range(len(boxes))]
    for i, box in enumerate(boxes):
        x0 = box.depth * _INDENT
        fill = {"input": "#ffffff", "add": "#ffffff", "block": "#e3f0fa"}.get(box.kind, NEUTRAL)
        fig.add_shape(
            type="rect",
            x0=x0,
            x1=x0 + _BOX_W,
            y0=ys[i] - _BOX_H / 2,
            y1=ys[i] + _BOX_H / 2,
            line={"color": BLUE if box.kind in ("block", "add") else "#9aa5b1"},
            fillcolor=fill,
            layer="below",
        )
        if i:
            fig.add_annotation(
                x=box.depth * _INDENT + 0.2,
                y=ys[i] + _BOX_H / 2,
                ax=box.depth * _INDENT + 0.2,
                ay=ys[i - 1] - _BOX_H / 2,
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                text="",
                showarrow=True,
                arrowhead=2,
                arrowsize=1,
                arrowcolor="#666666",
            )
    for start, end, depth in skips:
        x = depth * _INDENT - 0.15
        path = (
            f"M {depth * _INDENT},{ys[start]} L {x},{ys[start]} "
            f"L {x},{ys[end]} L {depth * _INDENT},{ys[end]}"
        )
        fig.add_shape(type="path", path=path, line={"color": BLUE, "dash": "dash"})
    fig.add_trace(
        go.Scatter(
            x=[b.depth * _INDENT + _BOX_W / 2 for b in boxes],
            y=ys,
            text=[plain(b.text) for b in boxes],
            mode="text",
            textfont={"size": 12},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    depth = max((b.depth for b in boxes), default=0)
    fig.update_layout(
        template=TEMPLATE,
        xaxis={"visible": False, "range": [-0.4, depth * _INDENT + _BOX_W + 0.1]},
        yaxis={"visible": False, "range": [ys[-1] - 0.6, 0.6]},
        height=max(200, 52 * len(boxes)),
        margin={"t": 10, "b": 10, "l": 10, "r": 10},
    )
    return fig


def _layout(nodes: list[_Node], boxes: list[_Box], skips: list[tuple[int, int, int]]) -> None:
    for node in nodes:
        row = node.row
        shape = format_shape(row.output_shape)
        if not node.is_block:
            boxes.append(
                _Box(
                    f"{row.index}  {row.label}  {shape}  ·  {_params(row.params)}",
                    row.depth,
                    "layer",
                )
            )
            continue
        start = len(boxes) - 1  # the block's input: the box before it
        boxes.append(
            _Box(f"{row.index}  {row.label}  ·  {_params(row.params)}", row.depth, "block")
        )
        _layout(node.children, boxes, skips)
        boxes.append(_Box(f"+ add  {shape}", row.depth, "add"))
        skips.append((start, len(boxes) - 1, row.depth))
