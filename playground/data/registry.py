"""Dataset registry: name -> builder. Adding a dataset is one `@register_dataset` entry.

A builder is a pure function of its keyword parameters (sample count, noise, seed, ...) and
returns a `Dataset`; the same parameters always give the same splits.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from playground.data.dataset import Dataset, Kind, Task
from playground.errors import DatasetError

Builder = Callable[..., Dataset]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    kind: Kind
    task: Task
    description: str
    builder: Builder

    def defaults(self) -> dict[str, Any]:
        """The builder's keyword parameters and their default values."""
        return {
            p.name: p.default
            for p in inspect.signature(self.builder).parameters.values()
            if p.default is not inspect.Parameter.empty
        }

    def parameter_types(self) -> dict[str, Any]:
        """The builder's parameter annotations (for forms that draw a widget per parameter)."""
        hints = typing.get_type_hints(self.builder)
        return {name: hints.get(name, Any) for name in self.defaults()}


DATASETS: dict[str, DatasetInfo] = {}


def register_dataset(
    name: str, *, title: str, kind: Kind, task: Task, description: str
) -> Callable[[Builder], Builder]:
    def wrap(builder: Builder) -> Builder:
        if name in DATASETS:
            raise ValueError(f"dataset {name!r} registered twice")
        DATASETS[name] = DatasetInfo(name, title, kind, task, description, builder)
        return builder

    return wrap


def load_dataset(name: str, **params: Any) -> Dataset:
    """Build a registered dataset; unknown names or parameters raise a DatasetError."""
    _ensure_builtins()
    info = DATASETS.get(name)
    if info is None:
        raise DatasetError(
            f"Unknown dataset {name!r}.", f"Choose one of: {', '.join(sorted(DATASETS))}."
        )
    # Imported here: option modules import Dataset helpers that import this registry.
    from playground.data.options import apply_options, dataset_options, split_option_params

    params, options = split_option_params(params)
    allowed = inspect.signature(info.builder).parameters
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise DatasetError(
            f"Dataset {name!r} has no parameter {', '.join(map(repr, unknown))}.",
            f"Its parameters are: {', '.join(allowed) or 'none'}; every dataset also takes "
            f"the options {', '.join(dataset_options())}.",
        )
    return apply_options(info.builder(**_validated(info, params)), options)


def _validated(info: DatasetInfo, params: dict[str, Any]) -> dict[str, Any]:
    """Check each value against the builder's annotation (from a form, the CLI or stored
    JSON), converting where that is safe ("5" -> 5, a list -> a tuple)."""
    types = info.parameter_types()
    checked = {}
    for name, value in params.items():
        try:
            checked[name] = TypeAdapter(types[name]).validate_python(value)
        except ValidationError as exc:
            raise DatasetError(
                f"Dataset {info.name!r}: parameter {name!r} got {value!r}: {exc.errors()[0]['msg']}.",
                f"Default: {info.defaults()[name]!r}.",
            ) from None
    return checked


def list_datasets() -> list[DatasetInfo]:
    _ensure_builtins()
    return list(DATASETS.values())


def _ensure_builtins() -> None:
    # Importing the modules runs their @register_dataset decorators.
    from playground.data import builtin  # noqa: F401
