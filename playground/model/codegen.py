"""Export a model spec as standalone PyTorch source that builds the same network.

The generated module imports only `math`, `torch` and `torch.nn`, so it can be copied anywhere.
Its `build_model()` returns an `nn.Sequential` whose `state_dict()` keys are identical to the
playground's built module, so trained weights load strictly. With the same `torch.manual_seed`
it also draws the same initial weights, because layers are constructed in the same order with
the same arguments (init schemes included).

Nothing is evaluated at export time: sizes come from `check_model`'s shape table, and every
user-provided string is escaped before it reaches the source (see `_str_literal` and
`_comment_text`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from playground.errors import SpecError, format_shape
from playground.model.build import BuiltModel, DataSignature, LayerRow, check_model
from playground.model.spec import LayerBase, ModelSpec

if TYPE_CHECKING:
    from playground.data.dataset import Dataset

INDENT = "    "
LINE_LENGTH = 100
RECURRENT_KINDS = frozenset({"rnn", "lstm", "gru"})
RNN_CLASSES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
POOL_CLASSES = {
    "maxpool1d": "MaxPool1d",
    "maxpool2d": "MaxPool2d",
    "avgpool1d": "AvgPool1d",
    "avgpool2d": "AvgPool2d",
}
# Activations without parameters: the spec kind maps straight to an nn class.
PLAIN_MODULES = {
    "relu": "ReLU",
    "gelu": "GELU",
    "silu": "SiLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "softplus": "Softplus",
    "identity": "Identity",
    "flatten": "Flatten",
}

# The helper modules below mirror playground.model.layers (attribute names included, since they
# become state_dict keys). They are kept as text, not copied with inspect, so the export stays
# self-contained and independent of how the playground's own classes are written.
RECURRENT_SOURCE = '''
class RecurrentLayer(nn.Module):
    """Runs a batch-first RNN/LSTM/GRU and returns the whole sequence or the final state."""

    def __init__(self, rnn: nn.RNNBase, output: str = "last") -> None:
        super().__init__()
        self.rnn = rnn
        self.output = output  # "sequence": (B, steps, dirs*H); "last": (B, dirs*H)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, state = self.rnn(x)
        if self.output == "sequence":
            return out
        h_n = state[0] if isinstance(state, tuple) else state  # an LSTM returns (h, c)
        directions = 2 if self.rnn.bidirectional else 1
        # Final hidden state of the top layer, both directions side by side: (B, dirs*H).
        return h_n[-directions:].transpose(0, 1).reshape(x.shape[0], -1)
'''

TRANSFORMER_SOURCE = '''
class TransformerBlock(nn.Module):
    """A self-attention encoder layer with optional sinusoidal positions and pooling."""

    def __init__(
        self,
        layer: nn.TransformerEncoderLayer,
        steps: int,
        dim: int,
        positional: bool = True,
        output: str = "sequence",
    ) -> None:
        super().__init__()
        self.layer = layer
        self.output = output  # "sequence": (B, steps, dim); "last" or "mean": (B, dim)
        if positional:
            # Fixed sinusoidal positions (Vaswani et al.): attention alone ignores order.
            pos = torch.arange(steps, dtype=torch.float32).unsqueeze(1)
            freq = torch.exp(
                torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim)
            )
            table = torch.zeros(steps, dim)
            table[:, 0::2] = torch.sin(pos * freq)
            table[:, 1::2] = torch.cos(pos * freq[: dim // 2])
            # Not persistent: it is recomputed, so it stays out of the state_dict.
            self.register_buffer("positions", table, persistent=False)
        else:
            self.positions = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.positions is not None:
            x = x + self.positions
        out = self.layer(x)
        if self.output == "last":
            return out[:, -1]
        if self.output == "mean":
            return out.mean(dim=1)
        return out
'''

RESIDUAL_SOURCE = '''
class Residual(nn.Module):
    """y = x + body(x); the body keeps the shape of its input."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)
'''

INIT_SOURCE = '''
def init_weights(module: nn.Module, scheme: str, nonlinearity: str = "relu") -> nn.Module:
    """Re-initialise weight matrices/kernels with `scheme`; zero biases; keep norm scales."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            if param.dim() < 2:
                if "bias" in name:
                    param.zero_()
            elif scheme == "xavier":
                nn.init.xavier_uniform_(param)
            elif scheme == "kaiming":
                nn.init.kaiming_uniform_(param, nonlinearity=nonlinearity)
            elif scheme == "normal":
                nn.init.normal_(param, mean=0.0, std=0.02)
            elif scheme == "zeros":
                nn.init.zeros_(param)
    return module
'''

MODULE_DOCSTRING = '''"""A PyTorch model exported from the Neural Network Playground.

