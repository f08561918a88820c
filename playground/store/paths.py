"""Where the playground keeps its data: `$PLAYGROUND_DATA_DIR`, else ./playground_data."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PLAYGROUND_DATA_DIR"
DEFAULT_DIR = "playground_data"


def data_dir() -> Path:
    path = Path(os.environ.get(ENV_VAR) or Path.cwd() / DEFAULT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path
