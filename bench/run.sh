#!/usr/bin/env bash
# Runs every benchmark and prints a table per benchmark, each with the command behind it.
# Builds the release kernel and installs it into .venv first (scripts/setup.sh release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh release
echo "## python bench/kernel_bench.py $*"
python bench/kernel_bench.py "$@"
