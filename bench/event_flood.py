"""The scheduler event stream under a flood from the embedded cluster.

Two floods, each measured in mesos-kernel (its scheduler session decodes the RecordIO stream
and applies every event to the session state, acknowledging updates that carry a uuid) and
in a Python peer reading the same kind of stream with `requests` (json.loads per record, the
same bookkeeping: latest status per task, a 1,000-event log, acknowledgements). Interleaved
A B A B; medians and ratios (ours / peer: above 1 means the kernel is faster).

- reconcile: a subscribed framework sends RECONCILE for N unknown task ids; the master answers
  with N UPDATE events (TASK_LOST) at once, none needing an acknowledgement. This is pure
  decode and apply. Measured from sending RECONCILE to the last event applied (the kernel
  stamps every logged event with its arrival time, `$events[].received`), and as the steady
  rate over the last 1,000 events.
- launch: a framework launches M simulated Docker tasks in one ACCEPT; the agent reports
  TASK_STARTING and TASK_RUNNING for each, every update waits for its acknowledgement before
  the task's next one is sent. Measured from ACCEPT to all M tasks TASK_RUNNING (2M events
  and 2M acknowledgements).

The cluster's work directory (its sandboxes) is on tmpfs (`/dev/shm`) where there is one:
each launched task gets a sandbox directory with its stdout and stderr, and on this kind of
machine ext4's inode allocation in a /tmp that earlier runs filled and emptied took the
cluster ~3 ms of CPU per task, which bounded both sides' launch rates (`--work-dir` to
choose; `--work-dir ''` for the cluster's default under $TMPDIR).

Before each measured flood the cluster is left to become idle (`settle`), so that neither
side is measured while the cluster still tears down the other's 2,000 tasks.

The kernel's RSS is sampled every 20 ms: before the first flood, its peak during the floods,
and after each round (flat means the rounds do not accumulate). The kernel's CPU time per
event (user + system, from /proc) is reported beside the rates: on a loaded machine it moves
far less than wall time, so it compares two builds where the rates cannot.
Usage: python bench/event_flood.py [--events 20000] [--tasks 2000] [--rounds 3]
       [--first-cell '%http on'] [--work-dir DIR]
"""

import argparse
import collections
import datetime
import json
import os
import shutil
import statistics
import tempfile
import threading
import time

import requests
from jupyter_client.manager import KernelManager

from benchlib import cpu_seconds, rss_mib, start_cluster

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class RssSampler:
    """The peak RSS of a process, sampled on a thread while `active`."""

    def __init__(self, pid):
        self.pid, self.peak, self.active = pid, 0.0, True
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while self.active:
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)


def execute(kc, code, timeout=300):
    """Runs a cell; its text/plain result (or None) and the wall time to idle."""
    msg_id = kc.execute(code)
    t = time.perf_counter()
    result = None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            result = msg["content"]["data"].get("text/plain")
        if msg["msg_type"] == "error":
            raise RuntimeError(f"{code}: {msg['content']['evalue']}")
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    elapsed = time.perf_counter() - t
    reply = kc.get_shell_msg(timeout=timeout)
    assert reply["content"]["status"] == "ok", reply["content"]
    return result, elapsed


def received(text):
    """The kernel's arrival stamp (RFC 3339, UTC, milliseconds) as epoch seconds."""
    stamp = json.loads(text)
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def settle(pid, deadline=15.0):
    """Waits until the cluster is idle (under 5 % of a core over 200 ms): a flood's
    TEARDOWN leaves it killing 2,000 tasks, and the measurement after it, ours or the
    peer's, would otherwise share the machine with that."""
    end = time.time() + deadline
    while time.time() < end:
        before = cpu_seconds(pid)
        time.sleep(0.2)
        if cpu_seconds(pid) - before < 0.01:
            return


# --- mesos-kernel -------------------------------------------------------------------------

def ours_reconcile(kc, pid, n, tag):
    t0 = time.time()
    cpu0 = cpu_seconds(pid)
    execute(kc, f'{{"type": "RECONCILE", "reconcile": {{"tasks": '
                f'[range({n}) | {{"task_id": {{"value": "{tag}-\\(.)"}}}}]}}}}\n'
                f'WAIT any($events[]; .update.status.task_id.value == "{tag}-{n - 1}") timeout=300s')
    cpu = cpu_seconds(pid) - cpu0
    last, _ = execute(kc, f'$events[] | select(.update.status.task_id.value == "{tag}-{n - 1}") | .received')
    first, _ = execute(kc, "$events | first | .received")
    count, _ = execute(kc, "$events | length")
    burst = received(last) - t0
    steady = (int(count) - 1) / max(received(last) - received(first), 1e-3)
    return n / burst, steady, cpu / n


