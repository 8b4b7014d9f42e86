"""Every notebook in notebooks/ executes headless with nbconvert, as CI users run them.

Cells tagged `raises-exception` must fail with an error output; every other cell must not.
"""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebook_executes_headless(notebook, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.kernel_name=mesos", "--ExecutePreprocessor.timeout=120",
         "--output-dir", str(tmp_path), str(notebook)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    executed = json.loads((tmp_path / notebook.name).read_text())
    for index, cell in enumerate(executed["cells"]):
        if cell["cell_type"] != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        source = "".join(cell["source"])
        if expected:
            assert len(errors) == 1, f"cell {index} should fail once: {source}"
            assert errors[0]["evalue"], f"cell {index}: empty error message"
        else:
            assert not errors, f"cell {index} failed: {source}\n{errors}"
        assert cell.get("execution_count"), f"cell {index} did not run"
