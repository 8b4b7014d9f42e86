#!/usr/bin/env bash
# The main job: build the kernel, install it into .venv, and run the Demo-API notebook
# headless against the embedded cluster. The executed notebook (and an HTML copy) land in
# build/. With --lab, open the notebook in JupyterLab instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LAB=0
for arg in "$@"; do
  case "$arg" in
    --lab) LAB=1 ;;
    -h|--help) echo "usage: scripts/demo.sh [--lab]"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done
source scripts/setup.sh release
NOTEBOOK="notebooks/Demo-API.ipynb"
[ -f "$NOTEBOOK" ] || NOTEBOOK="notebooks/Core-Language.ipynb"
if [ "$LAB" = 1 ]; then
  if ! python -c "import jupyterlab" 2>/dev/null; then
    pip install --quiet "jupyterlab>=4"
  fi
  exec jupyter lab --allow-root --ip=127.0.0.1 --ServerApp.open_browser=True "$NOTEBOOK"
fi
mkdir -p build
jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=mesos \
  --output-dir build "$NOTEBOOK"
jupyter nbconvert --to html --output-dir build "build/$(basename "$NOTEBOOK")" >/dev/null 2>&1 || true
echo
echo "Executed notebook: $ROOT/build/$(basename "$NOTEBOOK")"
echo "HTML copy:         $ROOT/build/$(basename "${NOTEBOOK%.ipynb}").html"
