"""A sweep's search space: plain data naming what varies, and how.

Each `Param` names one value of a run request by an address and says how it varies:

    lr                         a training option (any TrainConfig field; "config.lr" also works)
    layers.0.out_features      a parameter of layer 0 of the model (the first module's layers)
    layers.2.layers.0.p        a layer inside a residual block
    layers.1.kind              swap an activation layer for another kind (relu, tanh, gelu...)
    encoder.layers.1.out_features   a layer of a named module (autoencoders, GANs)
    repeat.0-1                 how many times layers 0..1 appear (1 = as in the spec): depth

and is a range ("float" or "int", linear or log, optional step), a "choice" list, or "fixed".
Layer indices always refer to the base spec: parameters are set first, then the repeated
blocks are expanded (each copy carries the block's values), so one address means one layer
whatever the depth of a trial.

`apply_params(base, values)` turns a base RunRequest and one trial's values into the trial's
RunRequest; `suggest(space, trial)` asks an Optuna trial for the values. JSON round trip:
`SearchSpace.model_validate_json(space.model_dump_json()) == space`.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from playground.errors import PlaygroundError
from playground.model.spec import ModelSpec, layer_kinds
from playground.runs.request import RunRequest
from playground.train.config import TrainConfig

Scalar = bool | int | float | str | None
ParamKind = Literal["float", "int", "choice", "fixed"]
REPEAT = "repeat"
MAX_REPEATS = 16  # copies of one block: a deeper stack is a different experiment
DEFAULT_GRID_POINTS = 3

_REPEAT_RE = re.compile(
    r"^(?:(?P<module>[A-Za-z_]\w*)\.)?repeat\.(?P<start>\d+)(?:-(?P<end>\d+))?$"
)


class SweepSpaceError(PlaygroundError):
    """A search space that does not fit the base request (names the parameter)."""


class Param(BaseModel):
    """One varying (or fixed) value of the run request, by its address (see module doc)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    kind: ParamKind
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = Field(default=None, gt=0)
    choices: list[Scalar] | None = None
    value: Scalar = None
    # A range on a grid sampler: this many points, evenly spaced (log-spaced when `log`).
    grid: int = Field(default=DEFAULT_GRID_POINTS, ge=2, le=50)

    @model_validator(mode="after")
    def _consistent(self) -> Param:
        if self.kind in ("float", "int"):
            if self.low is None or self.high is None:
                raise ValueError(f"'{self.name}': a range needs low and high")
            if self.low > self.high:
                raise ValueError(f"'{self.name}': low {self.low} is above high {self.high}")
            if self.log and self.low <= 0:
                raise ValueError(f"'{self.name}': a log range needs low > 0 (got {self.low})")
            if self.kind == "int" and (self.low != int(self.low) or self.high != int(self.high)):
                raise ValueError(f"'{self.name}': an int range needs whole low and high")
            if self.log and self.step is not None:
                raise ValueError(f"'{self.name}': a log range cannot have a step")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"'{self.name}': a choice needs at least one value")
        return self

    # -- text form: NAME=log:1e-4:1e-1, NAME=int:8:64, NAME=choice:adam,sgd, NAME=VALUE --------
    @classmethod
    def parse_text(cls, text: str) -> Param:
        """`lr=log:1e-4:1e-1`, `lr=float:0.001:0.1`, `layers.0.out_features=int:8:64`
        (`int:8:64:log`, `int:8:64:step=8`), `optimizer=choice:adam,sgd`, `epochs=fixed:30`
        or plainly `epochs=30`."""
        name, sep, rest = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SweepSpaceError(
                f"--param {text!r} is not NAME=SPEC.",
                "Examples: lr=log:1e-4:1e-1, layers.0.out_features=int:8:64, "
                "optimizer=choice:adam,sgd, epochs=30.",
            )
        head, _, tail = rest.strip().partition(":")
        try:
            if head in ("float", "log", "int"):
                parts = tail.split(":")
                low, high = float(parts[0]), float(parts[1])
                log = head == "log" or "log" in parts[2:]
                step = next((float(p[5:]) for p in parts[2:] if p.startswith("step=")), None)
                is_int = head == "int" or (head == "log" and _whole(parts[:2]))
                return cls(
                    name=name,
                    kind="int" if is_int else "float",
                    low=low,
                    high=high,
                    log=log,
                    step=step,
                )
            if head == "choice":
                return cls(name=name, kind="choice", choices=[_scalar(v) for v in tail.split(",")])
            if head == "fixed":
                return cls(name=name, kind="fixed", value=_scalar(tail))
            return cls(name=name, kind="fixed", value=_scalar(rest.strip()))
        except (IndexError, ValueError, ValidationError) as exc:
            detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise SweepSpaceError(
                f"--param {text!r}: {detail.removeprefix('Value error, ')}.",
                "A range is float:LOW:HIGH, log:LOW:HIGH or int:LOW:HIGH[:log][:step=N]; a list "
                "is choice:A,B,C.",
            ) from None

    def to_text(self) -> str:
        if self.kind == "fixed":
            return f"{self.name}=fixed:{self.value}"
        if self.kind == "choice":
            return f"{self.name}=choice:{','.join(str(c) for c in self.choices or [])}"
        low, high = _number(self.low), _number(self.high)
        if self.kind == "float" and self.log:
            return f"{self.name}=log:{low}:{high}"
        extra = (":log" if self.log else "") + (f":step={_number(self.step)}" if self.step else "")
        return f"{self.name}={self.kind}:{low}:{high}{extra}"

    @property
    def varies(self) -> bool:
        return self.kind != "fixed" and not (self.kind == "choice" and len(self.choices or []) < 2)

    def grid_values(self) -> list[Scalar]:
        """The values a grid sampler tries: the choices, or `grid` points of the range."""
        if self.kind == "fixed":
            return [self.value]
        if self.kind == "choice":
            return list(self.choices or [])
        low, high = float(self.low or 0.0), float(self.high or 0.0)
        if self.step:
            count = math.floor((high - low) / self.step + 1e-9) + 1
            values = [low + i * self.step for i in range(count)]
            if len(values) > self.grid:  # thin to `grid` points, ends included
                values = [
                    values[round(i * (len(values) - 1) / (self.grid - 1))] for i in range(self.grid)
                ]
        elif self.log:
            ratio = math.log(high / low)
            values = [low * math.exp(ratio * i / (self.grid - 1)) for i in range(self.grid)]
        else:
            values = [low + (high - low) * i / (self.grid - 1) for i in range(self.grid)]
        if self.kind == "int":
            return list(dict.fromkeys(round(v) for v in values))
        return [float(f"{v:.6g}") for v in values]


