"""The Demo-API tour against the standalone `mesos-kernel cluster` binary.

Run with pytest (and `requests`); the binary comes from $MESOS_KERNEL_BIN or
target/debug/mesos-kernel. Nothing sleeps to wait: events are awaited with deadlines.
"""

import base64
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 15.0
STREAM_ID_MESSAGE = "All non-subscribe calls should include the 'Mesos-Stream-Id' header"


def binary():
    explicit = os.environ.get("MESOS_KERNEL_BIN")
    if explicit:
        return explicit
    for target in [os.environ.get("CARGO_TARGET_DIR"), str(ROOT / "target")]:
        if target and Path(target, "debug", "mesos-kernel").exists():
            return str(Path(target, "debug", "mesos-kernel"))
    pytest.skip("mesos-kernel binary not built (set MESOS_KERNEL_BIN)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def cluster(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [binary(), "cluster", "--port", str(port), "--heartbeat-interval", "1secs",
         "--kill-grace", "1secs", "--seed", "1", "--work-dir", str(tmp_path / "work")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    master = "http://127.0.0.1:%d" % port
    lines = []
    try:
        # It prints the master, then each agent, then the work dir.
        while not any(l.startswith("mesos-kernel cluster: work dir") for l in lines):
            line = proc.stdout.readline()
            assert line, "the cluster exited early"
            lines.append(line.strip())
        agents = [l.split()[-1] for l in lines if l.startswith("mesos-kernel cluster: agent")]
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                if requests.get(master + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the master never answered /health"
            time.sleep(0.05)
        yield master, agents[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=DEADLINE) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


class Subscription:
    """A framework's event stream, read by a thread into a queue (as the original notebook
    did, but one that stops with the stream)."""

    def __init__(self, master, info):
        self.master = master
        self.response = requests.post(
            master + "/api/v1/scheduler",
            json={"type": "SUBSCRIBE", "subscribe": {"framework_info": info}},
            headers={"Accept": "application/json"}, stream=True, timeout=DEADLINE)
        assert self.response.status_code == 200, self.response.text
        self.stream_id = self.response.headers["Mesos-Stream-Id"]
        self.events = queue.Queue()
        self.offers = []  # outstanding offers seen while waiting for other events
        threading.Thread(target=self._read, daemon=True).start()
        subscribed = self.next("SUBSCRIBED")
        self.framework_id = subscribed["subscribed"]["framework_id"]["value"]

    def _read(self):
        raw = self.response.raw
        try:
            while True:
                header = b""
                while not header.endswith(b"\n"):
                    byte = raw.read(1)
                    if not byte:
                        return
                    header += byte
                size = int(header)
                body = b""
                while len(body) < size:
                    more = raw.read(size - len(body))
                    if not more:
                        return
                    body += more
                self.events.put(json.loads(body))
        except Exception:  # the stream closed under us
            return
        finally:
            self.events.put(None)

    def next(self, kind):
        deadline = time.monotonic() + DEADLINE
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no %s event in time" % kind
            event = self.events.get(timeout=left)
            assert event is not None, "stream ended while waiting for %s" % kind
            if event["type"] == kind:
                return event
            if event["type"] == "OFFERS":
                self.offers.extend(event["offers"]["offers"])
            elif event["type"] == "RESCIND":
                gone = event["rescind"]["offer_id"]
                self.offers = [o for o in self.offers if o["id"] != gone]

    def offer(self):
        """An outstanding offer: one seen earlier, or the next to come."""
        if self.offers:
            return self.offers.pop(0)
        return self.next("OFFERS")["offers"]["offers"][0]

    def call(self, body, stream_id=True):
        body = dict(body, framework_id={"value": self.framework_id})
        headers = {"Mesos-Stream-Id": self.stream_id} if stream_id else {}
        return requests.post(self.master + "/api/v1/scheduler", json=body,
                             headers=headers, timeout=DEADLINE)

    def update(self, task_id):
        """The next update of a task, acknowledged when it carries a uuid."""
        while True:
            status = self.next("UPDATE")["update"]["status"]
            if status["task_id"]["value"] != task_id:
                continue
            if "uuid" in status:
                r = self.call({"type": "ACKNOWLEDGE", "acknowledge": {
                    "agent_id": status["agent_id"], "task_id": status["task_id"],
                    "uuid": status["uuid"]}})
                assert r.status_code == 202, r.text
            return status


def resources(cpus, mem):
    return [{"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}}]


def accept(offer, task):
    return {"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": 0}}}


def test_demo_tour(cluster):
    master, agent = cluster

    # State of master and agent.
    state = requests.get(master + "/master/state", timeout=DEADLINE).json()
    agent_state = requests.get(agent + "/state", timeout=DEADLINE).json()
    assert state["version"] == agent_state["version"]
    assert state["frameworks"] == []
    assert state["slaves"][0]["pid"] == "slave(1)@" + agent[len("http://"):]
    assert agent_state["attributes"] == {"rack": "r2d2", "pod": "demo,dev"}

    # SUBSCRIBE, then OFFERS.
    sub = Subscription(master, {"user": "ubuntu", "name": "Demo Mesos HTTP API Framework"})
    offer = sub.offer()
    assert offer["agent_id"]["value"] == agent_state["id"]

    # A call without the stream id is refused, as Mesos refuses it.
    r = sub.call({"type": "REVIVE"}, stream_id=False)
    assert (r.status_code, r.text) == (400, STREAM_ID_MESSAGE)

    # A command task through TASK_FINISHED, acknowledging each update.
    task = {"name": "hello", "task_id": {"value": "hello-1"}, "agent_id": offer["agent_id"],
            "command": {"value": "echo Hello from the tour", "shell": True},
            "resources": resources(0.2, 64)}
    r = sub.call(accept(offer, task))
    assert r.status_code == 202, r.text
    states = [sub.update("hello-1")["state"] for _ in range(3)]
    assert states == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]

    # Its stdout, through /files/read, from the directory the agent's state names.
    agent_state = requests.get(agent + "/state", timeout=DEADLINE).json()
    # With its only executor done, the framework is one of the agent's completed ones (a
    # Mesos agent removes an idle framework).
    frameworks = agent_state["frameworks"] + agent_state["completed_frameworks"]
    executors = [e for f in frameworks for e in f["completed_executors"]]
    directory = executors[0]["directory"]
    out = requests.get(agent + "/files/read", params={"path": directory + "/stdout", "offset": 0},
                       timeout=DEADLINE).json()
    assert out == {"data": "Hello from the tour\n", "offset": 0}

    # A Docker task (simulated) RUNNING, then KILLED.
    offer = sub.offer()
    nginx = {"name": "nginx", "task_id": {"value": "nginx-1"}, "agent_id": offer["agent_id"],
             "container": {"type": "DOCKER",
                           "docker": {"image": "nginx:1.10-alpine", "network": "HOST"}},
             "command": {"shell": False},
             "resources": resources(0.2, 100)}
    assert sub.call(accept(offer, nginx)).status_code == 202
    while sub.update("nginx-1")["state"] != "TASK_RUNNING":
        pass
    r = sub.call({"type": "KILL", "kill": {"task_id": {"value": "nginx-1"},
                                           "agent_id": offer["agent_id"]}})
    assert r.status_code == 202
    assert sub.update("nginx-1")["state"] == "TASK_KILLED"

    # Heartbeats arrive.
    sub.next("HEARTBEAT")

    # TEARDOWN.
    assert sub.call({"type": "TEARDOWN"}).status_code == 202
    state = requests.get(master + "/master/state", timeout=DEADLINE).json()
    assert state["frameworks"] == []
    assert state["completed_frameworks"][0]["id"] == sub.framework_id
