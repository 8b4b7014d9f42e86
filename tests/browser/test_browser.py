"""The notebooks in JupyterLab, in headless Chromium: what a person sees, not only the outputs.

Starts JupyterLab from the venv on 127.0.0.1 (a free port, a random token, throw-away runtime,
config, settings and workspace dirs), then runs tests/browser/run_notebook.mjs for each
notebook in the light and the dark theme: it opens the notebook, checks the "Mesos" kernel is
selected, runs all cells from the Run menu, waits for the kernel to be idle, and checks the
page: no cell shows an error except those tagged `raises-exception`, plus the expectations
below. Full-page screenshots land in build/screenshots/.

Skipped when Chromium (/usr/bin/chromium, Debian's package), node, or
tests/browser/node_modules/playwright-core is missing, unless MESOS_KERNEL_REQUIRE_BROWSER=1
(CI sets it in .ci/run), which turns the skip into a failure.
"""

import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
SCRIPT = HERE / "run_notebook.mjs"
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("MESOS_KERNEL_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("MESOS_KERNEL_REQUIRE_BROWSER") == "1"

# What each notebook must show, beyond "every cell ran, no unexpected error". "cell" is a
# substring of the cell's source; without it, any output of the notebook may satisfy it.
SPECS = {
    "Core-Language.ipynb": [
        {"kind": "text", "cell": '1 + 2', "text": "3"},
        {"kind": "json_tree", "cell": "map(ascii_upcase)"},
        {"kind": "text", "cell": "map(ascii_upcase)", "text": "CPUS"},
        {"kind": "text", "cell": 'PRINT "total cpus', "text": "total cpus: 6"},
        {"kind": "text", "cell": 'PRINT "total cpus', "text": "this line goes to stderr"},
        {"kind": "text", "cell": "WAIT", "text": "all agents have cpus"},
        {"kind": "error", "cell": "ASSERT ($agents | length) > 5", "text": "AssertionFailed"},
        {"kind": "text", "cell": "%help READ_FILE", "text": "READ_FILE"},
        {"kind": "html_table", "cell": "%vars"},
        {"kind": "text", "cell": "%vars", "text": "$agents"},
    ],
    # The framework tour against the embedded cluster: tables of offers and tasks, the
    # resources chart, and the watched task reaching TASK_RUNNING.
    "Demo-API.ipynb": [
        {"kind": "html_table", "min": 4},
        {"kind": "selector", "selector": ".mesos-kernel-table table"},
        {"kind": "html_table", "cell": "GET_AGENTS"},
        {"kind": "html_table", "cell": "OFFERS wait=30s"},
        {"kind": "vega", "cell": "RESOURCES"},
        {"kind": "json_tree", "cell": "LAUNCH name=web"},
        {"kind": "text", "cell": "LAUNCH name=web", "text": "TASK_RUNNING"},
        {"kind": "html_table", "cell": "TASKS watch"},
        {"kind": "text", "cell": "TASKS watch", "text": "TASK_RUNNING"},
        {"kind": "text", "cell": "LOGS task=nginx-1", "text": "simulated"},
        {"kind": "text", "cell": "KILL task_id=nginx-1", "text": "TASK_KILLED"},
        # Another client (a raw HTTP SUBSCRIBE) takes the framework over; the session says
        # so in that cell, and SUBSCRIBE id= takes it back with its tasks reconciled.
        {"kind": "text", "cell": "POST /api/v1/scheduler",
         "text": "was taken over by another client (Mesos: Framework failed over)"},
        {"kind": "error", "cell": "POST /api/v1/scheduler", "text": "Timeout"},
        {"kind": "html_table", "cell": "id=$framework_id"},
        {"kind": "text", "cell": "id=$framework_id", "text": "tasks (reconciled)"},
        {"kind": "text", "cell": "id=$framework_id", "text": "TASK_RUNNING"},
    ],
    # Roles, weights, quota, a reservation and a volume one task writes and the next reads.
    "Multi-Tenancy.ipynb": [
        {"kind": "html_table", "cell": "GET_WEIGHTS"},
        {"kind": "html_table", "cell": "GET_QUOTA"},
        {"kind": "text", "cell": "GET_AGENTS", "text": "reservations"},
        {"kind": "html_table", "cell": "OFFERS wait=30s"},
        {"kind": "text", "cell": "LAUNCH name=reader", "text": "TASK_FINISHED"},
        {"kind": "text", "cell": "LOGS task=reader", "text": "kept across tasks"},
        {"kind": "vega", "cell": "RESOURCES  #"},
        {"kind": "html_table", "cell": "GET_ROLES"},
    ],
    # The operator's notebook: the live operator view, a maintenance window and the
    # framework's inverse offers, the machine down (its task lost) and up, an agent
    # drained (its task killed for it), the master's and an agent's logs.
    "Operations.ipynb": [
        {"kind": "html_table", "cell": "operator SUBSCRIBE"},
        {"kind": "text", "cell": "operator SUBSCRIBE", "text": "agent2"},
        {"kind": "text", "cell": "ACCEPT_INVERSE_OFFERS", "text": "INVERSE_OFFERS"},
        {"kind": "text", "cell": "ACCEPT_INVERSE_OFFERS", "text": "202 Accepted"},
        {"kind": "text", "cell": "START_MAINTENANCE", "text": "Operator initiated 'Machine DOWN'"},
        {"kind": "text", "cell": "DRAIN_AGENT", "text": "REASON_AGENT_DRAINING"},
        {"kind": "text", "cell": "DRAIN_AGENT", "text": "200 OK"},
        {"kind": "html_table", "cell": "REACTIVATE_AGENT"},
        {"kind": "text", "cell": "/files/read?path=/master/log", "text": "Sending inverse offers"},
        {"kind": "text", "cell": "PRINT ($slave_log", "text": "Initiating drain"},
    ],
    # Failures a framework lives through: a partition that heals, commands in a running
    # task (EXEC, output shown as it came), an agent restart the task outlives.
    "Failures.ipynb": [
        {"kind": "text", "cell": '"/partition"', "text": "unreachable_after_secs"},
        {"kind": "text", "cell": '"/heal"', "text": "reregistered"},
        {"kind": "text", "cell": "REASON_AGENT_REREGISTERED",
         "text": "Unreachable agent re-reregistered"},
        {"kind": "text", "cell": "cat note.txt; ls", "text": "kept through it all"},
        {"kind": "text", "cell": "still running", "text": "still running: kept through it all"},
        {"kind": "html_table", "cell": "OFFERS wait=30s"},
        {"kind": "html_table", "cell": "TASKS"},
    ],
    "Operator-Tour.ipynb": [
        {"kind": "html_table", "cell": "GET_STATE"},
        {"kind": "html_table", "cell": "GET_METRICS"},
        {"kind": "json_tree", "cell": "GET_VERSION | json"},
        {"kind": "html_table", "cell": "| table"},
    ],
}
# Notebooks meant to run top to bottom in JupyterLab ("Run All" stops at the first error, so
# Errors.ipynb, a notebook of deliberate errors, is for nbconvert only).
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if p.name in SPECS)
THEMES = ["light", "dark"]


