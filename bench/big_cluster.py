"""A big embedded cluster (1,000 agents, 10 tasks each) and the kernel against it.

Measures: GET_STATE from execute to rendered table in mesos-kernel, side by side with
ipykernel doing the same call with `requests` (parse only, no rendering); the bytes the
kernel sends to the front end; the cluster's RSS; one offer cycle (SUBSCRIBE to offers in
hand) for a subscribed framework.
Usage: python bench/big_cluster.py [--agents 1000] [--tasks 10] [--rounds 5]
"""

import argparse
import json
import os
import queue
import statistics
import threading
import time

import requests
from jupyter_client.manager import KernelManager

from benchlib import rss_mib, start_cluster


def records(resp):
    """RecordIO events from a streaming response."""
    buf = b""
    for chunk in resp.iter_content(chunk_size=None):
        buf += chunk
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                break
            size = int(buf[:nl])
            if len(buf) < nl + 1 + size:
                break
            yield json.loads(buf[nl + 1:nl + 1 + size])
            buf = buf[nl + 1 + size:]


def populate(master, agents, tasks_per_agent):
    """Subscribes a framework and launches simulated Docker tasks on every agent. It
    acknowledges every update as it arrives, as a real scheduler does (unacknowledged
    updates stay queued and retried in the agent, which is not the state being measured);
    `state["running"]` counts the TASK_RUNNING updates acknowledged."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    body = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "bench", "name": "populate"}}}
    resp = requests.post(f"{master}/api/v1/scheduler", json=body, headers=headers, stream=True)
    stream_id = resp.headers["Mesos-Stream-Id"]
    state = {"fid": None, "offers": [], "running": 0}
    got = threading.Event()
    acks = queue.Queue()

    def acknowledge():
        session = requests.Session()
        while True:
            status = acks.get()
            call = {"type": "ACKNOWLEDGE", "framework_id": state["fid"],
                    "acknowledge": {"agent_id": status["agent_id"], "task_id": status["task_id"],
                                    "uuid": status["uuid"]}}
            r = session.post(f"{master}/api/v1/scheduler", json=call,
                             headers=dict(headers, **{"Mesos-Stream-Id": stream_id}))
            if r.status_code != 202:
                # Its stream was closed (a reader this far behind is closed, as Mesos
                # would): the tasks stay, there is no one left to acknowledge for.
                print(f"populate: acknowledgements stop: {r.status_code} {r.text}", flush=True)
                return
            if status["state"] == "TASK_RUNNING":
                state["running"] += 1

    def read():
        for event in records(resp):
            if event["type"] == "SUBSCRIBED":
                state["fid"] = event["subscribed"]["framework_id"]
            elif event["type"] == "OFFERS":
                state["offers"].extend(event["offers"]["offers"])
                if len(state["offers"]) >= agents:
                    got.set()
            elif event["type"] == "UPDATE" and "uuid" in event["update"]["status"]:
                acks.put(event["update"]["status"])

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=acknowledge, daemon=True).start()
    got.wait(120)
    h = dict(headers, **{"Mesos-Stream-Id": stream_id})
    n = 0
    for offer in state["offers"]:
        infos = []
        for _ in range(tasks_per_agent):
            infos.append({
                "name": f"t{n}", "task_id": {"value": f"t{n}"}, "agent_id": offer["agent_id"],
                "container": {"type": "DOCKER", "docker": {"image": "bench:1", "network": "HOST"}},
                "command": {"shell": False},
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                              {"name": "mem", "type": "SCALAR", "scalar": {"value": 16}}],
            })
            n += 1
        # The rest of each agent is refused for good, so later frameworks get offers.
        call = {"type": "ACCEPT", "framework_id": state["fid"],
                "accept": {"offer_ids": [offer["id"]],
                           "operations": [{"type": "LAUNCH", "launch": {"task_infos": infos}}],
                           "filters": {"refuse_seconds": 1e9}}}
        r = requests.post(f"{master}/api/v1/scheduler", json=call, headers=h)
        assert r.status_code == 202, r.text
    return n, resp, state


HELD_OURS = '$s.get_state.get_tasks.tasks | map(select(.state == "TASK_RUNNING")) | length'
HELD_PEER = "len([t for t in s['get_state']['get_tasks']['tasks'] if t['state'] == 'TASK_RUNNING'])"


def execute(kc, code):
    msg_id = kc.execute(code)
    sent = 0
    t = time.perf_counter()
    while True:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        sent += len(json.dumps(msg["content"]))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    elapsed = time.perf_counter() - t
    reply = kc.get_shell_msg(timeout=120)
    assert reply["content"]["status"] == "ok", reply["content"]
    return elapsed, sent


def kernel(name, master):
    km = KernelManager(kernel_name=name)
    km.start_kernel(env=dict(os.environ, MESOS_MASTER=master))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    cluster, master = start_cluster("--agents", str(args.agents), "--cpus", "20",
                                    "--mem", "20000", "--seed", "1")
    try:
        t = time.perf_counter()
        launched, _stream, populated = populate(master, args.agents, args.tasks)
        # Wait until every task's TASK_RUNNING is acknowledged.
        deadline = time.monotonic() + 600
        while populated["running"] < launched:
            assert time.monotonic() < deadline, f"{populated['running']} of {launched} running"
            time.sleep(0.2)
        populate_s = time.perf_counter() - t
        print(f"populated {launched} tasks, each running and acknowledged, in {populate_s:.1f} s",
              flush=True)
        cluster_rss = rss_mib(cluster.pid)
        raw = requests.post(f"{master}/api/v1", json={"type": "GET_STATE"})
        state_bytes = len(raw.content)

        ours_km, ours = kernel("mesos", master)
        peer_km, peer = kernel("python3", master)
        execute(peer, "import requests")
        execute(ours, "GET_HEALTH")
        peer_code = (f"r = requests.post('{master}/api/v1', json={{'type': 'GET_STATE'}}).json()\n"
                     "len(r['get_state']['get_tasks']['tasks'])")
        ours_t, peer_t, sent = [], [], 0
        for _ in range(args.rounds):
            t, sent = execute(ours, "GET_STATE")
            ours_t.append(t)
            t, _ = execute(peer, peer_code)
            peer_t.append(t)
        # jq over the big answer: a filter on the call's result (the 19 MB cross to the jq
        # worker each time), and an expression on a bound result (sent once, then held).
        filt_ours, filt_peer, held_ours, held_peer = [], [], [], []
        execute(ours, "s = GET_STATE")
        execute(peer, f"s = requests.post('{master}/api/v1', json={{'type': 'GET_STATE'}}).json()")
        first_held, _ = execute(ours, HELD_OURS)
        for _ in range(args.rounds):
            # Each kernel's held query follows its own filter cell: after the other
            # kernel's, it measured that kernel's after-work too (ipykernel freeing its
            # 15 MB dict beside our cell on two cores: 16.4 ms against 5.6 ms).
            t, _ = execute(ours, "GET_STATE | .get_state.get_tasks.tasks | length")
            filt_ours.append(t)
            t, _ = execute(ours, HELD_OURS)
            held_ours.append(t)
            t, _ = execute(peer, peer_code)
            filt_peer.append(t)
            t, _ = execute(peer, HELD_PEER)
            held_peer.append(t)
        cycle = []
        for i in range(3):
            t0 = time.perf_counter()
            execute(ours, f"SUBSCRIBE name=cycle{i} user=bench\nOFFERS wait=30s")
            cycle.append(time.perf_counter() - t0)
            execute(ours, "TEARDOWN")
        for km, kc in ((ours_km, ours), (peer_km, peer)):
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    finally:
        cluster.terminate()
        cluster.wait(timeout=30)

    o, p = statistics.median(ours_t), statistics.median(peer_t)
    print(f"cluster: {args.agents} agents, {launched} tasks (populated in {populate_s:.1f} s); "
          f"GET_STATE is {state_bytes / 1e6:.1f} MB of JSON")
    print(f"{'measure':<46}{'mesos-kernel':>14}{'ipykernel':>12}{'ratio':>8}")
    print(f"{'GET_STATE execute to rendered (median)':<46}{o * 1e3:>11.1f} ms{p * 1e3:>9.1f} ms{o / p:>8.3f}")
    fo, fp = statistics.median(filt_ours), statistics.median(filt_peer)
    print(f"{'GET_STATE | .get_state.get_tasks.tasks | length':<46}{fo * 1e3:>11.1f} ms{fp * 1e3:>9.1f} ms{fo / fp:>8.3f}")
    ho, hp = statistics.median(held_ours), statistics.median(held_peer)
    print(f"{'running tasks of a bound $s (median)':<46}{ho * 1e3:>11.1f} ms{hp * 1e3:>9.1f} ms{ho / hp:>8.3f}")
    print(f"{'  the first time (it crosses to the jq worker)':<46}{first_held * 1e3:>11.1f} ms")
    print(f"{'bytes sent to the front end for GET_STATE':<46}{sent / 1e3:>11.1f} kB")
    print(f"{'embedded cluster RSS':<46}{cluster_rss:>10.1f} MiB")
    print(f"{'offer cycle: SUBSCRIBE to offers (median)':<46}{statistics.median(cycle) * 1e3:>11.1f} ms")


if __name__ == "__main__":
    main()
