"""The embedded cluster under load: many frameworks at once, and heartbeats while big
answers are being written.

`frameworks`: FRAMEWORKS schedulers (each its own SUBSCRIBE stream, in its own process, as
separate programs would be) launch TASKS short command tasks each (`true`) against one
`mesos-kernel cluster`, acknowledging every update as it arrives, as a Mesos scheduler
does. Counts every update per task and state (nothing lost, nothing twice), every
acknowledgement, the offers each framework got and how evenly tasks were launched
(Jain's index over the frameworks' launched tasks when the first of them is done: 1.0 is
perfectly even). With `--waves N` the whole run is repeated N times with new frameworks,
and the cluster's RSS printed after each wave (the 100,000-task soak is `--waves 10`).

`heartbeats`: a cluster of AGENTS agents x TASKS tasks, heartbeats every second; a
framework and an operator subscriber record when each HEARTBEAT arrives, first idle, then
while LOADERS clients fetch GET_STATE in a loop. Prints the intervals they saw.

Usage: python bench/cluster_load.py frameworks [--frameworks 50] [--tasks 200] [--waves 1]
       python bench/cluster_load.py heartbeats [--agents 1000] [--tasks 10] [--seconds 20]
"""

import argparse
import collections
import http.client
import json
import multiprocessing
import queue
import statistics
import threading
import time
import urllib.parse

import requests

from benchlib import cpu_seconds, rss_mib, start_cluster
from big_cluster import populate, records

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
CPUS, MEM = 0.1, 16.0


def scalar(resources, name):
    return sum(r.get("scalar", {}).get("value", 0.0) for r in resources
               if r["name"] == name and not r.get("reservations"))


class Scheduler:
    """One framework, in a process of its own (as separate programs would be): launches
    `tasks` tasks as offers come and acknowledges every update as it arrives. Its launched
    count is shared with the parent (`launched[index]`); what it saw comes back on `out`."""

    def __init__(self, master, name, tasks, index, launched, out):
        self.master, self.name, self.tasks, self.index = master, name, tasks, index
        self.shared_launched, self.out = launched, out
        self.launched = 0
        self.offers = 0
        self.acks = 0
        self.updates = collections.Counter()  # (task, state) -> times seen
        self.ages = []
        self.calls = None
        self.terminal = set()
        self.error = None
        self.error_seen = None
        self.done_at = None

    def call(self, body):
        # One kept-alive connection of the standard library: a call costs the scheduler a
        # fifth of what `requests` takes, so the 50 of them keep up on 2 cores.
        body["framework_id"] = self.fid
        if self.calls is None:
            self.calls = http.client.HTTPConnection(urllib.parse.urlsplit(self.master).netloc)
        self.calls.request("POST", "/api/v1/scheduler", body=json.dumps(body),
                           headers=dict(HEADERS, **{"Mesos-Stream-Id": self.stream_id}))
        r = self.calls.getresponse()
        text = r.read()
        if r.status != 202:
            raise RuntimeError(f"{body['type']}: {r.status} {text!r}")

    def on_offers(self, offers):
        for offer in offers:
            self.offers += 1
            cpus, mem = scalar(offer["resources"], "cpus"), scalar(offer["resources"], "mem")
            infos = []
            while (self.launched < self.tasks and cpus >= CPUS - 1e-9 and mem >= MEM):
                tid = f"{self.name}-{self.launched}"
                infos.append({
                    "name": tid, "task_id": {"value": tid}, "agent_id": offer["agent_id"],
                    "command": {"value": "true"},
                    "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": CPUS}},
                                  {"name": "mem", "type": "SCALAR", "scalar": {"value": MEM}}]})
                self.launched += 1
                cpus -= CPUS
                mem -= MEM
            self.shared_launched[self.index] = self.launched
            ops = [{"type": "LAUNCH", "launch": {"task_infos": infos}}] if infos else []
            # What is left goes back at once: the other frameworks may use it.
            self.call({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]], "operations": ops,
                                                    "filters": {"refuse_seconds": 0}}})
        if self.launched >= self.tasks:
            self.call({"type": "SUPPRESS"})

    def on_update(self, status):
        tid, state = status["task_id"]["value"], status["state"]
        self.updates[(tid, state)] += 1
        if "timestamp" in status:
            # How long after the executor made it the update came: the master resends one
            # not acknowledged within 10 s.
            self.ages.append(time.time() - status["timestamp"])
        if state == "TASK_ERROR" and not self.error_seen:
            self.error_seen = status.get("message")
        if "uuid" in status:
            self.call({"type": "ACKNOWLEDGE", "acknowledge": {
                "agent_id": status["agent_id"], "task_id": status["task_id"],
                "uuid": status["uuid"]}})
            self.acks += 1
        if state in ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR",
                     "TASK_DROPPED", "TASK_GONE"):
            self.terminal.add(tid)

    def run(self):
        self.http = requests.Session()
        body = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "bench", "name": self.name}}}
        try:
            resp = self.http.post(f"{self.master}/api/v1/scheduler", json=body, headers=HEADERS,
                                  stream=True)
            self.stream_id = resp.headers["Mesos-Stream-Id"]
            for event in records(resp):
                kind = event["type"]
                if kind == "SUBSCRIBED":
                    self.fid = event["subscribed"]["framework_id"]
                elif kind == "OFFERS":
                    self.on_offers(event["offers"].get("offers", []))
                elif kind == "UPDATE":
                    self.on_update(event["update"]["status"])
                elif kind == "ERROR":
                    raise RuntimeError(event["error"]["message"])
                if len(self.terminal) >= self.tasks:
                    self.done_at = time.time()
                    self.call({"type": "TEARDOWN"})
                    break
            resp.close()
        except Exception as e:  # noqa: BLE001 - reported with the results
            self.error = repr(e)
        self.out.put({"name": self.name, "tasks": self.tasks, "offers": self.offers,
                      "acks": self.acks, "updates": dict(self.updates), "error": self.error,
                      "error_seen": self.error_seen, "terminal": len(self.terminal),
                      "done_at": self.done_at, "ages": self.ages})


