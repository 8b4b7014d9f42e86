"""One real mesos kernel through jupyter_client, with its stderr log captured to a file."""

import os
import time

from jupyter_client.manager import KernelManager


class Kernel:
    def __init__(self, log_path, key=None, log_level=None, env=None):
        self.log_path = log_path
        self.km = KernelManager(kernel_name="mesos")
        if key is not None:
            self.km.session.key = key
        extra_env = env
        env = dict(os.environ)
        if log_level:
            env["MESOS_KERNEL_LOG"] = log_level
        env.update(extra_env or {})
        self._log = open(log_path, "wb")
        self.km.start_kernel(stderr=self._log, env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=30)

    def close(self):
        self.kc.stop_channels()
        if self.km.is_alive():
            self.km.shutdown_kernel(now=True)
        self._log.close()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for_log(self, needle, start=0, timeout=5):
        """The log from `start` once it contains `needle` (the kernel logs asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()[start:]
            if needle in text or time.monotonic() > deadline:
                return text
            time.sleep(0.02)

    def run(self, code, timeout=30):
        """Executes `code`; returns (reply, outputs): the iopub messages of it, less status
        and execute_input."""
        outputs = []
        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
        return reply, [m for m in outputs if m["msg_type"] not in ("status", "execute_input")]

    def assert_answers(self, what=""):
        reply, outputs = self.run("1 + 2", timeout=30)
        assert reply["content"]["status"] == "ok", (what, reply["content"])
        results = [m for m in outputs if m["msg_type"] == "execute_result"]
        assert results and results[-1]["content"]["data"]["text/plain"] == "3", (what, outputs)
