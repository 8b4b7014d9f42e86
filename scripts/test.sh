#!/usr/bin/env bash
# The whole test suite: formatting and lints, Rust tests, then the Python suites that drive
# the installed kernel through jupyter_client, jupyter_kernel_test and nbconvert.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh debug
# The Mesos clients the cluster is tested with (pymesos, mesoshttp, avmesos, avmesos-cli).
scripts/install-clients.sh "$VIRTUAL_ENV"
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test"
cargo test --locked
echo "== pytest"
python -m pytest -q tests "$@"
