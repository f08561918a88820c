"""Built-in layer kinds. Importing this package registers them (palette order = import order)."""

from playground.model.layers import (  # noqa: F401
    activation,
    conv,
    dense,
    norm,
    pooling,
    residual,
    sequence,
)