`build_model()` builds the same network as the playground, with freshly initialised weights.
Its state_dict keys match the playground model's, so trained weights load directly:

    model = build_model()
    from safetensors.torch import load_file  # never unpickle weights you did not make
    model.load_state_dict(load_file("RUN_ID.safetensors"))  # the playground's weights file
    model.eval()

Inputs are batch-first: (batch, *INPUT_SHAPE); `example_input()` makes a random batch.
Needs only PyTorch. Run this file to print the model and its output shape.
"""
'''

MAIN_SOURCE = """
if __name__ == "__main__":
    model = build_model().eval()
    print(model)
    with torch.no_grad():
        print("output shape:", tuple(model(example_input()).shape))
"""


def export_pytorch_source(spec: ModelSpec, data: Dataset | DataSignature) -> str:
    """The text of a standalone Python module that builds `spec` for `data` in plain PyTorch.

    Raises SpecError if the spec does not fit the data (as `check_model` does), or if it uses a
    layer kind this exporter does not know.
    """
    signature = data if isinstance(data, DataSignature) else DataSignature.of(data)
    built = check_model(spec, signature)
    rows = {row.index: row for row in built.rows}
    layers = _all_layers(spec.layers, prefix="")
    for index, layer in layers:
        if layer.kind not in EMITTERS and layer.kind != "residual":
            raise SpecError(
                f"Exporting {layer.kind} layers to PyTorch source is not supported.",
                layer_index=index,
                layer_kind=layer.kind,
                fix="replace this layer, or export the trained weights instead.",
            )
    kinds = {layer.kind for _, layer in layers}
    uses_init = any(getattr(layer, "init", "default") != "default" for _, layer in layers)
    body = _stack_lines(spec.layers, "", rows, signature, depth=2)
    preamble = [
        MODULE_DOCSTRING,
        _header(spec, data, signature, built),
        _imports(kinds),
        _constants(spec, signature, built),
    ]
    definitions = [
        *_helpers(kinds, uses_init),
        _build_function(body),
        _example_input_function(spec, signature),
        MAIN_SOURCE,
    ]
    # Blank lines as ruff format lays them out: one in the preamble, two around definitions.
    return (
        "\n\n\n".join([_join(preamble, "\n\n"), *(part.strip("\n") for part in definitions)]) + "\n"
    )


def _join(parts: list[str], separator: str) -> str:
    return separator.join(part.strip("\n") for part in parts)


def _all_layers(layers: list[LayerBase], prefix: str) -> list[tuple[str, LayerBase]]:
    """Every layer with its dotted index ("3.1" inside a residual), depth first."""
    found: list[tuple[str, LayerBase]] = []
    for i, layer in enumerate(layers):
        index = f"{prefix}{i}"
        found.append((index, layer))
        if layer.kind == "residual":
            found.extend(_all_layers(layer.layers, prefix=f"{index}."))  # type: ignore[attr-defined]
    return found


# --- header, constants and helpers -------------------------------------------------------------


def _comment_text(text: str) -> str:
    """`text` made safe inside a `#` comment: printable ASCII only, so no line break survives."""
    return ascii(text)[1:-1]


def _str_literal(text: str) -> str:
    """A Python string literal equal to `text`: ascii() escapes every quote, newline and
    non-ASCII character, so the result can never end early or span lines."""
    literal = ascii(text)
    if '"' not in text and "'" not in text:
        # No quote inside, so swapping the outer quotes for the double quotes of ruff's
        # style cannot change the meaning.
        return '"' + literal[1:-1] + '"'
    return literal


def _header(
    spec: ModelSpec, data: Dataset | DataSignature, signature: DataSignature, built: BuiltModel
) -> str:
    lines = [f"Model: {spec.name}" if spec.name else "Model: (unnamed)"]
    source = f"dataset {data.name!s}, " if not isinstance(data, DataSignature) else ""
    lines.append(
        f"Data: {source}input {format_shape(signature.input_shape)}"
        + (" integer tokens" if signature.tokens else "")
        + f", {signature.num_outputs} output(s), task {signature.task}"
    )
    lines.append(f"Output: {format_shape(built.output_shape)}")
    lines.append("")
    lines.extend(built.format_table().splitlines())
    return "\n".join(f"# {_comment_text(line)}".rstrip() for line in lines)


def _imports(kinds: set[str]) -> str:
    lines = ["import math", ""] if "transformer" in kinds else []
    lines += ["import torch", "from torch import nn"]
    return "\n".join(lines)


def _constants(spec: ModelSpec, signature: DataSignature, built: BuiltModel) -> str:
    return "\n".join(
        [
            f"MODEL_NAME = {_str_literal(spec.name)}",
            "# Shape of one example, without the batch dimension.",
            f"INPUT_SHAPE = {tuple(signature.input_shape)!r}",
            f"OUTPUT_SHAPE = {tuple(built.output_shape)!r}",
            f"TASK = {_str_literal(signature.task)}",
        ]
    )


def _helpers(kinds: set[str], uses_init: bool) -> list[str]:
    """Only the helper definitions this model needs."""
    parts = []
    if uses_init:
        parts.append(INIT_SOURCE)
    if kinds & RECURRENT_KINDS:
        parts.append(RECURRENT_SOURCE)
    if "transformer" in kinds:
        parts.append(TRANSFORMER_SOURCE)
    if "residual" in kinds:
        parts.append(RESIDUAL_SOURCE)
    return parts


def _build_function(body: list[str]) -> str:
    return "\n".join(
        [
            "def build_model() -> nn.Sequential:",
            f'{INDENT}"""The network, freshly initialised (seed torch first for repeatable weights)."""',
            f"{INDENT}return nn.Sequential(",
            *body,
            f"{INDENT})",
        ]
    )


def _example_input_function(spec: ModelSpec, signature: DataSignature) -> str:
    lines = [
        "def example_input(batch_size: int = 2) -> torch.Tensor:",
        f'{INDENT}"""A random batch shaped like the training inputs."""',
    ]
    if signature.tokens:
        vocab = signature.vocab_size or _first_vocab(spec.layers) or 1
        lines.append(f"{INDENT}return torch.randint(0, {vocab}, (batch_size, *INPUT_SHAPE))")
    else:
        lines.append(f"{INDENT}return torch.randn(batch_size, *INPUT_SHAPE)")
    return "\n".join(lines)


def _first_vocab(layers: list[LayerBase]) -> int | None:
    for layer in layers:
        if layer.kind == "embedding":
            return layer.num_embeddings  # type: ignore[attr-defined]
    return None


# --- the layer stack ---------------------------------------------------------------------------


def _stack_lines(
    layers: list[LayerBase],
    prefix: str,
    rows: dict[str, LayerRow],
    signature: DataSignature,
    depth: int,
) -> list[str]:
    """Each layer's source under a comment with its shapes; a residual opens a nested block."""
    pad = INDENT * depth
    lines: list[str] = []
    for i, layer in enumerate(layers):
        index = f"{prefix}{i}"
        row = rows[index]
        shapes = f"{format_shape(row.input_shape)} -> {format_shape(row.output_shape)}"
        lines.append(f"{pad}# {index}: {_comment_text(row.label)}  {shapes}")
        if layer.kind == "residual":
            lines.append(f"{pad}Residual(")
            children = layer.layers  # type: ignore[attr-defined]
            lines.extend(_stack_lines(children, f"{index}.", rows, signature, depth + 1))
            lines.append(f"{pad}),")
            continue
        lines.extend(_layer_call(layer, row, signature).lines(depth, suffix=","))
    return lines


