"""`jupyter console --kernel mesos` as a person uses it, in a real terminal: tmux runs the
console (its full prompt_toolkit interface, not the simple prompt), send-keys types, and
capture-pane reads the screen. A call shown as text, an error, a multi-line cell (the
kernel's is_complete keeps the cell open), an interrupt with Ctrl-C, then the terminal is
closed and the kernel must not outlive the console.

Needs tmux (Debian's package; .ci/run installs it). Skipped without it unless
MESOS_KERNEL_REQUIRE_TMUX=1, which turns the skip into a failure.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

REQUIRED = os.environ.get("MESOS_KERNEL_REQUIRE_TMUX") == "1"
TIMEOUT = 30


class Terminal:
    """A tmux server of its own (a private socket), with one window running `command`."""

    def __init__(self, tmp_path, command, env):
        self.socket = str(tmp_path / f"tmux-{uuid.uuid4().hex[:8]}")
        self.tmux("new-session", "-d", "-x", "150", "-y", "50", *sum((["-e", f"{k}={v}"] for k, v in env.items()), []),
                  command)
        self.pid = int(self.tmux("display-message", "-p", "#{pane_pid}").strip())

    def tmux(self, *args):
        result = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True,
                                timeout=30)
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout

    def screen(self):
        """Everything the terminal showed, scrollback included, lines joined as printed."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-")

    def type(self, text):
        self.tmux("send-keys", "-l", text)

    def key(self, *keys):
        self.tmux("send-keys", *keys)

    def wait_for(self, pattern, after=0, timeout=TIMEOUT):
        """The screen once `pattern` shows in it past offset `after`; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            found = re.compile(pattern, re.M).search(screen, after)
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} on the screen after {timeout}s:\n{screen}")
            time.sleep(0.05)

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=30)


def kernel_children(pid):
    """The mesos kernels that process `pid` started (Linux: /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] not in "ZX" and b"kernel\0--connection-file" in cmd:
            found.append(int(entry))
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


@pytest.fixture
def console(tmp_path):
    if shutil.which("tmux") is None:
        message = "tmux is not installed (apt-get install tmux)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    jupyter = pathlib.Path(sys.executable).parent / "jupyter"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "JUPYTER_PLATFORM_DIRS": "1",
           "LANG": "C.UTF-8"}
    for keep in ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "VIRTUAL_ENV"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    term = Terminal(tmp_path, f"{jupyter} console --kernel mesos", env)
    try:
        yield term
    finally:
        term.close()


def test_a_console_session(console):
    t = console
    t.wait_for(r"^In \[1\]: ")
    start = len(t.screen().rstrip())

    # A call, shown as a text table (the first call starts the embedded cluster).
    t.type("GET_HEALTH")
    t.key("Enter")
    out = t.wait_for(r"^In \[2\]: ", start)
    shown = t.screen()[start:out.start()]
    assert "Started the embedded Mesos cluster" in shown, shown
    assert re.search(r"^Out\[1\]:", shown, re.M), shown
    assert re.search(r"^healthy\s+yes\s*$", shown, re.M), shown

    # An error: its kind and message, and the console goes on.
    mark = out.end()
    t.type("ASSERT false")
    t.key("Enter")
    out = t.wait_for(r"^In \[3\]: ", mark)
    shown = t.screen()[mark:out.start()]
    assert "AssertionFailed: ASSERT false is not true" in shown, shown

    # A multi-line cell: Enter after "[1," opens a continuation line, as is_complete says.
    mark = out.end()
    t.type("[1,")
    t.key("Enter")
    cont = t.wait_for(r"^\s+\.\.\.: ", mark)
    t.type("2] | length")
    t.key("Enter")
    out = t.wait_for(r"^In \[4\]: ", cont.end())
    assert re.search(r"^Out\[3\]: 2\s*$", t.screen()[cont.end():out.start()], re.M)

    # An interrupt: the cell prints, then waits; Ctrl-C ends it and the next cell works.
    mark = out.end()
    t.type('PRINT "waiting"')
    t.key("C-o")
    t.type("WAIT false timeout=60s")
    t.key("Enter")
    t.wait_for(r"^waiting\s*$", mark)
    asked = time.monotonic()
    t.key("C-c")
    out = t.wait_for(r"^In \[5\]: ", mark)
    assert time.monotonic() - asked < 5
    shown = t.screen()[mark:out.start()]
    assert "Interrupted: interrupted by the user" in shown, shown
    mark = out.end()
    t.type("1 + 2")
    t.key("Enter")
    out = t.wait_for(r"^In \[6\]: ", mark)
    assert re.search(r"^Out\[5\]: 3\s*$", t.screen()[mark:out.start()], re.M)

    # Closing the terminal ends the console without a shutdown_request; its kernel (with
    # the embedded cluster) notices and goes too.
    if not os.path.isdir("/proc"):
        return
    kernels = kernel_children(t.pid)
    assert len(kernels) == 1, kernels
    t.close()
    deadline = time.monotonic() + 10
    while alive(kernels[0]):
        assert time.monotonic() < deadline, "the kernel outlived its console"
        time.sleep(0.05)