def ours_launch(kc, pid, m, tag):
    execute(kc, f"SUBSCRIBE name={tag} user=bench\nOFFERS wait=30s")
    task = ('{"name": "\\($i)", "task_id": {"value": "' + tag + '-\\($i)"}, '
            '"agent_id": $offers[0].agent_id, '
            '"container": {"type": "DOCKER", "docker": {"image": "flood:1", "network": "HOST"}}, '
            '"command": {"shell": false}, '
            '"resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.01}}, '
            '{"name": "mem", "type": "SCALAR", "scalar": {"value": 1}}]}')
    t0 = time.perf_counter()
    cpu0 = cpu_seconds(pid)
    execute(kc, '{"type": "ACCEPT", "accept": {"offer_ids": [$offers[0].id], "operations": '
                f'[{{"type": "LAUNCH", "launch": {{"task_infos": [range({m}) as $i | {task}]}}}}]}}}}\n'
                f'WAIT ([$tasks[] | select(.state == "TASK_RUNNING")] | length) == {m} timeout=300s')
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    execute(kc, "TEARDOWN")
    return 2 * m / elapsed, cpu / (2 * m)


# --- the Python peer ----------------------------------------------------------------------

class PeerFramework:
    """A framework in Python with requests: the stream on a thread, the same bookkeeping."""

    def __init__(self, master, name):
        self.master = master
        self.http = requests.Session()
        body = {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "bench", "name": name}}}
        self.resp = requests.post(f"{master}/api/v1/scheduler", json=body, headers=HEADERS, stream=True)
        self.headers = dict(HEADERS, **{"Mesos-Stream-Id": self.resp.headers["Mesos-Stream-Id"]})
        self.fid = None
        self.offers, self.tasks = [], {}
        self.events = collections.deque(maxlen=1000)
        self.running = 0
        self.last_task = None
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()
        with self.cond:
            self.cond.wait_for(lambda: self.fid is not None, timeout=30)

    def read(self):
        try:
            self.read_records()
        except (requests.RequestException, AttributeError, ValueError):
            pass  # the stream was closed under us by close()

    def read_records(self):
        buf = b""
        for chunk in self.resp.iter_content(chunk_size=None):
            buf += chunk
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                size = int(buf[:nl])
                if len(buf) < nl + 1 + size:
                    break
                event = json.loads(buf[nl + 1:nl + 1 + size])
                buf = buf[nl + 1 + size:]
                self.apply(event)

    def apply(self, event):
        event["received"] = time.time()
        self.events.append(event)
        kind = event["type"]
        ack = None
        with self.cond:
            if kind == "SUBSCRIBED":
                self.fid = event["subscribed"]["framework_id"]
            elif kind == "OFFERS":
                self.offers.extend(event["offers"]["offers"])
            elif kind == "UPDATE":
                status = event["update"]["status"]
                task_id = status["task_id"]["value"]
                if status["state"] == "TASK_RUNNING" and self.tasks.get(task_id, {}).get("state") != "TASK_RUNNING":
                    self.running += 1
                self.tasks[task_id] = status
                self.last_task = task_id
                if "uuid" in status:
                    ack = status
            self.cond.notify_all()
        if ack is not None:
            call = {"type": "ACKNOWLEDGE", "framework_id": self.fid,
                    "acknowledge": {"agent_id": ack["agent_id"], "task_id": ack["task_id"], "uuid": ack["uuid"]}}
            self.http.post(f"{self.master}/api/v1/scheduler", json=call, headers=self.headers)

    def call(self, body):
        body["framework_id"] = self.fid
        r = self.http.post(f"{self.master}/api/v1/scheduler", json=body, headers=self.headers)
        assert r.status_code == 202, r.text

    def close(self):
        self.call({"type": "TEARDOWN"})
        self.resp.close()


def peer_reconcile(fw, n, tag):
    t0 = time.time()
    fw.call({"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": f"{tag}-{i}"}} for i in range(n)]}})
    with fw.cond:
        fw.cond.wait_for(lambda: fw.last_task == f"{tag}-{n - 1}", timeout=300)
    last, first = fw.events[-1]["received"], fw.events[0]["received"]
    return n / (last - t0), (len(fw.events) - 1) / max(last - first, 1e-3)