def _layer_call(layer: Any, row: LayerRow, signature: DataSignature) -> Call:
    """The torch module for one (non-residual) layer, wrapped as the playground wraps it."""
    call = EMITTERS[layer.kind](layer, row, signature)
    if getattr(layer, "init", "default") != "default":
        # Applied to the bare torch module, before any wrapper, as the playground does.
        extra = ("tanh",) if layer.kind in RECURRENT_KINDS else ()
        call = _call("init_weights", call, layer.init, *extra)
    if layer.kind in RECURRENT_KINDS:
        return _call("RecurrentLayer", call, output=layer.output)
    if layer.kind == "transformer":
        steps, dim = row.input_shape
        return _call(
            "TransformerBlock",
            call,
            steps=steps,
            dim=dim,
            positional=layer.positional,
            output=layer.output,
        )
    return call


@dataclass
class Call:
    """A call expression in the generated source, laid out to fit the line length."""

    name: str
    args: list[str | Call]  # rendered arguments ("3", "stride=2") or nested calls

    def inline(self) -> str:
        return f"{self.name}({', '.join(_inline(a) for a in self.args)})"

    def lines(self, depth: int, suffix: str = "") -> list[str]:
        pad = INDENT * depth
        flat = f"{pad}{self.inline()}{suffix}"
        if len(flat) <= LINE_LENGTH:
            return [flat]
        inner = ", ".join(_inline(a) for a in self.args)
        if len(INDENT) * (depth + 1) + len(inner) <= LINE_LENGTH:
            # The arguments fit on one line of their own (ruff format's layout too).
            return [f"{pad}{self.name}(", f"{pad}{INDENT}{inner}", f"{pad}){suffix}"]
        out = [f"{pad}{self.name}("]
        for arg in self.args:
            if isinstance(arg, Call):
                out.extend(arg.lines(depth + 1, suffix=","))
            else:
                out.append(f"{pad}{INDENT}{arg},")
        out.append(f"{pad}){suffix}")
        return out


