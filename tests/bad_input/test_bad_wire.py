"""Broken wire messages on the shell and control channels: each is dropped with a log line
on the kernel's stderr, and the kernel answers the next correct request. Also: the
connection file's key never appears in the log or in any message."""

import hashlib
import hmac
import json
import uuid

import pytest

from kernel_harness import Kernel

KEY = b"9f2c1e5a-known-test-key-7d41b0c3"
DELIM = b"<IDS|MSG>"


def header(msg_type="execute_request", **extra):
    h = {"msg_id": uuid.uuid4().hex, "session": "bad-wire", "username": "test", "date": "",
         "msg_type": msg_type, "version": "5.4"}
    h.update(extra)
    return json.dumps(h).encode()


def sign(*parts, key=KEY):
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        mac.update(p)
    return mac.hexdigest().encode()


def execute_parts(code="PRINT \"should not run\""):
    content = json.dumps({"code": code, "silent": False, "store_history": True,
                          "user_expressions": {}, "allow_stdin": False,
                          "stop_on_error": True}).encode()
    return [header(), b"{}", b"{}", content]


def signed(parts):
    return [DELIM, sign(*parts[:4])] + parts


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    k = Kernel(tmp_path_factory.mktemp("bad_wire") / "kernel.log", key=KEY, log_level="debug")
    yield k
    k.close()


def bad_messages():
    good = execute_parts()
    yield "no frames after the delimiter", [DELIM], "dropped a message"
    for n in range(4):
        parts = good[:n]
        yield f"{n + 1} of 5 frames", [DELIM, sign(*parts)] + parts, "at least 5 are needed"
    yield "no delimiter", [b"garbage"] + good, "no <IDS|MSG> delimiter"
    yield "no delimiter, one frame", [b"garbage"], "no <IDS|MSG> delimiter"
    for i, frame in enumerate(["header", "parent_header", "metadata", "content"]):
        parts = list(good)
        parts[i] = b"{not json"
        yield f"bad JSON in {frame}", signed(parts), f"{frame} frame is not valid JSON"
    parts = list(good)
    parts[0] = b'{"msg_type": "execute_request"}'
    yield "header without msg_id", signed(parts), "header frame is not valid JSON"
    parts = list(good)
    parts[3] = b'"\\ud800"'
    yield "lone surrogate in content", signed(parts), "content frame is not valid JSON"
    yield "wrong signature", [DELIM, sign(*good, key=b"other key")] + good, "signature does not match"
    yield "no signature", [DELIM, b""] + good, "signature does not match"
    yield "signature not hex", [DELIM, b"zz" * 32] + good, "signature does not match"
    replayed = execute_parts("PRINT \"replayed\"")
    yield ("replayed signature with other content", [DELIM, sign(*good)] + replayed,
           "signature does not match")
    forged = list(good)
    forged[3] = json.dumps({"code": "PRINT \"forged\""}).encode()
    yield "signature of a different content", [DELIM, sign(*good)] + forged, "signature does not match"
    unknown = [header("foo_request"), b"{}", b"{}", b"{}"]
    yield "unknown message type", signed(unknown), "unsupported shell request foo_request"
    big = [header(), b"{}", b"{}",
           json.dumps({"code": "PRINT \"huge\"", "pad": "x" * (65 * 1024 * 1024)}).encode()]
    yield "huge content", signed(big), "larger than"


@pytest.mark.parametrize("channel", ["shell", "control"])
def test_bad_messages_are_dropped_and_logged(kernel, channel):
    socket = getattr(kernel.kc, f"{channel}_channel").socket
    for name, frames, logged in bad_messages():
        if channel == "control" and logged.startswith("unsupported shell"):
            logged = "unsupported control request foo_request"
        start = len(kernel.log())
        socket.send_multipart(frames)
        text = kernel.wait_for_log(logged, start)
        assert logged in text, f"{channel}, {name}: no '{logged}' in the log:\n{text}"
        assert kernel.km.is_alive(), f"{channel}, {name}: the kernel died"
        reply, outputs = kernel.run("1 + 2", timeout=30)
        assert reply["content"]["status"] == "ok", (name, reply["content"])
        printed = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        assert not printed, f"{channel}, {name}: a dropped message ran: {printed!r}"


def test_a_dropped_message_is_not_counted(kernel):
    count = kernel.run("1")[0]["content"]["execution_count"]
    kernel.kc.shell_channel.socket.send_multipart([DELIM, b"bad"] + execute_parts())
    assert kernel.run("1")[0]["content"]["execution_count"] == count + 1


def test_the_key_never_shows(tmp_path):
    """A kernel with a known key, logging at debug, gets good and bad messages; the key is
    in none of its log lines and none of the messages it sends."""
    k = Kernel(tmp_path / "kernel.log", key=KEY, log_level="debug")
    seen = []
    try:
        socket = k.kc.shell_channel.socket
        socket.send_multipart([DELIM, sign(*execute_parts(), key=b"other")] + execute_parts())
        socket.send_multipart(signed([header(), b"{}", b"{}", b"{bad"]))
        socket.send_multipart([DELIM, KEY] + execute_parts())
        k.kc.control_channel.socket.send_multipart([DELIM, b"00" * 32] + execute_parts())
        for code in ["1 + 2", "%vars", "$nope", "[1}", "PRINT \"hello\"", "ASSERT false",
                     "%help", "error(\"x\")", "%timeout banana"]:
            reply, outputs = k.run(code)
            seen.append(reply)
            seen.extend(outputs)
        seen.append(k.kc.kernel_info(reply=True, timeout=10))
        k.kc.complete("GET_", 4)
        seen.append(k.kc.get_shell_msg(timeout=10))
        k.kc.inspect("GET_STATE", 3)
        seen.append(k.kc.get_shell_msg(timeout=10))
        k.kc.history()
        seen.append(k.kc.get_shell_msg(timeout=10))
        while True:
            try:
                seen.append(k.kc.get_iopub_msg(timeout=0.5))
            except Exception:
                break
    finally:
        k.close()
    log = k.log()
    assert "dropped a message" in log
    key = KEY.decode()
    assert key not in log
    assert KEY.hex() not in log
    for msg in seen:
        text = json.dumps(msg, default=str)
        assert key not in text, msg["msg_type"]