class SearchSpace(BaseModel):
    """The parameters of a sweep, in order; plain data stored with the sweep."""

    model_config = ConfigDict(extra="forbid")

    params: list[Param] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> SearchSpace:
        names = [p.name for p in self.params]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"parameter {twice[0]!r} is given twice")
        return self

    @classmethod
    def from_texts(cls, texts: list[str]) -> SearchSpace:
        return cls(params=[Param.parse_text(t) for t in texts])

    @property
    def varying(self) -> list[Param]:
        return [p for p in self.params if p.varies]

    def fixed_values(self) -> dict[str, Scalar]:
        """Values that never vary (fixed, or a choice of one)."""
        return {
            p.name: (p.value if p.kind == "fixed" else (p.choices or [None])[0])
            for p in self.params
            if not p.varies
        }

    def grid(self) -> dict[str, list[Scalar]]:
        """The grid sampler's search space: each varying parameter's values."""
        return {p.name: p.grid_values() for p in self.varying}

    def grid_size(self) -> int:
        return math.prod(len(v) for v in self.grid().values()) if self.varying else 1

    def check(self, base: RunRequest) -> None:
        """Refuse a space that does not fit `base`: an unknown option, layer or layer field,
        overlapping repeated blocks; then build one request from the ranges' low ends, so a
        value the request refuses (a width of 0) is named before anything runs."""
        for param in self.params:
            _check_address(param, base)
        _repeats(base, {p.name: 1 for p in self.params if _REPEAT_RE.match(p.name)})
        apply_params(base, {p.name: _sample_value(p) for p in self.params})


