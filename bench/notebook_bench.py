"""notebooks/Demo-API.ipynb under `jupyter nbconvert --execute` against the embedded cluster:
wall time (nbconvert's own start-up included) and the kernel's share of it (the sum, over
cells, of execute_input to execute_reply as nbclient records them).
Usage: python bench/notebook_bench.py [--runs 5]
"""

import argparse
import datetime
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "Demo-API.ipynb"


def parse(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    walls, kernels = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                            "--ExecutePreprocessor.kernel_name=mesos", "--output-dir", out, str(NOTEBOOK)],
                           check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
            nb = json.loads((pathlib.Path(out) / NOTEBOOK.name).read_text())
            total = 0.0
            for cell in nb["cells"]:
                ex = cell.get("metadata", {}).get("execution", {})
                if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
                    total += (parse(ex["shell.execute_reply"]) - parse(ex["iopub.execute_input"])).total_seconds()
            kernels.append(total)
    wall, kern = statistics.median(walls), statistics.median(kernels)
    print(f"runs={args.runs}")
    print(f"{'Demo-API.ipynb under nbconvert --execute (median wall)':<58}{wall:>8.2f} s")
    print(f"{'  of which the kernel executing cells':<58}{kern:>8.2f} s ({kern / wall * 100:.0f} %)")


if __name__ == "__main__":
    main()