def scheduler_process(*args):
    Scheduler(*args).run()


def jain(xs):
    return sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs)) if any(xs) else 0.0


def wave(master, frameworks, tasks, tag):
    launched = multiprocessing.Array("i", frameworks)
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=scheduler_process,
                                     args=(master, f"{tag}-f{i}", tasks, i, launched, out))
             for i in range(frameworks)]
    t0 = time.time()
    for p in procs:
        p.start()
    results, at_first_done = [], None
    while len(results) < frameworks:
        try:
            r = out.get(timeout=0.05)
        except queue.Empty:
            if time.time() - t0 > 900:
                break
            continue
        if at_first_done is None:
            at_first_done = list(launched)
        results.append(r)
    elapsed = time.time() - t0
    for p in procs:
        p.join(timeout=30)
    errors = [f"{r['name']}: {r['error']}" for r in results if r["error"]]
    seen = next((r["error_seen"] for r in results if r["error_seen"]), None)
    if seen:
        errors.insert(0, f"a TASK_ERROR said: {seen}")
    updates = collections.Counter()
    twice = 0
    for r in results:
        for (_tid, state), n in ((k, v) for k, v in r["updates"].items()):
            updates[state] += n
            twice += n - 1
    lost = frameworks * tasks - sum(r["terminal"] for r in results)
    done = sorted(r["done_at"] - t0 for r in results if r["done_at"])
    ages = sorted(a for r in results for a in r["ages"]) or [0.0]
    return {
        "elapsed": elapsed, "errors": errors, "updates": updates, "twice": twice, "lost": lost,
        "acks": sum(r["acks"] for r in results), "offers": [r["offers"] for r in results] or [0],
        "jain": jain(at_first_done or [0]),
        "ages": (statistics.median(ages), ages[int(len(ages) * 0.99)], ages[-1]),
        "first_done": done[0] if done else None, "last_done": done[-1] if done else None,
    }


def views_of_completed(master):
    """After the last wave (its RSS printed): what the views of the completed frameworks
    cost, their tasks read back from how the master keeps them."""
    agents = requests.post(f"{master}/api/v1", json={"type": "GET_AGENTS"}).json()
    agent = "http://" + agents["get_agents"]["agents"][0]["pid"].split("@", 1)[1]
    for name, send in [
        ("GET_STATE", lambda: requests.post(f"{master}/api/v1", json={"type": "GET_STATE"})),
        ("an agent's /state", lambda: requests.get(f"{agent}/state")),
        ("/state", lambda: requests.get(f"{master}/state")),
        ("/tasks?limit=100", lambda: requests.get(f"{master}/tasks?limit=100")),
    ]:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            resp = send()
            times.append(time.perf_counter() - t0)
        print(f"  {name} with the completed frameworks: {statistics.median(times) * 1000:.1f} ms "
              f"(median of 3), {len(resp.content) / 1e6:.1f} MB, HTTP {resp.status_code}")


def frameworks_main(args):
    cluster, master = start_cluster("--agents", str(args.agents), "--cpus", "8", "--mem", "8000",
                                    "--seed", "1")
    try:
        for w in range(args.waves):
            cpu = cpu_seconds(cluster.pid)
            r = wave(master, args.frameworks, args.tasks, f"w{w}")
            cpu = cpu_seconds(cluster.pid) - cpu
            total = args.frameworks * args.tasks
            print(f"wave {w + 1}: {args.frameworks} frameworks x {args.tasks} tasks in "
                  f"{r['elapsed']:.1f} s ({total / r['elapsed']:.0f} tasks/s); "
                  f"cluster RSS {rss_mib(cluster.pid):.1f} MiB, cluster CPU {cpu:.1f} s", flush=True)
            states = ", ".join(f"{k} {v}" for k, v in sorted(r["updates"].items()))
            print(f"  updates: {states}; acknowledged {r['acks']}; "
                  f"seen twice {r['twice']}; tasks not done {r['lost']}")
            print(f"  offers per framework: min {min(r['offers'])} median "
                  f"{statistics.median(r['offers'])} max {max(r['offers'])}; Jain's index of "
                  f"launched tasks when the first framework was done: {r['jain']:.3f}")
            print("  an update's age when its scheduler read it: median {:.2f} s, 99th {:.2f} s, "
                  "max {:.2f} s".format(*r["ages"]))
            if r["first_done"] is not None:
                print(f"  frameworks done after {r['first_done']:.1f} s (first) to "
                      f"{r['last_done']:.1f} s (last)")
            for e in r["errors"][:5]:
                print(f"  error: {e}")
        views_of_completed(master)
    finally:
        cluster.terminate()
        cluster.wait(timeout=60)


