#!/usr/bin/env bash
# Runs one fuzz target for MINUTES of fuzzing, one libFuzzer process at a time
# (-jobs=1 -workers=1), with the committed seeds of fuzz/corpus/TARGET and a working corpus
# outside the checkout. A timeout or out-of-memory ends a libFuzzer run; they are kept in
# fuzz/artifacts/TARGET/ for triage and fuzzing goes on with the rest of the time (jq can
# legitimately run forever, see docs/reliability.md). A crash (panic, stack overflow,
# sanitizer report) stops the run. Needs cargo-fuzz; on stable Rust, RUSTC_BOOTSTRAP=1.
#   fuzz/run.sh TARGET MINUTES [libFuzzer flags...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="$1"; MINUTES="$2"; shift 2
WORK="${FUZZ_WORK:-${CARGO_TARGET_DIR:-$ROOT/fuzz/target}/fuzz-work}/$TARGET"
mkdir -p "$WORK/corpus"
export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
cargo fuzz build -O --fuzz-dir "$ROOT/fuzz" "$TARGET"
end=$(( $(date +%s) + MINUTES * 60 ))
run=0
while [ "$(date +%s)" -lt "$end" ]; do
  run=$((run + 1))
  left=$(( end - $(date +%s) ))
  # -jobs=1 writes the worker's output to ./fuzz-0.log: keep it out of the checkout.
  (cd "$WORK" && cargo fuzz run -O --fuzz-dir "$ROOT/fuzz" "$TARGET" "$WORK/corpus" \
     "$ROOT/fuzz/corpus/$TARGET" -- -jobs=1 -workers=1 -max_total_time="$left" \
     -print_final_stats=1 "$@" >"$WORK/cargo-$run.log" 2>&1) || true
  cp "$WORK/fuzz-0.log" "$WORK/run-$run.log"
  grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$WORK/run-$run.log" | tail -1 || true
  grep -E '^stat::' "$WORK/run-$run.log" || true
  if grep -qE 'libFuzzer: (timeout|out-of-memory)' "$WORK/run-$run.log"; then
    grep -E 'libFuzzer: (timeout|out-of-memory)|Test unit written' "$WORK/run-$run.log"
    continue
  fi
  if grep -qE 'ERROR: (libFuzzer|AddressSanitizer)|panicked|deadly signal' "$WORK/run-$run.log"; then
    grep -E 'ERROR|panicked|Test unit written' "$WORK/run-$run.log" | head -5
    exit 1
  fi
done
