"""Every broken cell of tests/bad_input/cells (and a few big ones made here) through one real
kernel: each ends in exactly one `error` output with reply status `error` and a one-line
evalue, and the kernel still answers `1 + 2` afterwards. None of them needs a cluster."""

import pathlib

import pytest

from kernel_harness import Kernel

CELLS = pathlib.Path(__file__).parent / "cells"
DEPTH = 10_000
TEN_MB = 10 * 1024 * 1024


def big_cells():
    """Cells too big to commit: made at test time."""
    return {
        "nested_arrays": "[" * DEPTH + "1" + "]" * DEPTH,
        "nested_arrays_unclosed": "[" * DEPTH,
        "nested_parens": "(" * DEPTH + "1" + ")" * DEPTH,
        "nested_objects": "{a: " * DEPTH + "1" + "}" * DEPTH,
        "nested_interpolation": '"\\(' * DEPTH + "1" + ')"' * DEPTH,
        "nested_json_call": '{"type": ' * DEPTH + '"X"' + "}" * DEPTH,
        "nested_call_argument": "GET_STATE x=" + "[" * DEPTH + "]" * DEPTH,
        "nested_print": "PRINT " + "[" * DEPTH + "1" + "]" * DEPTH,
        "long_pipe": " | ".join(["1"] * DEPTH) + " | error",
        "long_sum": " + ".join(["1"] * DEPTH) + " | error",
        "many_negations": "-" * DEPTH + "1 | error",
        "ten_mb_string_unterminated": '"' + "a" * TEN_MB,
        "ten_mb_expression": "1 + " * (TEN_MB // 4),
        "ten_mb_of_lines": "ASSERT false\n" + "# filler\n" * (TEN_MB // 9),
        "ten_mb_unknown_call": "NO_SUCH_CALL x=" + "a" * TEN_MB,
        "ten_mb_array_literal": "[" + "1," * (TEN_MB // 2) + "] | error",
    }


def corpus():
    cells = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(CELLS.glob("*.cell"))]
    return cells + sorted(big_cells().items())


def test_the_corpus_is_big_enough():
    assert len(list(CELLS.glob("*.cell"))) >= 200


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    # The runaway_memory cells fill the jq worker's limit: keep it small here.
    k = Kernel(tmp_path_factory.mktemp("bad_cells") / "kernel.log",
               env={"MESOS_KERNEL_JQ_MEMORY_MB": "512"})
    yield k
    k.close()


def test_every_bad_cell_is_one_error(kernel):
    problems = []
    for i, (name, code) in enumerate(corpus(), start=1):
        try:
            reply, outputs = kernel.run(code, timeout=30)
        except Exception as e:
            raise AssertionError(f"{name}: no answer ({e!r}); kernel alive: {kernel.km.is_alive()}")
        errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
        content = reply["content"]
        if content["status"] != "error":
            problems.append(f"{name}: status {content['status']}")
        elif len(errors) != 1:
            problems.append(f"{name}: {len(errors)} error outputs")
        else:
            evalue = errors[0]["evalue"]
            if not evalue.strip() or "\n" in evalue:
                problems.append(f"{name}: evalue {evalue[:200]!r}")
            if not errors[0]["ename"]:
                problems.append(f"{name}: no ename")
        if i % 20 == 0:
            kernel.assert_answers(f"after {name}")
    kernel.assert_answers("at the end")
    assert not problems, "\n".join(problems)
    # No cell reached a master, so none started the embedded cluster.
    _, outputs = kernel.run("%master")
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert "not connected yet" in text, text
