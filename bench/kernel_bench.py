"""Kernel benchmarks side by side with ipykernel, interleaved (A B A B) in one run.

Measures, for each kernel: start to first kernel_info_reply, the round trip of a trivial
execute (until its idle), and RSS after start. Prints medians and ratios (ours / ipykernel).
Usage: python bench/kernel_bench.py [--rounds N] [--executes N]
"""

import argparse
import statistics
import time

from jupyter_client.manager import KernelManager

from benchlib import rss_kib

KERNELS = [("mesos", "1 + 2"), ("python3", "1")]


def until_idle(kc, msg_id):
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
                and msg["parent_header"].get("msg_id") == msg_id):
            return


def one_round(name, code, executes):
    km = KernelManager(kernel_name=name)
    started = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    # Retry kernel_info until the kernel answers: the first may go out before it binds.
    # A reply to an earlier try is skipped without sending again: on a loaded machine,
    # sending on each one chased the replies forever, one behind.
    msg_id = kc.kernel_info()
    while True:
        try:
            reply = kc.get_shell_msg(timeout=0.5)
        except Exception:
            msg_id = kc.kernel_info()
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    startup = time.perf_counter() - started
    rss = rss_kib(km.provisioner.process.pid)
    # Make sure iopub is subscribed (wait_for_ready checks it), then time executes.
    kc.wait_for_ready(timeout=30)
    msg_id = kc.execute(code)
    kc.get_shell_msg(timeout=30)
    until_idle(kc, msg_id)
    times = []
    for _ in range(executes):
        t = time.perf_counter()
        msg_id = kc.execute(code)
        kc.get_shell_msg(timeout=30)
        until_idle(kc, msg_id)
        times.append(time.perf_counter() - t)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return startup, statistics.median(times), rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--executes", type=int, default=200)
    args = parser.parse_args()
    results = {name: {"start": [], "rtt": [], "rss": []} for name, _ in KERNELS}
    for _ in range(args.rounds):
        for name, code in KERNELS:
            s, r, m = one_round(name, code, args.executes)
            results[name]["start"].append(s)
            results[name]["rtt"].append(r)
            results[name]["rss"].append(m)
    med = {n: {k: statistics.median(v) for k, v in d.items()} for n, d in results.items()}
    ours, theirs = med["mesos"], med["python3"]
    print(f"rounds={args.rounds} executes/round={args.executes} (interleaved mesos, ipykernel)")
    print(f"{'measure':<34}{'mesos-kernel':>14}{'ipykernel':>14}{'ratio':>10}")
    rows = [
        ("start to first kernel_info_reply", ours["start"] * 1e3, theirs["start"] * 1e3, "ms"),
        ("execute round trip (1+2 vs 1)", ours["rtt"] * 1e3, theirs["rtt"] * 1e3, "ms"),
        ("RSS after start", ours["rss"] / 1024, theirs["rss"] / 1024, "MiB"),
    ]
    for label, a, b, unit in rows:
        print(f"{label:<34}{a:>11.2f} {unit:<3}{b:>10.2f} {unit:<3}{a / b:>9.3f}")


if __name__ == "__main__":
    main()
