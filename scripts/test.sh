#!/usr/bin/env bash
# Set up and run the whole test suite (and the linter). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
