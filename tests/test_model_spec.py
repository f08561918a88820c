"""Model specs: shape tables for every layer kind, JSON round trips, and clear errors."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from playground.errors import SpecError
from playground.model import (
    LAYERS,
    BuiltModel,
    DataSignature,
    ModelSpec,
    build_model,
    check_model,
    layer_kinds,
)
from playground.model.shorthand import format_layers, parse_layers
from tests.signatures import FLAT, IMAGE, SEQ, SIGNAL, TOKENS

# One stack per layer kind: (signature, layers). Every registered kind must appear.
CASES = {
    "linear": (FLAT, "linear:16 linear"),
    "flatten": (IMAGE, "flatten linear"),
    "dropout": (FLAT, "linear:8 dropout:0.5 linear"),
    "conv1d": (SIGNAL, "conv1d:4:3 conv1d:4:3:stride=2 flatten linear"),
    "conv2d": (IMAGE, "conv2d:4:3 conv2d:6:3:padding=same flatten linear"),
    "maxpool1d": (SIGNAL, "maxpool1d:2 flatten linear"),
    "maxpool2d": (IMAGE, "maxpool2d:2 flatten linear"),
    "avgpool1d": (SIGNAL, "avgpool1d:3:1 flatten linear"),
    "avgpool2d": (IMAGE, "avgpool2d:3 flatten linear"),
    "adaptiveavgpool1d": (SIGNAL, "adaptiveavgpool1d:4 flatten linear"),
    "adaptiveavgpool2d": (IMAGE, "conv2d:4:3 adaptiveavgpool2d:2 flatten linear"),
    "batchnorm1d": (FLAT, "linear:8 batchnorm1d linear"),
    "batchnorm2d": (IMAGE, "conv2d:4:3 batchnorm2d flatten linear"),
    "layernorm": (SEQ, "layernorm lstm:8 linear"),
    "relu": (FLAT, "linear:8 relu linear"),
    "leakyrelu": (FLAT, "linear:8 leakyrelu:0.1 linear"),
    "elu": (FLAT, "linear:8 elu linear"),
    "gelu": (FLAT, "linear:8 gelu linear"),
    "silu": (FLAT, "linear:8 silu linear"),
    "tanh": (FLAT, "linear:8 tanh linear"),
    "sigmoid": (FLAT, "linear:8 sigmoid linear"),
    "softplus": (FLAT, "linear:8 softplus linear"),
    "identity": (FLAT, "identity linear"),
    "embedding": (TOKENS, "embedding:6 gru:10 linear"),
    "rnn": (SEQ, "rnn:7:sequence rnn:5 linear"),
    "lstm": (SEQ, "lstm:9:bidirectional=true linear"),
    "gru": (SEQ, "gru:6:num_layers=2 linear"),
    "transformer": (SEQ, "linear:8 transformer:2 transformer:4:mean linear"),
    "residual": (FLAT, "linear:8 residual[linear:8 relu linear:8] linear"),
}


def test_every_layer_kind_has_a_shape_case() -> None:
    assert set(CASES) == set(layer_kinds())


def _real_shapes(model: nn.Module, signature: DataSignature) -> dict[str, tuple[int, ...]]:
    """Output shape of every top-level and residual-body layer from a real CPU forward pass."""
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = []
    for name, module in model.named_modules():
        parts = name.split(".")
        if name and all(p.isdigit() or p == "body" for p in parts) and parts[-1].isdigit():
            key = ".".join(p for p in parts if p != "body")
            hooks.append(
                module.register_forward_hook(
                    lambda _m, _i, out, key=key: shapes.__setitem__(key, tuple(out.shape[1:]))
                )
            )
    if signature.tokens:
        x = torch.randint(0, signature.vocab_size or 2, (3, *signature.input_shape))
    else:
        x = torch.randn(3, *signature.input_shape)
    model.eval()
    out = model(x)
    for h in hooks:
        h.remove()
    shapes["out"] = tuple(out.shape[1:])
    return shapes


@pytest.mark.parametrize("kind", sorted(CASES))
def test_shape_table_matches_a_real_forward_pass(kind: str) -> None:
    signature, layers = CASES[kind]
    torch.manual_seed(0)
    built = build_model(parse_layers(layers), signature)
    real = _real_shapes(built.module, signature)
    assert real["out"] == (signature.num_outputs,)
    assert built.output_shape == (signature.num_outputs,)
    for row in built.rows:
        assert row.output_shape == real[row.index], f"row {row.index} ({row.kind})"
    # Parameter counts per row equal the real module's, and the total adds up.
    modules = dict(built.module.named_modules())
    for row in built.rows:
        name = row.index.replace(".", ".body.")
        assert row.params == sum(p.numel() for p in modules[name].parameters())
    assert built.total_params == sum(p.numel() for p in built.module.parameters())
    assert any(r.kind == kind for r in built.rows)


def test_known_parameter_counts_and_auto_output_width() -> None:
    built = check_model(parse_layers("linear:16 relu linear"), FLAT)
    assert [r.params for r in built.rows] == [2 * 16 + 16, 0, 16 * 2 + 2]
    conv = check_model(parse_layers("conv2d:8:3 flatten linear"), IMAGE)
    assert conv.rows[0].params == 8 * 1 * 9 + 8
    assert conv.rows[0].output_shape == (8, 6, 6)
    assert conv.rows[2].output_shape == (10,)  # follows the dataset's 10 classes
    lstm = check_model(parse_layers("lstm:4 linear"), SEQ)
    assert lstm.rows[0].params == 4 * (4 * 3 + 4 * 4 + 4 + 4)
    regression = check_model(
        parse_layers("linear:5 linear"), SIGNAL.__class__((4,), 1, "regression")
    )
    assert regression.output_shape == (1,)


def test_check_model_uses_no_real_memory() -> None:
    built = check_model(parse_layers("linear:4096 relu linear:4096 relu linear"), FLAT)
    assert all(p.device.type == "meta" for p in built.module.parameters())
    assert built.total_params > 16_000_000


def test_spec_json_round_trip_keeps_every_field() -> None:
    spec = parse_layers(
        "conv2d:4:3:padding=same:init=kaiming relu residual[conv2d:4:3:padding=same batchnorm2d] "
        "flatten dropout:0.25 linear:init=xavier"
    )
    again = ModelSpec.parse(spec.to_json())
    assert again.model_dump() == spec.model_dump()
    assert again.layers[2].layers[0].padding == "same"  # type: ignore[attr-defined]
    assert parse_layers(format_layers(spec)).model_dump() == spec.model_dump()


def test_init_schemes_apply() -> None:
    torch.manual_seed(0)
    zeros = build_model(parse_layers("linear:8:init=zeros linear"), FLAT).module
    assert torch.count_nonzero(zeros[0].weight) == 0
    normal = build_model(parse_layers("linear:256:init=normal linear"), FLAT).module
    assert abs(normal[0].weight.std().item() - 0.02) < 0.005
    kaiming = build_model(parse_layers("linear:256:init=kaiming linear"), FLAT).module
    assert kaiming[0].bias.abs().sum() == 0  # non-default schemes zero the biases


def test_binary_task_may_use_one_output() -> None:
    built = check_model(parse_layers("linear:8 relu linear:1"), FLAT)
    assert built.output_shape == (1,)
    assert "sigmoid" in built.notes[0]


BAD_SPECS = [
    # (signature, layers, index, kind, words the message must contain)
    (
        IMAGE,
        "linear:8 linear",
        "0",
        "linear",
        ["(B, 1, 8, 8)", "add Flatten before Linear", "64 features"],
    ),
    (IMAGE, "conv2d:4:3 linear", "1", "linear", ["(B, 4, 6, 6)", "add Flatten before Linear"]),
    (
        FLAT,
        "conv2d:4:3 flatten linear",
        "0",
        "conv2d",
        ["(B, 2)", "(B, channels, height, width)", "Linear"],
    ),
    (FLAT, "lstm:8 linear", "0", "lstm", ["(B, 2)", "(B, steps, features)", "sequence dataset"]),
    (IMAGE, "conv2d:4:9 flatten linear", "0", "conv2d", ["window of 9", "smaller kernel_size"]),
    (
        IMAGE,
        "maxpool2d maxpool2d maxpool2d maxpool2d flatten linear",
        "3",
        "maxpool2d",
        ["(B, 1, 1, 1)"],
    ),
    (SEQ, "transformer:2 linear", "0", "transformer", ["3 features", "nhead", "[1, 3]"]),
    (
        FLAT,
        "linear:8 residual[linear:8 relu linear:4] linear",
        "1",
        "residual",
        ["(B, 8)", "(B, 4)", "out_features=8"],
    ),
    (FLAT, "linear:8 residual[linear:8 conv2d:2] linear", "1.1", "conv2d", ["(B, 8)"]),
    (FLAT, "linear relu linear", "0", "linear", ["out_features", "hidden Linear"]),
    (
        FLAT,
        "linear:8 linear:3",
        "1",
        "linear",
        ["outputs 3 values", "needs 2 values", "out_features empty"],
    ),
    (SEQ, "lstm:8:sequence linear", "1", "linear", ["(B, 12, 4)", "output='last'"]),
    (TOKENS, "lstm:8 linear", "0", "lstm", ["integer tokens", "Embedding"]),
    (SEQ, "embedding:4 lstm linear", "0", "embedding", ["integer tokens", "real-valued"]),
    (FLAT, "linear:-3 linear", "0", "linear", ["out_features", "greater than"]),
    (FLAT, "linear:8 dropout:1.5 linear", "1", "dropout", ["'p'", "less than 1"]),
    (FLAT, "linear:8 convolution linear", "1", "convolution", ["unknown layer kind", "conv2d"]),
    (FLAT, "linear:8 relu:bogus=1 linear", "1", "relu", ["bogus", "Extra inputs"]),
]


@pytest.mark.parametrize(("signature", "layers", "index", "kind", "words"), BAD_SPECS)
def test_bad_specs_name_the_layer_and_the_fix(signature, layers, index, kind, words) -> None:
    with pytest.raises(SpecError) as info:
        check_model(parse_layers(layers), signature)
    err = info.value
    assert err.layer_index == index
    assert err.layer_kind == kind
    text = str(err)
    assert text.startswith(f"Layer {index} ({kind}):")
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


def test_spec_from_bad_json_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="not valid JSON"):
        ModelSpec.parse("{layers: [")
    with pytest.raises(SpecError, match="at least 1"):
        ModelSpec.parse({"layers": []})


def _random_layer(rng: random.Random, depth: int = 0) -> dict:
    kind = rng.choice(sorted(LAYERS))
    layer: dict = {"kind": kind}
    if kind == "residual":
        layer["layers"] = (
            [_random_layer(rng, depth + 1) for _ in range(rng.randint(1, 3))] if depth < 2 else []
        )
        return layer
    for field, info in LAYERS[kind].model_fields.items():
        if field == "kind" or rng.random() < 0.6:
            continue
        default = info.default
        if isinstance(default, bool):
            layer[field] = rng.choice([True, False])
        elif isinstance(default, int) or default is None:
            layer[field] = rng.choice([0, 1, 2, 3, 5, 8, 17, -1])
        elif isinstance(default, float):
            layer[field] = rng.choice([0.0, 0.1, 0.5, 0.99, 1.0, -0.5])
        elif isinstance(default, str):
            layer[field] = rng.choice(
                ["same", "last", "sequence", "mean", "xavier", "zeros", "nonsense"]
            )
    return layer


def test_random_specs_give_a_model_or_a_spec_error_never_a_traceback() -> None:
    rng = random.Random(1234)
    signatures = [FLAT, IMAGE, SEQ, TOKENS, SIGNAL]
    built = failed = 0
    for _ in range(400):
        layers = [_random_layer(rng) for _ in range(rng.randint(1, 5))]
        if rng.random() < 0.5:
            layers.append({"kind": "linear"})
        signature = rng.choice(signatures)
        try:
            result = build_model({"layers": layers}, signature)
        except SpecError as exc:
            failed += 1
            assert str(exc)
            continue
        built += 1
        assert isinstance(result, BuiltModel)
        real = _real_shapes(result.module, signature)
        assert real["out"] == result.output_shape
    assert built > 10 and failed > 100  # both outcomes are exercised
