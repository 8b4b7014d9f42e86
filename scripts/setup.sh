#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: a Python venv in .venv with the
# packages of tests/requirements.txt, the kernel built, and its kernelspec installed into
# the venv (so `jupyter` from .venv finds it and nothing outside the checkout changes).
# Usage: source scripts/setup.sh [debug|release]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROFILE="${1:-debug}"
VENV="$ROOT/.venv"
# Cargo puts its output under CARGO_TARGET_DIR when that is set.
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# Reinstall only when the requirements changed.
STAMP="$VENV/.requirements.sha"
SUM="$(sha256sum "$ROOT/tests/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$SUM" ]; then
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet -r "$ROOT/tests/requirements.txt"
  echo "$SUM" > "$STAMP"
fi
if [ "$PROFILE" = "release" ]; then
  cargo build --release --locked --manifest-path "$ROOT/Cargo.toml"
  KERNEL_BIN="$TARGET_DIR/release/mesos-kernel"
else
  cargo build --locked --manifest-path "$ROOT/Cargo.toml"
  KERNEL_BIN="$TARGET_DIR/debug/mesos-kernel"
fi
"$KERNEL_BIN" install --prefix "$VENV" >/dev/null
export PATH="$VENV/bin:$PATH"
export VIRTUAL_ENV="$VENV"
export MESOS_KERNEL_BIN="$KERNEL_BIN"
# Keep test kernels from reading or writing the user's own Jupyter config.
export JUPYTER_PLATFORM_DIRS=1