def suggest(space: SearchSpace, trial: Any) -> dict[str, Scalar]:
    """One trial's values of the varying parameters, asked of an Optuna trial (or frozen
    trial's `params` when it is replayed). Ranges use suggest_float / suggest_int."""
    values: dict[str, Scalar] = {}
    for p in space.varying:
        if p.kind == "choice":
            values[p.name] = trial.suggest_categorical(p.name, list(p.choices or []))
        elif p.kind == "int":
            step = int(p.step) if p.step else 1
            values[p.name] = trial.suggest_int(
                p.name, int(p.low or 0), int(p.high or 0), step=step, log=p.log
            )
        else:
            values[p.name] = trial.suggest_float(
                p.name, float(p.low or 0.0), float(p.high or 0.0), step=p.step, log=p.log
            )
    return values


def apply_params(base: RunRequest, values: dict[str, Scalar]) -> RunRequest:
    """The run request `base` with `values` set (addresses as in the module doc). Raises a
    SweepSpaceError naming the parameter when a value does not fit."""
    data = base.model_dump(mode="json")
    config = dict(data["config"])
    repeats: dict[str, int] = {}
    for name, value in values.items():
        if _REPEAT_RE.match(name):
            repeats[name] = int(value)  # type: ignore[arg-type]
            continue
        target, path = _split(name, base)
        if target == "config":
            config[path[0]] = value
            continue
        _set_layer_value(data["modules"][target], path, value, name)
    data["config"] = config
    request = _parse(data, values)
    if repeats:
        data = request.model_dump(mode="json")
        for module, layers in _repeats(request, repeats).items():
            data["modules"][module]["layers"] = layers
        request = _parse(data, values)
    return request


@dataclass(frozen=True)
class Tunable:
    """A parameter a page offers to vary, with a sensible default way to vary it."""

    address: str
    label: str  # "layer 1 Linear(32): units"
    default: Param


def tunable_parameters(spec: ModelSpec | dict[str, Any], module: str = "") -> list[Tunable]:
    """Every layer parameter of `spec` worth sweeping (widths, kernel sizes, rates,
    activations), each with a default range around its current value. `module` prefixes the
    addresses for a named module of several."""
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
    prefix = f"{module}." if module else ""
    found: list[Tunable] = []
    _walk_tunables(spec.model_dump()["layers"], f"{prefix}layers", "layer ", found)
    return found


def activation_kinds() -> list[str]:
    """Layer kinds that are element-wise activations (one can replace another)."""
    from playground.model.layers.activation import ActivationBase

    return [k for k, cls in layer_kinds().items() if issubclass(cls, ActivationBase)]