def heartbeat_times(resp, out, stop):
    for event in records(resp):
        if event["type"] == "HEARTBEAT":
            out.append(time.perf_counter())
        if stop.is_set():
            break


def intervals(times, since, until):
    ts = [t for t in times if since <= t <= until]
    return [b - a for a, b in zip(ts, ts[1:])]


def heartbeats_main(args):
    cluster, master = start_cluster("--agents", str(args.agents), "--cpus", "20", "--mem",
                                    "20000", "--seed", "1", "--heartbeat-interval", "1secs")
    stop = threading.Event()
    try:
        launched, _stream, populated = populate(master, args.agents, args.tasks)
        # Every task running and its TASK_RUNNING acknowledged, as in big_cluster.py.
        deadline = time.monotonic() + 600
        while populated["running"] < launched:
            assert time.monotonic() < deadline, f"{populated['running']} of {launched} running"
            time.sleep(0.2)
        size = len(requests.post(f"{master}/api/v1", json={"type": "GET_STATE"}).content)
        print(f"{launched} tasks; GET_STATE is {size / 1e6:.1f} MB", flush=True)
        seen = {"framework": [], "operator": []}
        fw = requests.post(f"{master}/api/v1/scheduler", headers=HEADERS, stream=True,
                           json={"type": "SUBSCRIBE", "subscribe": {"framework_info": {
                               "user": "bench", "name": "heartbeats"}}})
        op = requests.post(f"{master}/api/v1", headers=HEADERS, stream=True,
                           json={"type": "SUBSCRIBE"})
        for name, resp in (("framework", fw), ("operator", op)):
            threading.Thread(target=heartbeat_times, args=(resp, seen[name], stop),
                             daemon=True).start()
        # The first heartbeat comes with SUBSCRIBED, the next an interval after the stream
        # opened (the operator's SUBSCRIBED is the whole state, read for a while): counted
        # from the third on.
        time.sleep(2.5)
        idle_from = time.perf_counter()
        time.sleep(args.seconds / 2)
        load_from = time.perf_counter()
        fetched = []

        def load():
            http = requests.Session()
            while not stop.is_set():
                t = time.perf_counter()
                http.post(f"{master}/api/v1", json={"type": "GET_STATE"}).content
                fetched.append(time.perf_counter() - t)

        loaders = [threading.Thread(target=load, daemon=True) for _ in range(args.loaders)]
        for t in loaders:
            t.start()
        time.sleep(args.seconds)
        load_until = time.perf_counter()
        stop.set()
        for t in loaders:
            t.join(timeout=60)
        print(f"{args.loaders} clients fetched GET_STATE {len(fetched)} times in "
              f"{args.seconds} s (median {statistics.median(fetched) * 1e3:.0f} ms each)")
        print(f"{'heartbeat intervals (1 s configured)':<40}{'median':>9}{'max':>9}{'worst':>9}")
        for name in ("framework", "operator"):
            for label, a, b in (("idle", idle_from, load_from), ("under load", load_from, load_until)):
                iv = intervals(seen[name], a, b)
                if not iv:
                    print(f"  {name}, {label}: no heartbeats")
                    continue
                worst = max(abs(x - 1.0) for x in iv)
                print(f"  {name + ', ' + label:<38}{statistics.median(iv):>8.3f}s"
                      f"{max(iv):>8.3f}s{worst * 100:>8.1f}%")
    finally:
        stop.set()
        cluster.terminate()
        cluster.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    f = sub.add_parser("frameworks")
    f.add_argument("--frameworks", type=int, default=50)
    f.add_argument("--tasks", type=int, default=200)
    f.add_argument("--waves", type=int, default=1)
    f.add_argument("--agents", type=int, default=20)
    h = sub.add_parser("heartbeats")
    h.add_argument("--agents", type=int, default=1000)
    h.add_argument("--tasks", type=int, default=10)
    h.add_argument("--seconds", type=float, default=20)
    h.add_argument("--loaders", type=int, default=2)
    args = ap.parse_args()
    if args.what == "frameworks":
        frameworks_main(args)
    else:
        heartbeats_main(args)


if __name__ == "__main__":
    main()
