"""@dcos/mesos-client (npm), the DC/OS UI's operator API client, against the standalone
`mesos-kernel cluster`: its operator calls and its SUBSCRIBE stream.

It is a browser library (XMLHttpRequest, progress events), so tests/clients/mesos_client.mjs
runs it in headless Chromium on a page of the master's origin and writes what the client
hands over, one JSON line each; this test reads those lines and checks them against the
cluster. While the stream is open it runs a framework with a task, and the stream must
show it: FRAMEWORK_ADDED, TASK_ADDED, TASK_UPDATED to TASK_FINISHED, FRAMEWORK_REMOVED.

Needs node, Chromium (/usr/bin/chromium) and `npm ci --prefix tests/clients` (.ci/run does
both); skipped with a message when one is missing, unless MESOS_KERNEL_REQUIRE_CLIENTS=1 or
MESOS_KERNEL_REQUIRE_BROWSER=1 (.ci/run sets them), which makes it a failure.
"""

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from test_demo_tour import DEADLINE, Subscription, accept, cluster, resources  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "clients" / "mesos_client.mjs"
CHROMIUM = os.environ.get("MESOS_KERNEL_CHROMIUM", "/usr/bin/chromium")
REQUIRED = "1" in (os.environ.get("MESOS_KERNEL_REQUIRE_CLIENTS"),
                   os.environ.get("MESOS_KERNEL_REQUIRE_BROWSER"))
CALLS = [{"type": t} for t in ["GET_HEALTH", "GET_VERSION", "GET_FLAGS", "GET_MASTER"]] + [
    {"type": "GET_METRICS", "get_metrics": {"timeout": {"nanoseconds": 5 * 10**9}}}] + [
    {"type": t} for t in ["GET_STATE", "GET_AGENTS", "GET_FRAMEWORKS", "GET_TASKS",
                          "GET_EXECUTORS"]]


def missing_tools():
    missing = []
    if not shutil.which("node"):
        missing.append("node")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(CHROMIUM + " (apt-get install chromium)")
    modules = ROOT / "tests" / "clients" / "node_modules"
    for package in ["@dcos/mesos-client", "esbuild", "events", "playwright-core"]:
        if not (modules / package).is_dir():
            missing.append("tests/clients/node_modules/%s (npm ci --prefix tests/clients)"
                           % package)
    return missing


