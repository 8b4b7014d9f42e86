"""The wire in notebooks, headless with nbconvert as CI runs them.

- `%http on` against the embedded cluster with basic auth: every call shows its exchange
  and a curl line, scheduler calls show Mesos-Stream-Id, the secret appears nowhere, and
  the curl line of GET_VERSION gives the same answer when run.
- `notebooks/Demo-API.ipynb` recorded with `%record`, then run with `%replay` while no
  cluster runs: the outputs are the same but for the kernel's own clock times.
"""

import base64
import copy
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("MESOS_KERNEL_BIN", str(ROOT / "target" / "debug" / "mesos-kernel"))
SECRET = "s3cret-wire-test-7f2b"


def execute(notebook, out_dir, env=None):
    """Runs `notebook` (a path) with nbconvert; returns the executed notebook."""
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.kernel_name=mesos", "--ExecutePreprocessor.timeout=120",
         "--output-dir", str(out_dir), str(notebook)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((pathlib.Path(out_dir) / notebook.name).read_text())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def auth_cluster(tmp_path):
    """`mesos-kernel cluster --credentials` on a free port, seeded; yields its URL."""
    creds = tmp_path / "credentials"
    creds.write_text(f"ops {SECRET}\n")
    port = free_port()
    proc = subprocess.Popen(
        [BIN, "cluster", "--port", str(port), "--credentials", str(creds), "--seed", "2016",
         "--heartbeat-interval", "2secs"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            break
        except urllib.error.HTTPError:
            break  # 401: it is up, and wants credentials
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the cluster did not start")
            time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def cell_http_text(cell):
    """The text of the cell's %http display, or None."""
    for o in cell.get("outputs", []):
        text = o.get("data", {}).get("text/plain", "")
        if isinstance(text, list):
            text = "".join(text)
        if o["output_type"] == "display_data" and text.startswith("HTTP: "):
            return text
    return None


def cell_http_meta(cell):
    for o in cell.get("outputs", []):
        meta = o.get("metadata", {}).get("mesos-kernel", {}).get("http")
        if meta:
            return meta
    return []


def test_http_on_with_basic_auth_shows_every_exchange_and_no_secret(auth_cluster, tmp_path):
    if shutil.which("curl") is None:
        if os.environ.get("MESOS_KERNEL_REQUIRE_CURL") == "1":
            pytest.fail("curl is not installed and MESOS_KERNEL_REQUIRE_CURL=1")
        pytest.skip("curl is not installed (apt-get install curl)")
    calls = [
        ("GET_VERSION | json", ["POST /api/v1 GET_VERSION → 200 OK"]),
        ("state = GET /master/state", ["GET /master/state → 200 OK"]),
        ("agent GET_HEALTH", ["POST /api/v1 GET_HEALTH → 200 OK"]),
        ("SUBSCRIBE name=\"Wire Demo\" user=root",
         ["POST /api/v1/scheduler SUBSCRIBE → 200 OK (stream", "< Mesos-Stream-Id: ",
          "record 1 (RecordIO length "]),
        ("OFFERS wait=30s\nLAUNCH name=sleeper cmd=\"sleep 30\" cpus=0.1 mem=16 wait=RUNNING",
         ["ACCEPT → 202 Accepted", "> Mesos-Stream-Id: "]),
        ("KILL task_id=sleeper\n"
         "WAIT ($tasks | map(select(.state == \"TASK_KILLED\")) | length) == 1 timeout=30s",
         ["KILL → 202 Accepted", "> Mesos-Stream-Id: "]),
        ("TEARDOWN", ["TEARDOWN → 202 Accepted", "> Mesos-Stream-Id: "]),
    ]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "mesos", "display_name": "Mesos", "language": "mesos"}
    cassette = tmp_path / "auth.jsonl"
    nb.cells.append(nbformat.v4.new_code_cell(
        f"%master {auth_cluster}\n%auth principal=ops secret-env=MESOS_WIRE_SECRET\n%http on\n"
        f"%record {cassette}"))
    for code, _ in calls:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    path = tmp_path / "auth.ipynb"
    nbformat.write(nb, str(path))
    env = dict(os.environ, MESOS_WIRE_SECRET=SECRET)
    executed = execute(path, tmp_path / "out", env=env)

    # Neither in the outputs nor in the cassette recorded meanwhile.
    encoded = base64.b64encode(f"ops:{SECRET}".encode()).decode()
    for whole in (json.dumps(executed), cassette.read_text()):
        assert SECRET not in whole
        assert encoded not in whole
    assert '["Authorization","Basic ****"]' in cassette.read_text()
    for cell, (code, wanted) in zip(executed["cells"][1:], calls):
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        assert not errors, f"{code}: {errors}"
        text = cell_http_text(cell)
        assert text, f"{code}: no exchanges shown"
        for w in wanted:
            assert w in text, f"{code}: {w!r} not in\n{text}"
        meta = cell_http_meta(cell)
        assert meta and all(m["curl"].startswith("curl -sS ") for m in meta), code
        # Every exchange carries the masked credentials and a curl line naming the variable.
        assert text.count("── ") == len(meta), code
        assert text.count("> Authorization: Basic ****") == len(meta), code
        assert all('-u "ops:$MESOS_WIRE_SECRET"' in m["curl"] for m in meta), code

    # The curl line printed for GET_VERSION repeats it: the same answer.
    version_cell = executed["cells"][1]
    (exchange,) = cell_http_meta(version_cell)
    answer = subprocess.run(["bash", "-c", exchange["curl"]], capture_output=True, text=True,
                            timeout=30, env=env)
    assert answer.returncode == 0, answer.stderr
    result = next(o for o in version_cell["outputs"] if o["output_type"] == "execute_result")
    assert json.loads(answer.stdout) == result["data"]["application/json"]


# RFC 3339 times with milliseconds, as the kernel stamps events and heartbeats.
KERNEL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def outputs_of(cell):
    """A cell's outputs as text, the kernel's own clock times replaced."""
    return KERNEL_TIME.sub("<time>", json.dumps(cell.get("outputs", []), sort_keys=True))


def test_demo_api_recorded_then_replayed_with_no_cluster(tmp_path):
    cassette = tmp_path / "demo.jsonl"
    original = nbformat.read(str(ROOT / "notebooks" / "Demo-API.ipynb"), as_version=4)

    def with_first_cell(code, name):
        nb = copy.deepcopy(original)
        nb.cells.insert(0, nbformat.v4.new_code_cell(code))
        path = tmp_path / name
        nbformat.write(nb, str(path))
        return path

    recorded = execute(with_first_cell(f"%record {cassette}", "Demo-API.ipynb"),
                       tmp_path / "recorded")
    # The flagship demo's sandbox cell shows the web server's first line.
    logs = next(c for c in recorded["cells"] if "".join(c["source"]) == "LOGS task=web")
    assert "Serving HTTP on 127.0.0.1" in outputs_of(logs), outputs_of(logs)

    header = json.loads(cassette.read_text().splitlines()[0])
    assert header["kind"] == "cassette"
    # The kernel that recorded is gone, and its embedded cluster with it.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{header['master']}/health", timeout=2)

    replayed = execute(with_first_cell(f"%replay {cassette} speed=10", "Demo-API.ipynb"),
                       tmp_path / "replayed")
    first = "".join(replayed["cells"][0]["outputs"][0]["text"])
    assert "nothing goes to the network" in first, first
    assert "Started the embedded" not in json.dumps(replayed)
    pairs = list(zip(recorded["cells"], replayed["cells"]))[1:]
    assert len(pairs) == len(original.cells)
    for want, got in pairs:
        if want["cell_type"] != "code":
            continue
        assert outputs_of(got) == outputs_of(want), "".join(want["source"])
