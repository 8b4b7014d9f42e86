"""`pip install mesos-kernel`: the built wheel, and `pip install <checkout>`, each into a
fresh venv, then Jupyter finds the kernel and runs a notebook with no other step, with the
venv not activated (its bin/ not on PATH).

The wheel comes from scripts/wheel.sh (MESOS_KERNEL_WHEEL names it); .ci/run builds it and
sets MESOS_KERNEL_REQUIRE_WHEEL=1, which turns the skip without it into a failure. The
venvs get the Jupyter packages from PyPI; the wheel's venv runs with no Rust toolchain on
PATH. `pip install <checkout>` builds with maturin (from PyPI, in pip's isolated build) and
the checkout's cargo target dir, so after scripts/wheel.sh it reuses that build.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "Core-Language.ipynb"
WHEEL = os.environ.get("MESOS_KERNEL_WHEEL")
REQUIRED = os.environ.get("MESOS_KERNEL_REQUIRE_WHEEL") == "1"
# What a user installs beside the kernel to run a notebook headless.
JUPYTER = ["nbconvert>=7", "nbclient>=0.10", "jupyter_client>=8"]
# A PATH with the system's tools and nothing of Rust's (cargo lives in ~/.cargo/bin).
BARE_PATH = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin")
                            if not shutil.which("cargo", path=p))


def wheel():
    if not WHEEL:
        message = "MESOS_KERNEL_WHEEL is not set (build one with scripts/wheel.sh)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    path = pathlib.Path(WHEEL)
    assert path.is_file(), f"no wheel at {path}"
    return path


def bare_env(home):
    """An environment like a new user's shell: no venv activated, no Rust, no Jupyter
    config of ours (a fresh HOME), nothing that points the kernel anywhere."""
    env = {"PATH": BARE_PATH, "HOME": str(home), "LANG": "C.UTF-8", "JUPYTER_PLATFORM_DIRS": "1"}
    for keep in ("TMPDIR", "MESOS_KERNEL_ZK"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    return env


def venv(path):
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    return path / "bin"


def pip(bin_dir, *args, env=None):
    result = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                             "--disable-pip-version-check", *args],
                            capture_output=True, text=True, timeout=1500, env=env)
    assert result.returncode == 0, result.stderr[-4000:]


def check_kernel_runs(bin_dir, tmp_path):
    """The kernelspec is found in the venv and a notebook of it runs, the venv's jupyter
    started by path (not activated) from a shell with no Rust."""
    home = tmp_path / "home"
    home.mkdir()
    env = bare_env(home)
    assert shutil.which("cargo", path=env["PATH"]) is None
    assert shutil.which("mesos-kernel", path=env["PATH"]) is None
    listed = subprocess.run([str(bin_dir / "jupyter"), "kernelspec", "list", "--json"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert listed.returncode == 0, listed.stderr
    specs = json.loads(listed.stdout)["kernelspecs"]
    assert "mesos" in specs, specs
    resource_dir = pathlib.Path(specs["mesos"]["resource_dir"])
    venv_dir = bin_dir.parent
    assert resource_dir == venv_dir / "share" / "jupyter" / "kernels" / "mesos", resource_dir
    spec = specs["mesos"]["spec"]
    assert spec["argv"][:3] == ["python", "-m", "mesos_kernel"], spec
    assert spec["interrupt_mode"] == "message"
    assert sorted(p.name for p in resource_dir.iterdir()) == [
        "kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"]
    out = tmp_path / "out"
    run = subprocess.run([str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                          "--output-dir", str(out), str(NOTEBOOK)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-4000:]
    executed = json.loads((out / NOTEBOOK.name).read_text())
    code_cells = [c for c in executed["cells"] if c["cell_type"] == "code"]
    assert code_cells and all(c.get("execution_count") for c in code_cells)
    for cell in code_cells:
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        expected = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        assert len(errors) == (1 if expected else 0), ("".join(cell["source"]), errors)
    # The binary the kernelspec started is the one pip installed into this venv.
    version = subprocess.run([str(bin_dir / "python"), "-m", "mesos_kernel", "--version"],
                             capture_output=True, text=True, timeout=60, env=env)
    assert version.returncode == 0 and version.stdout.startswith("mesos-kernel "), version


def test_the_wheel_is_manylinux_and_carries_the_kernelspec():
    path = wheel()
    assert path.name.startswith("mesos_kernel-"), path.name
    assert "-py3-none-manylinux_" in path.name, path.name
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        tag = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
        data = next(n.split("/")[0] for n in names if ".data/" in n)
        spec = json.loads(z.read(f"{data}/data/share/jupyter/kernels/mesos/kernel.json"))
    assert f"{data}/scripts/mesos-kernel" in names
    assert "mesos_kernel/__main__.py" in names
    assert "Tag: py3-none-manylinux_" in tag, tag
    assert spec["argv"] == ["python", "-m", "mesos_kernel", "kernel", "--connection-file",
                            "{connection_file}"]
    assert spec["language"] == "mesos"


def test_the_wheel_in_a_fresh_venv_without_rust_runs_a_notebook(tmp_path):
    path = wheel()
    bin_dir = venv(tmp_path / "venv")
    # pip keeps its own settings (index, certificates, cache); only Rust is out of reach.
    env = dict(os.environ, PATH=BARE_PATH)
    env.pop("VIRTUAL_ENV", None)
    pip(bin_dir, str(path), *JUPYTER, env=env)
    check_kernel_runs(bin_dir, tmp_path)


def test_pip_install_of_the_checkout_runs_a_notebook(tmp_path):
    # Builds with Rust, so only where the wheel is built too (CI, or after scripts/wheel.sh).
    wheel()
    if shutil.which("cargo") is None:
        pytest.fail("pip install <checkout> needs cargo on PATH")
    bin_dir = venv(tmp_path / "venv")
    pip(bin_dir, str(ROOT), *JUPYTER)
    check_kernel_runs(bin_dir, tmp_path)