def peer_launch(master, m, tag):
    fw = PeerFramework(master, tag)
    with fw.cond:
        fw.cond.wait_for(lambda: fw.offers, timeout=30)
        offer = fw.offers[0]
    infos = [{"name": str(i), "task_id": {"value": f"{tag}-{i}"}, "agent_id": offer["agent_id"],
              "container": {"type": "DOCKER", "docker": {"image": "flood:1", "network": "HOST"}},
              "command": {"shell": False},
              "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.01}},
                            {"name": "mem", "type": "SCALAR", "scalar": {"value": 1}}]} for i in range(m)]
    t0 = time.perf_counter()
    fw.call({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
             "operations": [{"type": "LAUNCH", "launch": {"task_infos": infos}}]}})
    with fw.cond:
        fw.cond.wait_for(lambda: fw.running >= m, timeout=300)
    elapsed = time.perf_counter() - t0
    fw.close()
    return 2 * m / elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000, help="UPDATE events per reconcile flood")
    ap.add_argument("--tasks", type=int, default=2000, help="tasks per launch flood (2 updates each)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--first-cell", default=None,
                    help="a cell the kernel runs before the floods, e.g. '%%http on' or "
                         "'%%record /tmp/flood.jsonl' to measure what the wire costs when on")
    ap.add_argument("--work-dir", default=None,
                    help="the cluster's work directory (default: a new one under /dev/shm when "
                         "it exists; '' for the cluster's own default)")
    args = ap.parse_args()
    work_dir, made = args.work_dir, None
    if work_dir is None and os.path.isdir("/dev/shm"):
        work_dir = made = tempfile.mkdtemp(prefix="event-flood-", dir="/dev/shm")
    flags = ["--work-dir", work_dir] if work_dir else []
    print(f"cluster work directory: {work_dir or 'its default'}", flush=True)
    # One big agent: every launch flood fits in a single offer.
    cluster, master = start_cluster("--agents", "1", "--cpus", "10000", "--mem", "10000000",
                                    "--seed", "1", *flags)
    ours_rec, ours_steady, peer_rec, peer_steady, ours_up, peer_up = [], [], [], [], [], []
    cpu_rec, cpu_up = [], []
    rss_after = []
    try:
        km = KernelManager(kernel_name="mesos")
        km.start_kernel(env=dict(os.environ, MESOS_MASTER=master))
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        pid = km.provisioner.process.pid
        execute(kc, "GET_HEALTH")
        if args.first_cell:
            execute(kc, args.first_cell)
        rss_before = rss_mib(pid)
        sampler = RssSampler(pid)
        for r in range(args.rounds):
            # reconcile: a framework each side, subscribed for the round.
            execute(kc, f"SUBSCRIBE name=reconcile{r} user=bench")
            settle(cluster.pid)
            burst, steady, cpu = ours_reconcile(kc, pid, args.events, f"r{r}")
            ours_rec.append(burst)
            ours_steady.append(steady)
            cpu_rec.append(cpu)
            execute(kc, "TEARDOWN")
            fw = PeerFramework(master, f"peer-reconcile{r}")
            settle(cluster.pid)
            burst, steady = peer_reconcile(fw, args.events, f"r{r}")
            peer_rec.append(burst)
            peer_steady.append(steady)
            fw.close()
            # launch
            settle(cluster.pid)
            rate, cpu = ours_launch(kc, pid, args.tasks, f"l{r}")
            ours_up.append(rate)
            cpu_up.append(cpu)
            settle(cluster.pid)
            peer_up.append(peer_launch(master, args.tasks, f"pl{r}"))
            rss_after.append(rss_mib(pid))
            print(f"round {r + 1}: reconcile {ours_rec[-1]:.0f} / {peer_rec[-1]:.0f} events/s, "
                  f"launch {ours_up[-1]:.0f} / {peer_up[-1]:.0f} events/s, kernel RSS {rss_after[-1]:.1f} MiB, "
                  f"kernel CPU per event {cpu_rec[-1]:.1f} / {cpu_up[-1]:.1f} µs (reconcile / launch)",
                  flush=True)
        sampler.active = False
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    finally:
        cluster.terminate()
        cluster.wait(timeout=30)
        if made:
            shutil.rmtree(made, ignore_errors=True)

    med = statistics.median
    print(f"reconcile flood: {args.events} UPDATE events, no acknowledgements; "
          f"launch flood: {args.tasks} tasks, {2 * args.tasks} UPDATE events, each acknowledged; "
          f"{args.rounds} rounds, medians")
    print(f"{'measure':<52}{'mesos-kernel':>14}{'Python peer':>14}{'ratio':>8}")
    for label, o, p in (
        ("reconcile: RECONCILE sent to last applied", ours_rec, peer_rec),
        ("reconcile: steady rate over the last 1,000", ours_steady, peer_steady),
        ("launch: ACCEPT to all running (updates+acks)", ours_up, peer_up),
    ):
        print(f"{label:<52}{med(o):>9.0f} ev/s{med(p):>9.0f} ev/s{med(o) / med(p):>8.2f}")
    print(f"{'kernel CPU per event: reconcile / launch':<52}"
          f"{med(cpu_rec) * 1e6:.1f} / {med(cpu_up) * 1e6:.1f} µs")
    print(f"{'kernel RSS before / peak during / after each round':<52}"
          f"{rss_before:.1f} / {sampler.peak:.1f} / {' '.join(f'{x:.1f}' for x in rss_after)} MiB")


if __name__ == "__main__":
    main()