class Client:
    """mesos_client.mjs running; its lines in a queue."""

    def __init__(self, master, calls):
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), "--master", master, "--chromium", CHROMIUM,
             "--calls", json.dumps(calls)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def next(self, what):
        deadline = time.monotonic() + DEADLINE * 2  # the first one waits for Chromium
        left = deadline - time.monotonic()
        try:
            line = self.lines.get(timeout=max(left, 0.1))
        except queue.Empty:
            pytest.fail("no %s from mesos_client.mjs in time" % what)
        if line is None:
            self.proc.wait(DEADLINE)
            pytest.fail("mesos_client.mjs ended while waiting for %s:\n%s"
                        % (what, self.proc.stderr.read()))
        return line

    def stop(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        return code, self.proc.stderr.read()


@pytest.fixture()
def client(cluster):  # noqa: F811
    missing = missing_tools()
    if missing:
        message = "@dcos/mesos-client test needs: " + ", ".join(missing)
        if REQUIRED:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    master, _agent = cluster
    clients = []

    def start(calls):
        clients.append(Client(master, calls))
        return clients[-1]

    yield master, start
    for c in clients:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


def responses(client, calls):
    """The answers the client gave to each call, parsed as the caller parses them."""
    answers = {}
    for call in calls:
        line = client.next(call["type"])
        assert line["kind"] == "response", line
        assert line["call"] == call
        answer = json.loads(line["text"])
        assert answer["type"] == call["type"]
        answers[call["type"]] = answer
    return answers


def finished_framework(master, name):
    """A framework with one command task run to TASK_FINISHED, every update acknowledged."""
    sub = Subscription(master, {"user": "tester", "name": name, "hostname": "127.0.0.1"})
    offer = sub.offer()
    task = {"name": name + "-task", "task_id": {"value": name + "-task"},
            "agent_id": offer["agent_id"], "command": {"value": "echo from " + name},
            "resources": resources(0.1, 32)}
    assert sub.call(accept(offer, task)).status_code == 202
    assert [sub.update(name + "-task")["state"] for _ in range(3)] == [
        "TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    return sub


def test_operator_calls(client):
    master, start = client
    sub = finished_framework(master, "before")
    c = start(CALLS)
    got = responses(c, CALLS)
    assert c.next("subscribed") == {"kind": "subscribed"}
    assert c.stop() == (0, "")

    assert got["GET_HEALTH"]["get_health"] == {"healthy": True}
    version = requests.get(master + "/version", timeout=DEADLINE).json()
    assert got["GET_VERSION"]["get_version"]["version_info"]["version"] == version["version"]
    flags = {f["name"]: f.get("value") for f in got["GET_FLAGS"]["get_flags"]["flags"]}
    legacy_flags = requests.get(master + "/master/flags", timeout=DEADLINE).json()["flags"]
    assert flags == legacy_flags
    assert got["GET_MASTER"]["get_master"]["master_info"]["port"] == int(master.rsplit(":", 1)[1])
    metrics = {m["name"]: m["value"] for m in got["GET_METRICS"]["get_metrics"]["metrics"]}
    assert metrics["master/elected"] == 1
    assert metrics["master/frameworks_active"] == 1
    assert metrics["master/tasks_finished"] == 1

    slaves = requests.get(master + "/master/slaves", timeout=DEADLINE).json()["slaves"]
    agent_ids = sorted(a["id"] for a in slaves)
    agents = got["GET_AGENTS"]["get_agents"]["agents"]
    assert sorted(a["agent_info"]["id"]["value"] for a in agents) == agent_ids
    frameworks = got["GET_FRAMEWORKS"]["get_frameworks"]["frameworks"]
    assert [f["framework_info"]["id"]["value"] for f in frameworks] == [sub.framework_id]
    assert frameworks[0]["framework_info"]["name"] == "before"
    completed = got["GET_TASKS"]["get_tasks"]["completed_tasks"]
    assert [(t["task_id"]["value"], t["state"]) for t in completed] == [
        ("before-task", "TASK_FINISHED")]
    # GET_STATE is the other answers together.
    state = got["GET_STATE"]["get_state"]
    assert state["get_agents"] == got["GET_AGENTS"]["get_agents"]
    assert state["get_frameworks"] == got["GET_FRAMEWORKS"]["get_frameworks"]
    assert state["get_tasks"] == got["GET_TASKS"]["get_tasks"]
    assert state["get_executors"] == got["GET_EXECUTORS"]["get_executors"]


def test_subscribe_stream(client):
    master, start = client
    c = start([])
    assert c.next("subscribed") == {"kind": "subscribed"}

    def record(what):
        while True:
            line = c.next(what)
            assert line["kind"] == "record", line
            event = json.loads(line["text"])
            if event["type"] != "HEARTBEAT":
                return event

    subscribed = record("SUBSCRIBED")
    assert subscribed["type"] == "SUBSCRIBED"
    agents = subscribed["subscribed"]["get_state"]["get_agents"]["agents"]
    assert len(agents) == 2

    # A framework and its task while the stream is open; then its TEARDOWN. What the
    # stream says of them, in order (FRAMEWORK_UPDATED, should it come, is left out).
    sub = finished_framework(master, "during")
    assert sub.call({"type": "TEARDOWN"}).status_code == 202
    seen = []
    while not seen or seen[-1][0] != "FRAMEWORK_REMOVED":
        event = record("FRAMEWORK_REMOVED")
        kind = event["type"]
        if kind == "FRAMEWORK_ADDED":
            info = event["framework_added"]["framework"]["framework_info"]
            seen.append((kind, info["id"]["value"], info["name"]))
        elif kind == "TASK_ADDED":
            task = event["task_added"]["task"]
            seen.append((kind, task["task_id"]["value"], task["state"]))
        elif kind == "TASK_UPDATED":
            update = event["task_updated"]
            seen.append((kind, update["status"]["task_id"]["value"], update["state"]))
        elif kind == "FRAMEWORK_REMOVED":
            info = event["framework_removed"]["framework_info"]
            seen.append((kind, info["id"]["value"], info["name"]))
        else:
            assert kind == "FRAMEWORK_UPDATED", event
    assert seen == [
        ("FRAMEWORK_ADDED", sub.framework_id, "during"),
        ("TASK_ADDED", "during-task", "TASK_STAGING"),
        ("TASK_UPDATED", "during-task", "TASK_STARTING"),
        ("TASK_UPDATED", "during-task", "TASK_RUNNING"),
        ("TASK_UPDATED", "during-task", "TASK_FINISHED"),
        ("FRAMEWORK_REMOVED", sub.framework_id, "during"),
    ]

    # Heartbeats keep coming on the open stream (the cluster's is 1 s here).
    line = c.next("HEARTBEAT")
    while json.loads(line["text"])["type"] != "HEARTBEAT":
        line = c.next("HEARTBEAT")
    assert c.stop() == (0, "")