def missing_tools():
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not shutil.which("node"):
        missing.append("node")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        missing.append("tests/browser/node_modules/playwright-core (npm ci --prefix tests/browser)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        missing.append("jupyterlab (pip install -r tests/requirements.txt)")
    return missing


@pytest.fixture(scope="module", autouse=True)
def browser_tools():
    missing = missing_tools()
    if missing:
        message = "browser test needs: " + ", ".join(missing)
        if REQUIRED:
            pytest.fail(message + " (MESOS_KERNEL_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(settings_dir):
    """JupyterLab user settings for a quiet, deterministic page that never saves notebooks."""
    settings = {
        # Every cell in the DOM, so checks and screenshots see the whole notebook.
        "notebook-extension/tracker": {"windowingMode": "none"},
        # Never write executed outputs back into notebooks/.
        "docmanager-extension/plugin": {"autosave": False},
        # No news or update checks (the test machine has no network).
        "apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
    }
    for name, values in settings.items():
        path = settings_dir / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class Lab:
    def __init__(self, tmp):
        self.tmp = tmp
        self.token = secrets.token_hex(16)
        self.log_path = tmp / "jupyterlab.log"
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/lab?token={self.token}"

    def log_tail(self, n=3000):
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def start(self, deadline_s=90):
        env = dict(os.environ)
        # Throw-away Jupyter dirs: the user's own config, settings and kernelspecs (a
        # "mesos" kernel installed with --user would win over the venv's) stay out of it.
        env.update(
            JUPYTER_DATA_DIR=str(self.tmp / "data"),
            JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
            JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
            JUPYTERLAB_SETTINGS_DIR=str(self.tmp / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.tmp / "workspaces"),
        )
        write_settings(self.tmp / "settings")
        deadline = time.monotonic() + deadline_s
        for attempt in range(3):
            self.port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab",
                 "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                 "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                 f"--ServerApp.root_dir={ROOT}", "--LabApp.expose_app_in_browser=True",
                 "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                 # JupyterLab checkpoints a notebook when it opens it: keep those out of
                 # the checkout.
                 f"--FileCheckpoints.root_dir={self.tmp / 'checkpoints'}"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
            log.close()
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break  # exited (e.g. the port was taken meanwhile): try another port
                if self.status_ok():
                    return
                time.sleep(0.2)
            else:
                self.stop()
                pytest.fail(f"JupyterLab did not answer /api/status in {deadline_s}s:\n"
                            f"{self.log_tail()}", pytrace=False)
        pytest.fail(f"JupyterLab did not start:\n{self.log_tail()}", pytrace=False)

    def status_ok(self):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/status",
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200 and "started" in json.load(response)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        # SIGTERM: the server shuts its kernels down and exits.
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser_tools):
    lab = Lab(tmp_path_factory.mktemp("jupyterlab"))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebook_in_jupyterlab(lab, notebook, theme):
    before = notebook.read_bytes()
    checkpoints = notebook.parent / ".ipynb_checkpoints"
    had_checkpoints = checkpoints.exists()
    spec = {"kernel": "Mesos", "expect": SPECS.get(notebook.name, [])}
    name = f"{notebook.stem}-{theme}"
    command = ["node", str(SCRIPT), "--url", lab.url,
               "--notebook", notebook.relative_to(ROOT).as_posix(),
               "--spec", json.dumps(spec), "--out", str(SCREENSHOTS),
               "--name", name, "--theme", theme, "--timeout", "90"]
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=150)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"run_notebook.mjs did not finish in 150s:\n{e.stdout}\n{e.stderr}", pytrace=False)
    print(result.stdout)
    assert result.returncode == 0, (
        f"{notebook.name} in JupyterLab ({theme} theme):\n{result.stderr}\n"
        f"--- run_notebook.mjs log:\n{result.stdout[-3000:]}\n"
        f"--- JupyterLab log (tail):\n{lab.log_tail(2000)}"
    )
    assert (SCREENSHOTS / f"{name}-2-final.png").is_file()
    # The browser run must leave the notebook file as it was (autosave is off).
    assert notebook.read_bytes() == before, f"{notebook.name} was modified by the browser run"
    assert had_checkpoints or not checkpoints.exists(), f"the browser run created {checkpoints}"
