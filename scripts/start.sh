#!/usr/bin/env bash
# Set up and start the playground. For now the engine's command line: trains an MLP on the
# spiral and stores the run (see `python -m playground --help` for everything else).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
if [ "$#" -eq 0 ]; then
  set -- train --dataset spiral --layers "linear:32 relu linear:32 relu linear" --epochs 200 --lr 0.01
fi
exec .venv/bin/python -m playground "$@"
