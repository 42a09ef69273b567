#!/usr/bin/env bash
# Set up, then run the main job on the embedded default: the oracle policy on Arithmetic-v0,
# 200 tasks x 4 repeats, printing the score table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/nemogym list
.venv/bin/nemogym check nemogym/Arithmetic-v0
exec .venv/bin/nemogym eval --env nemogym/Arithmetic-v0 --policy oracle --episodes 200 --repeats 4 "$@"