def training_default(name: str, current: Any) -> Param:
    """A default way to vary training option `name` from its current value."""
    field = TrainConfig.model_fields[name]
    choices = getattr(field.annotation, "__args__", None)
    if field.annotation is bool:
        return Param(name=name, kind="choice", choices=[True, False])
    if choices and all(isinstance(c, str) for c in choices):
        return Param(name=name, kind="choice", choices=list(choices))
    if name == "lr":
        value = float(current or 0.01)
        return Param(name=name, kind="float", low=value / 10, high=min(value * 10, 10.0), log=True)
    if isinstance(current, bool) or current is None:
        return Param(name=name, kind="fixed", value=current)
    if isinstance(current, int):
        low, high = max(1, current // 2), max(current * 2, 2)
        return Param(name=name, kind="int", low=low, high=high, log=low > 0 and high / low >= 4)
    if isinstance(current, float):
        if current <= 0:
            return Param(name=name, kind="float", low=0.0, high=0.1)
        return Param(name=name, kind="float", low=current / 10, high=current * 10, log=True)
    return Param(name=name, kind="fixed", value=current)


# -- helpers ---------------------------------------------------------------------------------
def _whole(parts: list[str]) -> bool:
    return all(re.fullmatch(r"\d+", p.strip()) for p in parts)


def _scalar(text: str) -> Scalar:
    """'adam' -> 'adam', '32' -> 32, '0.5' -> 0.5, 'true' -> True, 'none' -> None."""
    text = text.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _number(value: float | None) -> str:
    return f"{value:g}" if value is not None else ""


def _sample_value(p: Param) -> Scalar:
    if p.kind == "fixed":
        return p.value
    if p.kind == "choice":
        return (p.choices or [None])[0]
    return int(p.low or 0) if p.kind == "int" else float(p.low or 0.0)


def _split(name: str, base: RunRequest) -> tuple[str, list[str]]:
    """("config", [option]) or (module name, path inside its spec)."""
    parts = name.split(".")
    if parts[0] == "config" and len(parts) == 2:
        parts = parts[1:]
    if len(parts) == 1:
        if parts[0] not in TrainConfig.model_fields:
            raise SweepSpaceError(
                f"Sweep parameter {name!r} is no training option.",
                f"Training options: {', '.join(TrainConfig.model_fields)}; layer parameters "
                "look like layers.0.out_features.",
            )
        return "config", parts
    if parts[0] == "layers":
        return next(iter(base.modules)), parts
    if parts[0] in base.modules and len(parts) > 1 and parts[1] == "layers":
        return parts[0], parts[1:]
    raise SweepSpaceError(
        f"Sweep parameter {name!r} names nothing in the run.",
        "Use a training option (lr), a layer parameter (layers.0.out_features), an activation "
        "(layers.1.kind) or a repeated block (repeat.0-1).",
    )


def _check_address(param: Param, base: RunRequest) -> None:
    match = _REPEAT_RE.match(param.name)
    if match:
        if param.kind in ("float",) or (param.kind == "int" and (param.low or 0) < 1):
            raise SweepSpaceError(
                f"Sweep parameter {param.name!r}: a block repeats a whole number of times, "
                "at least once.",
                "Use int:1:4, or choice:1,2,3.",
            )
        values = param.grid_values() if param.kind != "int" else [param.low, param.high]
        if any(not isinstance(v, (int, float)) or not 1 <= v <= MAX_REPEATS for v in values):
            raise SweepSpaceError(
                f"Sweep parameter {param.name!r}: repeats go from 1 to {MAX_REPEATS}.",
                "Use e.g. int:1:4.",
            )
        return
    target, path = _split(param.name, base)
    if target == "config":
        return
    layers = base.modules[target].model_dump()["layers"]
    _locate(layers, path, param.name)


def _locate(layers: list[dict[str, Any]], path: list[str], name: str) -> tuple[dict[str, Any], str]:
    """The layer dict and field a path ["layers", "2", ("layers", "0",) "field"] names."""
    node: dict[str, Any] = {"layers": layers}
    i = 0
    while i + 1 < len(path) and path[i] == "layers":
        index = path[i + 1]
        children = node.get("layers")
        if not isinstance(children, list) or not index.isdigit() or int(index) >= len(children):
            count = len(children) if isinstance(children, list) else 0
            raise SweepSpaceError(
                f"Sweep parameter {name!r}: there is no layer {index} (the stack has {count}).",
                "Layers count from 0, as on the Build page's table.",
            )
        node = children[int(index)]
        i += 2
    rest = path[i:]
    if len(rest) != 1:
        raise SweepSpaceError(
            f"Sweep parameter {name!r} does not end in one layer's field.",
            "Example: layers.0.out_features.",
        )
    field = rest[0]
    kind = node.get("kind")
    cls = layer_kinds().get(str(kind))
    if field != "kind" and (cls is None or field not in cls.model_fields):
        fields = [f for f in (cls.model_fields if cls else {}) if f != "kind"]
        raise SweepSpaceError(
            f"Sweep parameter {name!r}: a {kind} layer has no field {field!r}.",
            f"Its fields: {', '.join(fields) or 'none'}.",
        )
    return node, field


def _set_layer_value(spec: dict[str, Any], path: list[str], value: Scalar, name: str) -> None:
    node, field = _locate(spec["layers"], path, name)
    if field != "kind":
        node[field] = value
        return
    cls = layer_kinds().get(str(value))
    if cls is None:
        raise SweepSpaceError(
            f"Sweep parameter {name!r}: there is no layer kind {value!r}.",
            f"Activations: {', '.join(activation_kinds())}.",
        )
    kept = {k: v for k, v in node.items() if k in cls.model_fields and k != "kind"}
    node.clear()
    node.update({"kind": value, **kept})


def _repeats(request: RunRequest, repeats: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Each module's layers with its blocks repeated; overlapping blocks are refused."""
    blocks: dict[str, list[tuple[int, int, int, str]]] = {}
    for name, count in repeats.items():
        match = _REPEAT_RE.match(name)
        assert match is not None
        module = match["module"] or next(iter(request.modules))
        if module not in request.modules:
            raise SweepSpaceError(f"Sweep parameter {name!r}: the run has no module {module!r}.")
        start = int(match["start"])
        end = int(match["end"] if match["end"] is not None else start)
        size = len(request.modules[module].layers)
        if start > end or end >= size:
            raise SweepSpaceError(
                f"Sweep parameter {name!r}: layers {start} to {end} are not a block of this "
                f"stack of {size} layers.",
                "A block is repeat.FIRST-LAST with FIRST <= LAST, counting from 0.",
            )
        blocks.setdefault(module, []).append((start, end, count, name))
    result: dict[str, list[dict[str, Any]]] = {}
    for module, found in blocks.items():
        found.sort()
        for (_, end_a, _, a), (start_b, _, _, b) in itertools.pairwise(found):
            if start_b <= end_a:
                raise SweepSpaceError(
                    f"Repeated blocks {a!r} and {b!r} overlap.", "Give each block its own layers."
                )
        layers = request.modules[module].model_dump(mode="json")["layers"]
        # From the last block back, so the earlier blocks' indices still hold.
        for start, end, count, _ in reversed(found):
            block = layers[start : end + 1]
            layers[start : end + 1] = [copy.deepcopy(x) for _ in range(count) for x in block]
        result[module] = layers
    return result


def _parse(data: dict[str, Any], values: dict[str, Scalar]) -> RunRequest:
    try:
        return RunRequest.parse(data)
    except PlaygroundError as exc:
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        raise SweepSpaceError(
            f"These sweep values make no valid run ({shown}): {exc.message}",
            "Narrow the parameter's range, or change the base model.",
        ) from None


def _walk_tunables(
    layers: list[dict[str, Any]], address: str, label: str, found: list[Tunable]
) -> None:
    activations = set(activation_kinds())
    kinds = layer_kinds()
    for i, layer in enumerate(layers):
        kind = layer["kind"]
        cls = kinds[kind]
        title = cls.model_validate(layer).describe()
        where = f"{address}.{i}"
        name = f"{label}{i} {title}"
        if kind in activations:
            found.append(
                Tunable(
                    f"{where}.kind",
                    f"{name}: activation",
                    Param(name=f"{where}.kind", kind="choice", choices=_activation_choices(kind)),
                )
            )
        for field, value in layer.items():
            if field == "layers" and isinstance(value, list):
                _walk_tunables(value, f"{where}.layers", f"{name} › ", found)
                continue
            default = _layer_default(f"{where}.{field}", value, cls.model_fields.get(field))
            if default is not None:
                found.append(Tunable(default.name, f"{name}: {field.replace('_', ' ')}", default))


# The activations a sweep tries first, in this order, after the spec's own.
PREFERRED_ACTIVATIONS = ("relu", "tanh", "gelu", "leakyrelu", "elu", "silu", "sigmoid")


def _activation_choices(current: str) -> list[Scalar]:
    others = [k for k in PREFERRED_ACTIVATIONS if k != current and k in activation_kinds()]
    return [current, *others[:2]]


def _layer_default(address: str, value: Any, field: Any) -> Param | None:
    """A range around a layer field's value: ints (widths, kernels) and rates."""
    if field is None or isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 1:
        low, high = max(1, value // 2), value * 2
        return Param(name=address, kind="int", low=low, high=high, log=high / low >= 4)
    if isinstance(value, float) and 0.0 <= value < 1.0:
        return Param(name=address, kind="float", low=0.0, high=0.5)
    return None
