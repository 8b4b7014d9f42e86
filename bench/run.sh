#!/usr/bin/env bash
# Runs every benchmark and prints a table per benchmark, each with the command behind it.
# Builds the release kernel and installs it into .venv first (scripts/setup.sh release).
# Benchmarks are measurements, not tests: they do not run in CI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh release
export MESOS_KERNEL_BIN
echo "## python bench/kernel_bench.py --rounds 5 --executes 200"
python bench/kernel_bench.py --rounds 5 --executes 200
echo
echo "## python bench/round_trip_cpu.py --executes 3000 (then --kernel python3)"
python bench/round_trip_cpu.py --executes 3000
python bench/round_trip_cpu.py --executes 3000 --kernel python3
echo
echo "## python bench/notebook_bench.py --runs 5"
python bench/notebook_bench.py --runs 5
echo
echo "## python bench/soak.py --executes 10000 --stream-seconds 90"
python bench/soak.py --executes 10000 --stream-seconds 90
echo
echo "## python bench/big_cluster.py --agents 1000 --tasks 10 --rounds 5"
python bench/big_cluster.py --agents 1000 --tasks 10 --rounds 5
echo
echo "## python bench/event_flood.py --events 20000 --tasks 2000 --rounds 3"
python bench/event_flood.py --events 20000 --tasks 2000 --rounds 3
