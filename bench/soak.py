"""Soak: 10,000 executes, then a subscribed framework under a 10 ms heartbeat, measuring the
kernel's RSS (it must not grow by more than 10 % after warm-up) and the events it applies.
Usage: python bench/soak.py [--executes 10000] [--stream-seconds 120]
"""

import argparse
import os
import time

from jupyter_client.manager import KernelManager

from benchlib import rss_kib, start_cluster

CELLS = [
    "1 + 2",
    "x = [range(100)] | map({id: ., name: \"t\\(.)\"})\n$x | length",
    "PRINT \"soak\"",
    "ASSERT ($x | length) == 100",
    "[1}",  # a parse error
    "$x | map(.id) | add",
    "%vars",
    "GET_VERSON",  # an unknown call
]


def run(kc, code):
    msg_id = kc.execute(code, stop_on_error=False)
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            break
    return kc.get_shell_msg(timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--executes", type=int, default=10000)
    ap.add_argument("--stream-seconds", type=int, default=120)
    args = ap.parse_args()
    cluster, master = start_cluster("--agents", "2", "--heartbeat-interval", "10ms",
                                    "--seed", "3")
    km = KernelManager(kernel_name="mesos")
    km.start_kernel(env=dict(os.environ, MESOS_MASTER=master))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    pid = km.provisioner.process.pid
    try:
        for i in range(200):  # warm-up
            run(kc, CELLS[i % len(CELLS)])
        start = rss_kib(pid)
        t = time.perf_counter()
        for i in range(args.executes):
            run(kc, CELLS[i % len(CELLS)])
        took = time.perf_counter() - t
        after_exec = rss_kib(pid)
        print(f"{args.executes} executes in {took:.1f} s ({args.executes / took:.0f}/s); "
              f"RSS {start / 1024:.1f} -> {after_exec / 1024:.1f} MiB "
              f"({(after_exec - start) / start * 100:+.1f} %)", flush=True)

        run(kc, "SUBSCRIBE name=soak user=root\nOFFERS wait=20s")
        run(kc, "WAIT ($events | length) >= 1000 timeout=60s")  # the bounded log is full
        base = rss_kib(pid)
        t0 = time.perf_counter()
        samples = []
        while time.perf_counter() - t0 < args.stream_seconds:
            reply = run(kc, "1")
            assert reply["content"]["status"] == "ok"
            samples.append(rss_kib(pid))
            time.sleep(1)
        heartbeats = args.stream_seconds / 0.010
        end = rss_kib(pid)
        print(f"{args.stream_seconds} s of a 10 ms heartbeat (~{heartbeats:.0f} events, "
              f"{heartbeats / 240:.0f} hours of 15 s heartbeats): RSS {base / 1024:.1f} -> "
              f"{end / 1024:.1f} MiB ({(end - base) / base * 100:+.1f} %), max {max(samples) / 1024:.1f} MiB",
              flush=True)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        cluster.terminate()
        cluster.wait(timeout=30)


if __name__ == "__main__":
    main()
