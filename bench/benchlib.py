"""What the benchmarks share: the kernel binary, a process's RSS, and an embedded cluster
started on a free loopback port."""

import os
import socket
import subprocess
import time
import urllib.request

BIN = os.environ.get("MESOS_KERNEL_BIN", "target/release/mesos-kernel")


def rss_kib(pid):
    """VmRSS of `pid` in KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mib(pid):
    return rss_kib(pid) / 1024


def cpu_seconds(pid):
    """User + system CPU time `pid` has used, in seconds (its own, not its children's); 0
    once it is gone. Unlike wall time, barely moved by other load on the machine."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The fields after the command (which may hold spaces) start after its ')'.
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_cluster(*flags):
    """`mesos-kernel cluster --port P FLAGS...` once its master answers /health:
    (process, master URL)."""
    port = free_port()
    cluster = subprocess.Popen([BIN, "cluster", "--port", str(port), *flags],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    master = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{master}/health", timeout=1) as r:
                if r.status == 200:
                    return cluster, master
        except OSError:
            pass
        if time.time() > deadline or cluster.poll() is not None:
            cluster.terminate()
            raise RuntimeError("the cluster did not start")
        time.sleep(0.1)
