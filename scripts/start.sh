#!/usr/bin/env bash
# Set up and start the playground at http://localhost:8501 (bound to localhost only).
# With arguments, runs the engine's command line instead: ./scripts/start.sh train --help
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m playground "$@"
fi
exec .venv/bin/python -m streamlit run app.py
