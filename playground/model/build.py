"""Build a ModelSpec against a dataset: an nn.Module plus a per-layer shape/parameter table.

Shapes are found without real data: each layer is built on PyTorch's meta device and run on
an empty meta tensor, so a model too big for this machine is refused (playground.model.limits)
before any memory is allocated for it. A spec that cannot work raises a SpecError naming the
layer (index and kind), the shape it received, the shape it needed and a fix to try. That is
the only error `build_model` raises for a bad spec, never a raw traceback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from playground.errors import SpecError, format_shape
from playground.model.limits import check_param_limit
from playground.model.output_layer import LayerWarning, activation_after_output
from playground.model.spec import LAYERS, LayerBase, LayerProblem, ModelSpec, Shape

if TYPE_CHECKING:
    from playground.data.dataset import Dataset
    from playground.model.layers.residual import ResidualSpec


@dataclass(frozen=True)
class DataSignature:
    """What a model needs to know about its data: input shape (no batch), outputs, tokens."""

    input_shape: tuple[int, ...]
    num_outputs: int
    task: str = "multiclass"
    tokens: bool = False
    vocab_size: int | None = None

    @classmethod
    def of(cls, dataset: Dataset) -> DataSignature:
        return cls(
            input_shape=tuple(dataset.input_shape),
            num_outputs=dataset.num_outputs,
            task=dataset.task,
            tokens=not dataset.train.x.is_floating_point(),
            vocab_size=dataset.vocab_size,
        )


@dataclass
class LayerRow:
    """One line of the shape table. Shapes exclude the batch dimension."""

    index: str
    kind: str
    label: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    depth: int
    # Values per example it keeps for the backward pass (LayerBase.activation_elements).
    activations: int = 0

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["output"] = format_shape(self.output_shape)
        return row


@dataclass
class BuiltModel:
    module: nn.Sequential
    rows: list[LayerRow]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    total_params: int
    trainable_params: int
    notes: list[str] = field(default_factory=list)
    # Trains, but badly (e.g. an activation after the output layer); each names its layer.
    warnings: list[LayerWarning] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.rows]

    def format_table(self) -> str:
        lines = [f"{'#':<6}{'layer':<34}{'output':<22}{'params':>10}"]
        for r in self.rows:
            label = "  " * r.depth + r.label
            lines.append(
                f"{r.index:<6}{label:<34}{format_shape(r.output_shape):<22}{r.params:>10,}"
            )
        lines.append(f"{'':<6}{'total':<34}{'':<22}{self.total_params:>10,}")
        return "\n".join(lines)


class BuildContext:
    """State threaded through the layers while a stack is built."""

    def __init__(self, signature: DataSignature, spec: ModelSpec, shapes: dict[str, Shape] | None):
        self.signature = signature
        self.tokens = signature.tokens  # becomes False after an Embedding
        self.auto_output_layer = _last_linear(spec.layers)
        # None while checking on the meta device; the recorded input shapes when materialising.
        self.recorded_shapes = shapes
        self.rows: list[LayerRow] = []
        # Indices whose check has begun but not finished: after a SpecError, the layer at fault
        # and the residual blocks around it.
        self.pending: list[str] = []
        self._path: list[str] = []

    def is_auto_output(self, layer: LayerBase) -> bool:
        return layer is self.auto_output_layer

    def build_substack(self, block: ResidualSpec, shape: Shape) -> nn.Sequential:
        body, out = _build_stack(block.layers, shape, self, prefix=".".join(self._path) + ".")
        if out != shape:
            raise SpecError(
                "A residual block adds its input to its output, so both must have the same shape.",
                layer_index=".".join(self._path),
                layer_kind=block.kind,
                received=shape,
                expected=f"its sub-stack to end with {format_shape(shape)}, not {format_shape(out)}",
                fix=_residual_fix(shape),
            )
        return body


def build_model(
    spec: ModelSpec | dict[str, Any] | list[Any],
    data: Dataset | DataSignature,
    *,
    device: str | torch.device = "cpu",
) -> BuiltModel:
    """Check `spec` against the data and build it with real weights on `device`.

    Seed torch (torch.manual_seed) before calling for reproducible initial weights.
    """
    checked = check_model(spec, data)
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
    signature = data if isinstance(data, DataSignature) else DataSignature.of(data)
    shapes = {row.index: row.input_shape for row in checked.rows}
    ctx = BuildContext(signature, spec, shapes)
    module, _ = _build_stack(spec.layers, signature.input_shape, ctx, prefix="")
    checked.module = module.to(device)
    return checked


def check_model(
    spec: ModelSpec | dict[str, Any] | list[Any], data: Dataset | DataSignature
) -> BuiltModel:
    """Validate a spec and compute its shape table on the meta device (no memory, no data).

    The returned module lives on the meta device: use `build_model` for a trainable one.
    """
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
    signature = data if isinstance(data, DataSignature) else DataSignature.of(data)
    return _check(BuildContext(signature, spec, None), spec)


@dataclass
class ModelCheck:
    """`check_model` without raising: the model, or how far the check got before the error.

    `rows` holds every layer reached, in stack order (all of them when the spec is fine);
    `failed` the indices among them whose check did not finish (the layer at fault and any
    residual block around it): their output shape is unknown and their params are 0.
    """

    built: BuiltModel | None
    rows: list[LayerRow]
    error: SpecError | None = None
    failed: frozenset[str] = frozenset()

    def ok_rows(self) -> list[LayerRow]:
        """The rows that checked fine."""
        return [r for r in self.rows if r.index not in self.failed]


def check_model_partial(
    spec: ModelSpec | dict[str, Any] | list[Any], data: Dataset | DataSignature
) -> ModelCheck:
    """Like `check_model`, but a bad spec still gives the shape rows before the layer at fault,
    so a page can show how far the data got (and the shape the bad layer received)."""
    signature = data if isinstance(data, DataSignature) else DataSignature.of(data)
    try:
        parsed = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
    except SpecError as exc:
        return _check_before_invalid(spec, signature, exc)
    ctx = BuildContext(signature, parsed, None)
    try:
        built = _check(ctx, parsed)
    except SpecError as exc:
        return ModelCheck(None, ctx.rows, exc, frozenset(ctx.pending))
    return ModelCheck(built, built.rows)


def _check(ctx: BuildContext, spec: ModelSpec) -> BuiltModel:
    signature = ctx.signature
    with torch.device("meta"):
        module, out_shape = _build_stack(spec.layers, signature.input_shape, ctx, prefix="")
    notes = _check_output(spec, ctx, out_shape)
    top = [r for r in ctx.rows if r.depth == 0]
    total = sum(r.params for r in top)
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    warnings = activation_after_output(
        [layer.kind for layer in spec.layers], signature.task, out_shape[0]
    )
    built = BuiltModel(
        module, ctx.rows, signature.input_shape, out_shape, total, trainable, notes, warnings
    )
    # Last: a model too big to allocate still gets its whole shape table (the page shows
    # it, with the layer that dominates marked).
    check_param_limit(built)
    return built


def _check_before_invalid(raw: Any, signature: DataSignature, error: SpecError) -> ModelCheck:
    """A layer's parameters are invalid (so the spec does not parse): check the layers before
    it, and give the invalid layer one row with the shape it would receive."""
    layers = raw.get("layers") if isinstance(raw, dict) else raw
    if not isinstance(layers, list) or error.layer_index is None:
        return ModelCheck(None, [], error)
    bad = int(error.layer_index.split(".")[0])
    kind = str(layers[bad].get("kind", "?")) if isinstance(layers[bad], dict) else "?"
    shape = signature.input_shape
    rows: list[LayerRow] = []
    if bad > 0:
        try:
            prefix = ModelSpec.parse({"layers": layers[:bad]})
        except SpecError:  # pydantic reported a later layer first: nothing safe to show
            return ModelCheck(None, [], error)
        ctx = BuildContext(signature, prefix, None)
        # The output Linear is the whole stack's last one: if it comes later, none here is it.
        if any(isinstance(d, dict) and d.get("kind") == "linear" for d in layers[bad:]):
            ctx.auto_output_layer = None
        try:
            with torch.device("meta"):
                _, shape = _build_stack(prefix.layers, shape, ctx, prefix="")
        except SpecError as earlier:  # a layer before the invalid one is at fault: show that
            return ModelCheck(None, ctx.rows, earlier, frozenset(ctx.pending))
        rows = ctx.rows
    label = LAYERS[kind].title if kind in LAYERS else kind
    row = LayerRow(str(bad), kind, label, shape, shape, 0, 0)
    return ModelCheck(None, [*rows, row], error, frozenset({str(bad)}))


def _build_stack(
    layers: list[LayerBase], shape: Shape, ctx: BuildContext, prefix: str
) -> tuple[nn.Sequential, Shape]:
    modules: list[nn.Module] = []
    for i, layer in enumerate(layers):
        index = f"{prefix}{i}"
        ctx._path.append(str(i))
        try:
            module, shape = _build_layer(layer, shape, ctx, index)
        finally:
            ctx._path.pop()
        modules.append(module)
    return nn.Sequential(*modules), shape


def _build_layer(
    layer: LayerBase, shape: Shape, ctx: BuildContext, index: str
) -> tuple[nn.Module, Shape]:
    if ctx.recorded_shapes is not None:  # materialising: shapes already known and checked
        module = layer.build(ctx.recorded_shapes[index], ctx)
        if layer.kind == "embedding":
            ctx.tokens = False
        return module, shape
    row = LayerRow(index, layer.kind, layer.describe(), shape, shape, 0, index.count("."))
    ctx.rows.append(row)
    ctx.pending.append(index)
    try:
        if ctx.tokens and layer.kind != "embedding":
            raise LayerProblem(
                "This dataset gives integer tokens, which only an Embedding layer can take.",
                expected="real-valued input",
                fix="start the model with an Embedding layer, or use encoding='onehot'.",
            )
        layer.check(shape, ctx)
        module = layer.build(shape, ctx)
        out_shape = _meta_forward(module, shape, ctx.tokens, layer)
    except SpecError:
        raise
    except LayerProblem as problem:
        raise SpecError(
            problem.message,
            layer_index=index,
            layer_kind=layer.kind,
            received=shape,
            expected=problem.expected or layer.expects,
            fix=problem.fix,
        ) from None
    except Exception as exc:
        raise SpecError(
            f"PyTorch could not build it: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}.",
            layer_index=index,
            layer_kind=layer.kind,
            received=shape,
            expected=layer.expects,
            fix="check this layer's parameters against its input shape.",
        ) from None
    if layer.kind == "embedding":
        ctx.tokens = False
    row.output_shape = out_shape
    row.params = sum(p.numel() for p in module.parameters())
    row.activations = layer.activation_elements(shape, out_shape)
    ctx.pending.pop()
    return module, out_shape


def _meta_forward(module: nn.Module, shape: Shape, tokens: bool, layer: LayerBase) -> Shape:
    dtype = torch.long if tokens else torch.float32
    x = torch.empty((2, *shape), device="meta", dtype=dtype)
    try:
        out = module(x)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LayerProblem(
            f"PyTorch rejected this input: {first}",
            expected=layer.expects,
            fix="check this layer's parameters against its input shape.",
        ) from None
    out_shape = tuple(out.shape[1:])
    if any(s <= 0 for s in out_shape):
        raise LayerProblem(
            f"Its output would be empty {format_shape(out_shape)}.",
            expected=layer.expects,
            fix="use a smaller kernel or stride, add padding, or remove a pooling layer.",
        )
    return out_shape


def _check_output(spec: ModelSpec, ctx: BuildContext, out_shape: Shape) -> list[str]:
    sig = ctx.signature
    last_index = str(len(spec.layers) - 1)
    last_kind = spec.layers[-1].kind
    need = sig.num_outputs
    if len(out_shape) != 1:
        has_sequence = any(
            layer.kind in {"rnn", "lstm", "gru", "transformer"} for layer in spec.layers
        )
        fix = (
            "set output='last' on the last recurrent or attention layer, or add Flatten and Linear at the end."
            if has_sequence and len(out_shape) == 2
            else "add Flatten and then Linear (out_features empty) at the end."
        )
        raise SpecError(
            "The model must end with one vector of outputs per example.",
            layer_index=last_index,
            layer_kind=last_kind,
            received=out_shape,
            expected=format_shape((need,)),
            fix=fix,
        )
    width = out_shape[0]
    if width == need:
        return []
    if sig.task == "binary" and width == 1:
        return ["One output for a binary task: trained with a sigmoid (binary cross-entropy) loss."]
    what = {
        "regression": "1 value (regression)",
        "features": f"{need} features (what the next module takes)",
    }.get(sig.task, f"{need} values (one per class)")
    fix = (
        f"leave the last Linear's out_features empty (it then follows the dataset), or set it to {need}."
        if ctx.auto_output_layer is not None
        else "add Linear at the end with out_features empty."
    )
    raise SpecError(
        f"The model outputs {width} values per example, but this dataset needs {what}.",
        layer_index=last_index,
        layer_kind=last_kind,
        received=out_shape,
        expected=format_shape((need,)),
        fix=fix,
    )


def _last_linear(layers: list[LayerBase]) -> LayerBase | None:
    for layer in reversed(layers):
        if layer.kind == "linear":
            return layer
    return None


def _residual_fix(shape: Shape) -> str:
    if len(shape) == 1:
        return f"make the block's last Linear output {shape[0]} features (out_features={shape[0]})."
    return f"keep {shape[0]} channels and the spatial size inside the block (use padding='same')."
