"""Size limits checked before a model is allocated: its parameters, and its activation memory
per training batch.

Both come from the shape table that `check_model` computes on the meta device, so a spec too
big for this machine is refused in milliseconds with a SpecError giving the figure, the limit
and the layer that dominates, instead of failing (or swapping the machine to a halt) while
PyTorch allocates it. The limits are settings (playground.settings).

Activation memory is an estimate: per example, the values each layer keeps for the backward
pass (its output, plus what attention and recurrent layers keep inside: see
`LayerBase.activation_elements`), times the batch size, times 4 bytes (float32), times 2
because the backward pass makes a gradient as big as each of them. Against what autograd
really keeps (tests/test_model_limits.py) the per-example count is 1-2x for dense and conv
stacks (every output is counted, even one the next layer frees at once) and within about 15%
for recurrent and attention layers. It leaves out the weights and optimiser state (the
parameter limit bounds those) and the data, which the trainer keeps on the device.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from playground.errors import SpecError, format_shape
from playground.settings import MAX_ACTIVATION_MB_ENV, MAX_PARAMS_ENV, ModelLimits, model_limits

if TYPE_CHECKING:
    from playground.model.build import BuiltModel, LayerRow

BYTES_PER_VALUE = 4  # float32
BACKWARD_FACTOR = 2  # each kept activation gets a gradient of the same size


def check_param_limit(built: BuiltModel, limits: ModelLimits | None = None) -> None:
    """Raise a SpecError, naming the layer holding the most parameters, if `built` has more
    than the limit."""
    limits = limits or model_limits()
    if built.total_params <= limits.max_params:
        return
    row = max(_leaf_rows(built.rows), key=lambda r: r.params)
    raise SpecError(
        f"The model has {_count(built.total_params)} parameters, more than the limit of "
        f"{_count(limits.max_params)}. This layer, {row.label}, holds {_count(row.params)} "
        f"of them ({row.params / built.total_params:.0%}).",
        layer_index=row.index,
        layer_kind=row.kind,
        fix=f"{_params_fix(row)}. {_raise_hint(MAX_PARAMS_ENV, limits.max_params)}",
    )


def check_run_limits(
    modules: Mapping[str, BuiltModel], batch_size: int, limits: ModelLimits | None = None
) -> None:
    """Check a run's modules together: their parameters (each module alone was checked by
    `check_model`) and their activation memory for one training batch of `batch_size`."""
    limits = limits or model_limits()
    total = sum(m.total_params for m in modules.values())
    if len(modules) > 1 and total > limits.max_params:
        name, biggest = max(modules.items(), key=lambda item: item[1].total_params)
        row = max(_leaf_rows(biggest.rows), key=lambda r: r.params)
        raise SpecError(
            f"This run's modules have {_count(total)} parameters together, more than the limit "
            f"of {_count(limits.max_params)}. Module '{name}' holds "
            f"{_count(biggest.total_params)}, {_count(row.params)} of them in its layer "
            f"{row.index}, {row.label}.",
            fix=f"in '{name}', {_params_fix(row)}. "
            f"{_raise_hint(MAX_PARAMS_ENV, limits.max_params)}",
        )
    _check_activations(modules, batch_size, limits)


def activation_bytes(rows: list[LayerRow], batch_size: int) -> int:
    """Estimated activation memory of one training batch, in bytes (see the module notes)."""
    return batch_size * sum(r.activations for r in rows) * BYTES_PER_VALUE * BACKWARD_FACTOR


def _check_activations(
    modules: Mapping[str, BuiltModel], batch_size: int, limits: ModelLimits
) -> None:
    needed = sum(activation_bytes(m.rows, batch_size) for m in modules.values())
    limit = limits.max_activation_bytes
    if needed <= limit:
        return
    name, row = max(
        ((name, r) for name, m in modules.items() for r in m.rows), key=lambda nr: nr[1].activations
    )
    single = len(modules) == 1
    per_example = needed // batch_size
    fits = limit // per_example
    this = f"This layer, {row.label}," if single else f"Layer {row.index} of '{name}', {row.label},"
    smaller = f"make this layer's output smaller ({_output_fix(row)})"
    batch_fix = (
        f"use a batch size of at most {fits} (now {batch_size}), or {smaller}"
        if fits >= 1
        else f"even one example needs {format_bytes(per_example)}: {smaller}"
    )
    needed_text, limit_text = format_bytes(needed), format_bytes(limit)
    if needed_text == limit_text:  # just over: rounded, both would read the same
        needed_text, limit_text = f"{needed:,} bytes", f"{limit:,} bytes"
    raise SpecError(
        f"Training with batch size {batch_size} needs about {needed_text} of activation "
        f"memory per batch, more than the limit of {limit_text}. {this} keeps "
        f"{format_bytes(activation_bytes([row], batch_size))} of it (its output is "
        f"{format_shape(row.output_shape)}).",
        layer_index=row.index if single else None,
        layer_kind=row.kind if single else None,
        fix=f"{batch_fix}. {_raise_hint(MAX_ACTIVATION_MB_ENV, limits.max_activation_mb)}",
    )


def _leaf_rows(rows: list[LayerRow]) -> list[LayerRow]:
    """Rows that are not containers: a residual block's params include its sub-layers'."""
    parents = {r.index.rsplit(".", 1)[0] for r in rows if "." in r.index}
    return [r for r in rows if r.index not in parents]


def _params_fix(row: LayerRow) -> str:
    if row.kind == "linear":
        return (
            f"give this Linear fewer out_features, or fewer inputs (it takes "
            f"{row.input_shape[-1]:,}: a smaller layer before it, or pooling before Flatten)"
        )
    if row.kind == "embedding":
        return "use a smaller embedding_dim, or a smaller num_embeddings (vocabulary)"
    if row.kind in {"conv1d", "conv2d"}:
        return "use fewer out_channels or a smaller kernel_size here, or fewer channels before it"
    if row.kind in {"rnn", "lstm", "gru"}:
        return "use a smaller hidden_size or fewer num_layers"
    if row.kind == "transformer":
        return "use a smaller dim_feedforward, or fewer features going into it"
    return "make this layer smaller"


def _output_fix(row: LayerRow) -> str:
    if row.kind == "linear":
        return "fewer out_features"
    if row.kind in {"conv1d", "conv2d"}:
        return "fewer out_channels, a stride, or pooling before it"
    if row.kind in {"rnn", "lstm", "gru"}:
        return "a smaller hidden_size, fewer num_layers, or shorter sequences"
    if row.kind == "transformer":
        return "fewer heads, a smaller dim_feedforward, or shorter sequences"
    if row.kind == "embedding":
        return "a smaller embedding_dim"
    return "fewer units or channels in the layers before it"


def _raise_hint(env: str, now: int) -> str:
    return f"On a machine with the memory for it, raise the limit with {env} (now {now})."


def _count(n: int) -> str:
    """4295360514 -> '4.3 billion', 50000000 -> '50 million', 65536 -> '65,536'."""
    if n >= 1_000_000_000:
        return f"{n / 1e9:.3g} billion"
    if n >= 1_000_000:
        return f"{n / 1e6:.3g} million"
    return f"{n:,}"


def format_bytes(n_bytes: float) -> str:
    """4398046511104 -> '4 TiB', 3 << 29 -> '1.5 GiB'."""
    if n_bytes >= 1 << 40:
        return f"{n_bytes / (1 << 40):.3g} TiB"
    if n_bytes >= 1 << 30:
        return f"{n_bytes / (1 << 30):.3g} GiB"
    if n_bytes >= 1 << 20:
        return f"{n_bytes / (1 << 20):.3g} MiB"
    return f"{n_bytes / 1024:.3g} KiB"
