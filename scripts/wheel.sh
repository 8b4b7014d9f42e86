#!/usr/bin/env bash
# Builds the wheel that `pip install mesos-kernel` installs (the binary, its launcher and
# the kernelspec; see pyproject.toml) with maturin from .venv, into build/wheels/, and
# prints its path. tests/packaging/ installs it into fresh venvs when MESOS_KERNEL_WHEEL
# names it:
#   MESOS_KERNEL_WHEEL="$(scripts/wheel.sh)" python -m pytest tests/packaging
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Only the wheel's path goes to stdout.
exec 3>&1 1>&2
source scripts/setup.sh debug
OUT="$ROOT/build/wheels"
rm -rf "$OUT"
maturin build --release --locked --out "$OUT"
WHEEL="$(ls "$OUT"/mesos_kernel-*.whl)"
echo "$WHEEL" >&3
