"""Errors a user can act on: each says what went wrong and what to try."""

from __future__ import annotations


class PlaygroundError(Exception):
    """Base class for every error the playground shows to a user.

    `message` says what is wrong; `hint` (optional) says what to try.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)


class DatasetError(PlaygroundError):
    """A dataset name or parameter is wrong."""


class CsvError(DatasetError):
    """An uploaded CSV cannot be used; the message names the problem (column, row, limit)."""


class SpecError(PlaygroundError):
    """A model spec that cannot work, naming the layer at fault.

    `layer_index` is the 0-based position in the top-level stack (or a dotted path such as
    "3.1" for a layer inside a residual block); `received` and `expected` are the input shape
    the layer got (without the batch dimension) and what it needs.
    """

    def __init__(
        self,
        message: str,
        *,
        layer_index: str | int | None = None,
        layer_kind: str | None = None,
        received: tuple[int, ...] | None = None,
        expected: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.layer_index = None if layer_index is None else str(layer_index)
        self.layer_kind = layer_kind
        self.received = received
        self.expected = expected
        self.fix = fix
        where = ""
        if layer_index is not None:
            where = (
                f"Layer {layer_index} ({layer_kind}): " if layer_kind else f"Layer {layer_index}: "
            )
        detail = message
        if received is not None:
            detail += f" It received shape {format_shape(received)}"
            detail += f" but needs {expected}." if expected else "."
        super().__init__(where + detail, f"Fix: {fix}" if fix else None)


class TrainingError(PlaygroundError):
    """A training config that cannot run (bad option, unavailable device...)."""


class RunNotFoundError(PlaygroundError):
    """No stored run has the given id."""


class WeightsError(RunNotFoundError):
    """A run's weights cannot be loaded: none were saved, or the file is damaged or does not
    fit the model. The run's record and history stay usable."""


def format_shape(shape: tuple[int, ...] | list[int]) -> str:
    """Shape without the batch dimension, shown with it as (B, ...)."""
    return "(" + ", ".join(["B", *(str(s) for s in shape)]) + ")"
