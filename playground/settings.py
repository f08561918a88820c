"""Settings a deployment may change with environment variables.

They are read each time they are used (not at import), so a test, a notebook or a server
started with a different environment sees its own values, and worker processes, which inherit
the server's environment, check against the same limits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from playground.errors import PlaygroundError

MAX_PARAMS_ENV = "PLAYGROUND_MAX_PARAMS"
MAX_ACTIVATION_MB_ENV = "PLAYGROUND_MAX_ACTIVATION_MB"

# 50 million float32 parameters are 200 MB of weights, about 800 MB once training adds their
# gradients and Adam's two moment buffers: a laptop runs two such workers beside the app.
# Every built-in preset is far below it (the largest has tens of thousands).
DEFAULT_MAX_PARAMS = 50_000_000
# Per training batch, forward activations plus their gradients (see playground.model.limits).
# 2 GiB leaves room for the weights, the data and the other worker on an 8 GB laptop.
DEFAULT_MAX_ACTIVATION_MB = 2048


@dataclass(frozen=True)
class ModelLimits:
    """How big a model may be before anything is allocated for it."""

    max_params: int
    max_activation_mb: int

    @property
    def max_activation_bytes(self) -> int:
        return self.max_activation_mb * 1024 * 1024


def model_limits() -> ModelLimits:
    """The limits now in force: the environment's values, else the defaults."""
    return ModelLimits(
        max_params=_positive_int(MAX_PARAMS_ENV, DEFAULT_MAX_PARAMS),
        max_activation_mb=_positive_int(MAX_ACTIVATION_MB_ENV, DEFAULT_MAX_ACTIVATION_MB),
    )


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        # float() as well, so "5e7" works; "50_000_000" works through int().
        value = int(raw) if raw.lstrip("+").replace("_", "").isdigit() else int(float(raw))
    except (ValueError, OverflowError):
        value = 0
    if value < 1:
        raise PlaygroundError(
            f"The environment variable {name}={raw!r} is not a positive whole number.",
            f"Set it to a number such as {default}, or unset it for that default.",
        )
    return value
