"""A running mesos kernel per test, through jupyter_client as front ends use it."""

import pytest
from jupyter_client.manager import start_new_kernel


def _a_kernel():
    km, kc = start_new_kernel(kernel_name="mesos", startup_timeout=30)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)


@pytest.fixture
def kernel():
    yield from _a_kernel()


@pytest.fixture
def second_kernel():
    """Another kernel beside `kernel`, as a second notebook."""
    yield from _a_kernel()


def run(kc, code, timeout=30, **kwargs):
    """Executes `code`; returns (reply, outputs) with outputs the iopub messages of it."""
    outputs = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append, **kwargs)
    return reply, [m for m in outputs if m["msg_type"] not in ("status", "execute_input")]
