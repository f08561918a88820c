"""Exported PyTorch source: it imports alone, loads the playground's weights strictly and
computes the same outputs, for every layer kind."""

from __future__ import annotations

import ast
import importlib.util
import runpy
from pathlib import Path
from types import ModuleType
from typing import ClassVar, Literal

import pytest
import torch
from torch import nn

from playground.data.dataset import Dataset
from playground.errors import SpecError
from playground.model import DataSignature, LayerBase, ModelSpec, build_model, layer_kinds
from playground.model.codegen import export_pytorch_source
from playground.model.shorthand import parse_layers
from tests.signatures import FLAT, IMAGE, SEQ, SIGNAL, TOKENS

# Together these stacks use every layer kind and the options that change the generated code.
CASES = {
    "mlp": (
        FLAT,
        "linear:16:init=xavier batchnorm1d relu dropout:0.3 linear:16:bias=false "
        "leakyrelu:0.1 linear:16:init=normal elu:alpha=0.5 linear:16 gelu linear:16 silu "
        "linear:16 tanh linear:16:init=zeros sigmoid linear:16 softplus identity layernorm linear",
    ),
    "cnn": (
        IMAGE,
        "conv2d:4:3:init=kaiming batchnorm2d relu maxpool2d:2 conv2d:6:3:padding=same "
        "avgpool2d:2:1 conv2d:6:1 maxpool2d:2:1 adaptiveavgpool2d:2 flatten linear",
    ),
    "conv1d": (
        SIGNAL,
        "conv1d:4:3 batchnorm1d relu conv1d:4:3:stride=2:padding=1 maxpool1d:2:1 avgpool1d:2 "
        "adaptiveavgpool1d:2 flatten linear",
    ),
    "embedding_gru": (TOKENS, "embedding:6 gru:10:num_layers=2:dropout=0.2 linear"),
    "embedding_sized": (
        TOKENS,
        "embedding:5:num_embeddings=20:init=normal gru:4:sequence flatten linear",
    ),
    "bilstm": (SEQ, "layernorm lstm:9:bidirectional=true:init=xavier linear"),
    "stacked_bilstm": (SEQ, "lstm:5:sequence:bidirectional=true:num_layers=2 flatten linear"),
    "rnn_sequence": (SEQ, "rnn:7:sequence rnn:5:bidirectional=true:init=kaiming linear"),
    "transformer_mean": (
        SEQ,
        "linear:8 transformer:2:positional=false transformer:4:mean:dropout=0.0 linear",
    ),
    "transformer_last": (SEQ, "linear:6 transformer:3:last:init=xavier linear"),
    "residual_nested": (
        FLAT,
        "linear:8 residual[linear:8 relu residual[linear:8 tanh linear:8] linear:8] relu linear",
    ),
    "residual_cnn": (
        IMAGE,
        "conv2d:4:3:padding=same residual[conv2d:4:3:padding=same batchnorm2d relu] flatten linear",
    ),
    "residual_sequence": (SEQ, "linear:8 residual[transformer:2 linear:8] lstm:4 linear"),
}


def _kinds(layers: list[LayerBase]) -> set[str]:
    found = set()
    for layer in layers:
        found.add(layer.kind)
        if layer.kind == "residual":
            found |= _kinds(layer.layers)  # type: ignore[attr-defined]
    return found


def _load(source: str, path: Path) -> ModuleType:
    """Import the generated source from a file, as a user who copied it would."""
    path.write_text(source, encoding="utf-8")
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _input(signature: DataSignature, batch: int = 4) -> torch.Tensor:
    if signature.tokens:
        return torch.randint(0, signature.vocab_size or 2, (batch, *signature.input_shape))
    return torch.randn(batch, *signature.input_shape)


def _assert_same_network(
    spec: ModelSpec, signature: DataSignature, tmp_path: Path, name: str = "exported"
) -> ModuleType:
    torch.manual_seed(0)
    ours = build_model(spec, signature).module
    # Train-mode passes move BatchNorm's running statistics off their defaults, so the check
    # below also covers buffers, not just parameters.
    ours.train()
    with torch.no_grad():
        for _ in range(2):
            ours(_input(signature, batch=8))
    generated = _load(export_pytorch_source(spec, signature), tmp_path / f"{name}.py")
    torch.manual_seed(1)  # different initial weights, so matching outputs prove the load worked
    theirs = generated.build_model()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    ours.eval()
    theirs.eval()
    x = _input(signature)
    with torch.no_grad():
        expected, actual = ours(x), theirs(x)
    assert actual.shape == expected.shape == (4, *generated.OUTPUT_SHAPE)
    assert torch.allclose(actual, expected, atol=1e-6)
    return generated


def test_cases_cover_every_layer_kind() -> None:
    used = set().union(*(_kinds(parse_layers(text).layers) for _, text in CASES.values()))
    assert used == set(layer_kinds())


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_model_loads_weights_strictly_and_matches(case: str, tmp_path: Path) -> None:
    signature, text = CASES[case]
    _assert_same_network(parse_layers(text), signature, tmp_path)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_seed_gives_the_same_initial_weights(case: str, tmp_path: Path) -> None:
    signature, text = CASES[case]
    spec = parse_layers(text)
    generated = _load(export_pytorch_source(spec, signature), tmp_path / "seeded.py")
    torch.manual_seed(3)
    ours = build_model(spec, signature).module.state_dict()
    torch.manual_seed(3)
    theirs = generated.build_model().state_dict()
    assert list(theirs) == list(ours)
    for key, value in ours.items():
        assert torch.equal(theirs[key], value), key