def _inline(arg: str | Call) -> str:
    return arg.inline() if isinstance(arg, Call) else arg


def _call(name: str, *args: Any, **kwargs: Any) -> Call:
    """`name(args..., key=value...)`; kwargs set to None are left out."""
    rendered: list[str | Call] = [a if isinstance(a, Call) else _literal(a) for a in args]
    rendered += [f"{k}={_literal(v)}" for k, v in kwargs.items() if v is not None]
    return Call(name, rendered)


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return _str_literal(value)
    if isinstance(value, bool | int | float):
        return repr(value)  # repr round-trips floats exactly
    raise TypeError(f"cannot write {type(value).__name__} into generated source")


def _linear(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    bias = None if layer.bias else False
    return _call("nn.Linear", row.input_shape[-1], row.output_shape[-1], bias=bias)


def _conv(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    name = "nn.Conv1d" if layer.kind == "conv1d" else "nn.Conv2d"
    return _call(
        name,
        row.input_shape[0],
        layer.out_channels,
        kernel_size=layer.kernel_size,
        stride=layer.stride if layer.stride != 1 else None,
        padding=layer.padding if layer.padding != 0 else None,
    )


def _pool(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    return _call(
        f"nn.{POOL_CLASSES[layer.kind]}", kernel_size=layer.kernel_size, stride=layer.stride
    )


def _adaptive_pool(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    name = "nn.AdaptiveAvgPool1d" if layer.kind == "adaptiveavgpool1d" else "nn.AdaptiveAvgPool2d"
    return _call(name, layer.output_size)


def _plain(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    return _call(f"nn.{PLAIN_MODULES[layer.kind]}")


def _leaky_relu(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    return _call("nn.LeakyReLU", layer.negative_slope)


def _elu(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    return _call("nn.ELU", layer.alpha)


def _dropout(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    return _call("nn.Dropout", layer.p)


def _batchnorm(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    name = "nn.BatchNorm1d" if layer.kind == "batchnorm1d" else "nn.BatchNorm2d"
    return _call(name, row.input_shape[0])


def _layernorm(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    return _call("nn.LayerNorm", row.input_shape[-1])


def _embedding(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    # Same fallback chain as EmbeddingSpec.build.
    return _call("nn.Embedding", layer.num_embeddings or sig.vocab_size or 1, layer.embedding_dim)


def _recurrent(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    # Dropout only acts between stacked layers; PyTorch warns if it is set for one layer.
    dropout = layer.dropout if layer.num_layers > 1 and layer.dropout > 0 else None
    return _call(
        f"nn.{RNN_CLASSES[layer.kind]}",
        row.input_shape[-1],
        layer.hidden_size,
        num_layers=layer.num_layers if layer.num_layers > 1 else None,
        batch_first=True,
        bidirectional=True if layer.bidirectional else None,
        dropout=dropout,
    )


def _transformer(layer: Any, row: LayerRow, sig: DataSignature) -> Call:
    return _call(
        "nn.TransformerEncoderLayer",
        row.input_shape[-1],
        layer.nhead,
        dim_feedforward=layer.dim_feedforward,
        dropout=layer.dropout,
        batch_first=True,
    )


Emitter = Callable[[Any, LayerRow, DataSignature], Call]

# Layer kind -> source for its torch module. Residual blocks are written by `_stack_lines`.
EMITTERS: dict[str, Emitter] = {
    "linear": _linear,
    "flatten": _plain,
    "dropout": _dropout,
    "conv1d": _conv,
    "conv2d": _conv,
    **dict.fromkeys(POOL_CLASSES, _pool),
    "adaptiveavgpool1d": _adaptive_pool,
    "adaptiveavgpool2d": _adaptive_pool,
    "batchnorm1d": _batchnorm,
    "batchnorm2d": _batchnorm,
    "layernorm": _layernorm,
    **dict.fromkeys(PLAIN_MODULES, _plain),
    "leakyrelu": _leaky_relu,
    "elu": _elu,
    "embedding": _embedding,
    **dict.fromkeys(RECURRENT_KINDS, _recurrent),
    "transformer": _transformer,
}
