#!/usr/bin/env python3
"""A small framework executor speaking Mesos's v1 executor HTTP API with the standard
library only, for tests/cluster_executors.rs.

It subscribes to the agent named by MESOS_AGENT_ENDPOINT and reports what it sees to its
scheduler as MESSAGE calls ("event:<TYPE>:<detail>"), so the test can watch both ends:
- LAUNCH: TASK_RUNNING, then TASK_FINISHED when the task's name starts with "finish";
- KILL: TASK_KILLED;
- MESSAGE from the scheduler: echoed back ("echo:<data>"); "exit:<code>" makes it exit;
- ACKNOWLEDGED: reported with the task id and uuid;
- SHUTDOWN: it exits 0, or, with HTTP_EXECUTOR_IGNORE_SHUTDOWN=1 in its environment,
  reports it ("event:SHUTDOWN") and keeps running until the agent kills it.
Its environment goes to the scheduler once, first ("env:<json>"), then its pid ("pid:<n>").
"""

import base64
import http.client
import json
import os
import sys
import uuid

ENDPOINT = os.environ["MESOS_AGENT_ENDPOINT"]
FRAMEWORK_ID = {"value": os.environ["MESOS_FRAMEWORK_ID"]}
EXECUTOR_ID = {"value": os.environ["MESOS_EXECUTOR_ID"]}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def call(kind, **fields):
    body = {"type": kind, "framework_id": FRAMEWORK_ID, "executor_id": EXECUTOR_ID}
    body.update(fields)
    conn = http.client.HTTPConnection(ENDPOINT, timeout=30)
    conn.request("POST", "/api/v1/executor", json.dumps(body), HEADERS)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    if resp.status != 202:
        print(f"{kind} answered {resp.status}: {text}", file=sys.stderr, flush=True)
    return resp.status


def tell(text):
    data = base64.b64encode(text.encode()).decode()
    call("MESSAGE", message={"data": data})


def update(task_id, state, message=None):
    status = {
        "task_id": task_id,
        "state": state,
        "source": "SOURCE_EXECUTOR",
        "uuid": base64.b64encode(uuid.uuid4().bytes).decode(),
    }
    if message:
        status["message"] = message
    call("UPDATE", update={"status": status})


def records(resp):
    """RecordIO: a decimal length, a newline, then that many bytes of JSON."""
    while True:
        line = resp.readline()
        if not line:
            return
        size = int(line.strip())
        data = b""
        while len(data) < size:
            chunk = resp.read(size - len(data))
            if not chunk:
                return
            data += chunk
        yield json.loads(data)


def main():
    conn = http.client.HTTPConnection(ENDPOINT)
    body = {
        "type": "SUBSCRIBE",
        "framework_id": FRAMEWORK_ID,
        "executor_id": EXECUTOR_ID,
        "subscribe": {},
    }
    conn.request("POST", "/api/v1/executor", json.dumps(body), HEADERS)
    resp = conn.getresponse()
    if resp.status != 200:
        print(f"SUBSCRIBE answered {resp.status}: {resp.read()!r}", file=sys.stderr)
        return 1
    print("Content-Type:", resp.getheader("Content-Type"), flush=True)
    for event in records(resp):
        kind = event.get("type")
        print("event", json.dumps(event), flush=True)
        if kind == "SUBSCRIBED":
            env = {k: v for k, v in os.environ.items() if k.startswith(("MESOS_", "LIBPROCESS_"))}
            tell("env:" + json.dumps(env))
            tell("pid:" + str(os.getpid()))
            sub = event["subscribed"]
            tell("event:SUBSCRIBED:" + json.dumps({
                "executor_id": sub["executor_info"]["executor_id"]["value"],
                "framework_id": sub["framework_info"]["id"]["value"],
                "agent_id": sub["agent_info"]["id"]["value"],
                "container_id": sub.get("container_id", {}).get("value"),
            }))
        elif kind == "LAUNCH":
            task = event["launch"]["task"]
            tell("event:LAUNCH:" + task["task_id"]["value"])
            update(task["task_id"], "TASK_RUNNING")
            if task.get("name", "").startswith("finish"):
                update(task["task_id"], "TASK_FINISHED", "done by the test executor")
        elif kind == "KILL":
            task_id = event["kill"]["task_id"]
            tell("event:KILL:" + task_id["value"])
            update(task_id, "TASK_KILLED")
        elif kind == "ACKNOWLEDGED":
            ack = event["acknowledged"]
            tell("event:ACKNOWLEDGED:" + ack["task_id"]["value"] + ":" + ack["uuid"])
        elif kind == "MESSAGE":
            text = base64.b64decode(event["message"]["data"]).decode()
            if text.startswith("exit:"):
                return int(text[len("exit:"):])
            tell("echo:" + text)
        elif kind == "SHUTDOWN":
            if os.environ.get("HTTP_EXECUTOR_IGNORE_SHUTDOWN") == "1":
                tell("event:SHUTDOWN")
                continue
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
