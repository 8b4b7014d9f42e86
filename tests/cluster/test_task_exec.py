"""`mesos task exec` against the standalone `mesos-kernel cluster`, with a client written the
way Apache Mesos's CLI (`src/python/cli_new/lib/cli/mesos.py`, TaskIO) and avmesos-cli do it:
find the task's agent and container id through the master (`/master/tasks`,
`/master/slaves`), launch a nested container session under the task's container on the
agent (LAUNCH_NESTED_CONTAINER_SESSION, `Accept: application/recordio`, `Message-Accept:
application/json`), print the ProcessIO records it streams back, then ask
WAIT_NESTED_CONTAINER for the exit status.
"""

import base64
import json
import os
import uuid

import requests

from test_demo_tour import DEADLINE, Subscription, accept, cluster, resources  # noqa: F401


class TaskExec:
    """Runs a command inside a running task's container, as `mesos task exec` does."""

    def __init__(self, master, task_id):
        tasks = requests.get(master + "/master/tasks", timeout=DEADLINE).json()["tasks"]
        task = next(t for t in tasks if t["id"] == task_id)
        assert task["state"] == "TASK_RUNNING", task
        # The latest status carries the container id, parents included.
        self.parent = task["statuses"][-1]["container_status"]["container_id"]
        slaves = requests.get(master + "/master/slaves", timeout=DEADLINE).json()["slaves"]
        slave = next(s for s in slaves if s["id"] == task["slave_id"])
        self.agent = "http://%s:%d" % (slave["hostname"], slave["port"])
        self.container_id = {"parent": self.parent, "value": str(uuid.uuid4())}

    def run(self, argv):
        """(stdout, stderr, exit code) of `argv` run in the task's container."""
        call = {"type": "LAUNCH_NESTED_CONTAINER_SESSION",
                "launch_nested_container_session": {
                    "container_id": self.container_id,
                    "command": {"shell": False, "value": argv[0], "arguments": argv}}}
        response = requests.post(
            self.agent + "/api/v1", data=json.dumps(call), stream=True, timeout=DEADLINE,
            headers={"Content-Type": "application/json", "Accept": "application/recordio",
                     "Message-Accept": "application/json"})
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/recordio"
        assert response.headers["Message-Content-Type"] == "application/json"
        out = {"STDOUT": b"", "STDERR": b""}
        for record in self._records(response.raw):
            message = json.loads(record)
            if message["type"] == "DATA":
                out[message["data"]["type"]] += base64.b64decode(message["data"]["data"])
        waited = requests.post(self.agent + "/api/v1", timeout=DEADLINE, json={
            "type": "WAIT_NESTED_CONTAINER",
            "wait_nested_container": {"container_id": self.container_id}})
        assert waited.status_code == 200, waited.text
        status = waited.json()["wait_nested_container"]["exit_status"]
        return out["STDOUT"].decode(), out["STDERR"].decode(), os.WEXITSTATUS(status)

    @staticmethod
    def _records(raw):
        """RecordIO: `<length>\\n<record>`, repeated, until the stream ends."""
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
                assert more, "the stream ended inside a record"
                body += more
            yield body


def test_task_exec_runs_echo_inside_a_running_task(cluster):
    master, _agent = cluster
    framework = Subscription(master, {"user": "root", "name": "exec"})
    offer = framework.offer()
    task = {"name": "sleeper", "task_id": {"value": "sleeper"}, "agent_id": offer["agent_id"],
            "command": {"value": "echo task-file > note.txt; sleep 60"},
            "resources": resources(0.1, 32)}
    r = framework.call(accept(offer, task))
    assert r.status_code == 202, r.text
    while framework.update("sleeper")["state"] != "TASK_RUNNING":
        pass

    out, err, code = TaskExec(master, "sleeper").run(["echo", "hello", "from", "exec"])
    assert (out, err, code) == ("hello from exec\n", "", 0)
    # It runs where the task's files are, and its exit status comes back.
    out, err, code = TaskExec(master, "sleeper").run(
        ["sh", "-c", "cat note.txt; echo oops >&2; exit 3"])
    assert (out, err, code) == ("task-file\n", "oops\n", 3)

    r = framework.call({"type": "TEARDOWN"})
    assert r.status_code == 202, r.text