def test_source_imports_only_math_and_torch() -> None:
    for signature, text in CASES.values():
        source = export_pytorch_source(parse_layers(text), signature)
        imported = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(f"{node.module}.{node.names[0].name}")
        assert imported <= {"math", "torch", "torch.nn"}
        assert "playground." not in source


def test_helpers_appear_only_when_used() -> None:
    mlp = export_pytorch_source(parse_layers("linear:8 relu linear"), FLAT)
    for helper in ("class RecurrentLayer", "class TransformerBlock", "class Residual"):
        assert helper not in mlp
    assert "def init_weights" not in mlp
    assert "import math" not in mlp
    lstm = export_pytorch_source(parse_layers("lstm:4 linear"), SEQ)
    assert "class RecurrentLayer" in lstm and "class TransformerBlock" not in lstm
    attention = export_pytorch_source(parse_layers("linear:4 transformer:2:mean linear"), SEQ)
    assert "class TransformerBlock" in attention and "import math" in attention
    residual = export_pytorch_source(
        parse_layers("linear:4:init=xavier residual[relu] linear"), FLAT
    )
    assert "class Residual" in residual and "def init_weights" in residual


def test_header_has_input_shape_and_shape_table() -> None:
    spec = parse_layers("conv2d:4:3 flatten linear")
    source = export_pytorch_source(spec, IMAGE)
    header = source.split('"""')[2]  # the comment block after the module docstring
    assert "input (B, 1, 8, 8)" in header
    assert "Conv2d(4, k=3)" in header and "(B, 4, 6, 6)" in header
    assert "nn.Conv2d(1, 4, kernel_size=3)" in source
    assert "nn.Linear(144, 10)" in source  # concrete sizes from the shape table


def test_hostile_spec_name_cannot_break_the_module(tmp_path: Path) -> None:
    name = 'evil"""\n\'\'\'\r\nimport os  # \\ \u2028x\x00 é 😀 """'
    spec = parse_layers("linear:8 relu residual[linear:8 tanh] linear")
    spec.name = name
    generated = _assert_same_network(spec, FLAT, tmp_path, name="hostile")
    assert name == generated.MODEL_NAME
    source = export_pytorch_source(spec, FLAT)
    assert source.isascii()  # escaped, so no odd line separators or encodings either
    # The name stays inside its comment line and its string literal: no statement escapes.
    statements = ast.parse(source).body
    imports = [s for s in statements if isinstance(s, ast.Import | ast.ImportFrom)]
    assert len(imports) == 2  # torch and torch.nn
    assigned = [t.id for s in statements if isinstance(s, ast.Assign) for t in s.targets]
    assert assigned == ["MODEL_NAME", "INPUT_SHAPE", "OUTPUT_SHAPE", "TASK"]
    assert ast.get_docstring(ast.parse(source), clean=False).startswith("A PyTorch model")
    model_lines = [line for line in source.splitlines() if line.startswith("# Model:")]
    assert len(model_lines) == 1 and "import os" in model_lines[0]


def test_token_dataset_and_running_as_a_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = export_pytorch_source(parse_layers("embedding:6 gru:10 linear"), TOKENS)
    path = tmp_path / "script.py"
    path.write_text(source, encoding="utf-8")
    runpy.run_path(str(path), run_name="__main__")
    assert "output shape: (2, 4)" in capsys.readouterr().out
    generated = _load(source, tmp_path / "tokens.py")
    assert generated.example_input(3).dtype == torch.long


def test_accepts_a_dataset(xor: Dataset, tmp_path: Path) -> None:
    source = export_pytorch_source(parse_layers("linear:8 relu linear"), xor)
    assert "dataset xor_handmade" in source
    generated = _load(source, tmp_path / "xor.py")
    assert generated.build_model()(generated.example_input()).shape == (2, 2)


class _MysterySpec(LayerBase):
    kind: Literal["mystery"] = "mystery"
    title: ClassVar[str] = "Mystery"

    def build(self, shape: tuple[int, ...], ctx: object) -> nn.Module:
        return nn.Identity()


def test_unknown_layer_kind_is_a_spec_error() -> None:
    # Not registered: a spec accepts layer instances directly, and the builder only calls build.
    spec = ModelSpec(
        layers=[parse_layers("linear:8").layers[0], _MysterySpec(), *parse_layers("linear").layers]
    )
    with pytest.raises(SpecError, match="mystery") as info:
        export_pytorch_source(spec, FLAT)
    assert info.value.layer_index == "1"


def test_a_spec_that_does_not_fit_the_data_is_a_spec_error() -> None:
    with pytest.raises(SpecError):
        export_pytorch_source(parse_layers("linear:8 linear"), IMAGE)
