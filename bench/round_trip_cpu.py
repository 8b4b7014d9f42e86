"""Where an execute round trip's time goes: wall time per `1 + 2` against the CPU time the
kernel, its jq worker and the measuring client (jupyter_client, in this process) each spend
per execute. Tells how close the round trip is to the client's own floor.

Usage: python bench/round_trip_cpu.py [--executes 3000] [--kernel mesos]
"""

import argparse
import os
import subprocess
import time

from jupyter_client.manager import KernelManager


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--executes", type=int, default=3000)
    parser.add_argument("--kernel", default="mesos")
    parser.add_argument("--code", default=None)
    args = parser.parse_args()
    code = args.code or ("1 + 2" if args.kernel == "mesos" else "1")

    km = KernelManager(kernel_name=args.kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=30)
    pid = km.provisioner.process.pid

    def one():
        msg_id = kc.execute(code)
        kc.get_shell_msg(timeout=30)
        while True:
            msg = kc.get_iopub_msg(timeout=30)
            if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
                    and msg["parent_header"].get("msg_id") == msg_id):
                return

    for _ in range(100):
        one()
    kids = children(pid)
    kernel0 = cpu_seconds(pid)
    kids0 = sum(cpu_seconds(k) for k in kids)
    client0 = time.process_time()
    started = time.perf_counter()
    for _ in range(args.executes):
        one()
    wall = time.perf_counter() - started
    n = args.executes
    print(f"kernel {args.kernel}, {n} executes of {code!r}")
    print(f"{'wall time per execute':<36}{wall / n * 1e3:>8.3f} ms")
    print(f"{'kernel CPU per execute':<36}{(cpu_seconds(pid) - kernel0) / n * 1e3:>8.3f} ms")
    print(f"{'child processes CPU per execute':<36}"
          f"{(sum(cpu_seconds(k) for k in kids) - kids0) / n * 1e3:>8.3f} ms")
    print(f"{'client CPU per execute':<36}{(time.process_time() - client0) / n * 1e3:>8.3f} ms")
    kc.stop_channels()
    km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
