"""Dataset options: changes any dataset can take after it is built (keep some classes, few
samples per class, a rare class, a cross-validation fold, injected outliers...).

They travel in a run's `dataset_params` beside the builder's own parameters, so
`load_dataset(name, **params)` rebuilds exactly the data a run saw. Each option is one
registry entry; `load_dataset` builds the dataset with the builder's parameters, then applies
the options that differ from their defaults, in `order`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from playground.data.dataset import Dataset
from playground.errors import DatasetError

# apply(dataset, value, every option's value) -> the changed dataset.
Apply = Callable[[Dataset, Any, dict[str, Any]], Dataset]


@dataclass(frozen=True)
class DatasetOption:
    name: str
    title: str  # what the app's widget says
    annotation: Any  # the value's type, checked with pydantic ("5" -> 5 from a form or the CLI)
    default: Any  # the value that changes nothing
    help: str
    apply: Apply
    order: int = 50  # lower first: keep classes before sampling per class, before folds
    classification_only: bool = False

    def applies_to(self, dataset: Dataset) -> bool:
        return dataset.is_classification or not self.classification_only


DATASET_OPTIONS: dict[str, DatasetOption] = {}

# Modules whose import registers options (kept apart, one concern each).
_OPTION_MODULES = ("playground.data.subsets", "playground.data.outliers", "playground.data.folds")


def register_option(option: DatasetOption) -> DatasetOption:
    if option.name in DATASET_OPTIONS:
        raise ValueError(f"dataset option {option.name!r} registered twice")
    DATASET_OPTIONS[option.name] = option
    return option


def dataset_options() -> dict[str, DatasetOption]:
    """Every registered option, in the order they apply."""
    for module in _OPTION_MODULES:
        importlib.import_module(module)
    return dict(sorted(DATASET_OPTIONS.items(), key=lambda item: item[1].order))


def split_option_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the builder's parameters, the dataset options) of a run's `dataset_params`."""
    options = dataset_options()
    return (
        {k: v for k, v in params.items() if k not in options},
        {k: v for k, v in params.items() if k in options},
    )


def apply_options(dataset: Dataset, values: dict[str, Any]) -> Dataset:
    """`dataset` with the options in `values` applied (validated; defaults skipped). The
    result's `params` include the applied options, so it can be built again."""
    options = dataset_options()
    checked: dict[str, Any] = {}
    for name, value in values.items():
        option = options[name]
        try:
            checked[name] = TypeAdapter(option.annotation).validate_python(value)
        except ValidationError as exc:
            raise DatasetError(
                f"Dataset option {name!r} ({option.title}) got {value!r}: "
                f"{exc.errors()[0]['msg']}.",
                option.help,
            ) from None
    active = {k: v for k, v in checked.items() if v != options[k].default}
    for name, option in options.items():
        if name not in active:
            continue
        if not option.applies_to(dataset):
            raise DatasetError(
                f"Dataset option {name!r} ({option.title}) needs a dataset with classes; "
                f"{dataset.title} is a regression dataset.",
                f"Remove {name!r} from the dataset's parameters.",
            )
        dataset = option.apply(dataset, active[name], active)
    if active:
        dataset.params = {**dataset.params, **active}
    return dataset
