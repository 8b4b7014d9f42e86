"""Two kernels, one framework, as two notebooks: the second takes over the framework the
first started, sees its task in TASKS and kills it; the first says it was taken over."""

from conftest import run

TAKEN = "was taken over by another client (Mesos: Framework failed over)"


def ok(kc, code, timeout=60):
    reply, outputs = run(kc, code, timeout=timeout)
    content = reply["content"]
    assert content["status"] == "ok", f"{code}: {content.get('ename')}: {content.get('evalue')}"
    return outputs


def text_of(outputs, name):
    return "".join(o["content"]["text"] for o in outputs
                   if o["msg_type"] == "stream" and o["content"]["name"] == name)


def test_a_second_kernel_takes_over_the_framework_of_the_first(kernel, second_kernel):
    _, first = kernel
    _, second = second_kernel
    ok(first, "SUBSCRIBE name=notebook-one user=root failover_timeout=1h\nOFFERS wait=30s")
    ok(first, 'LAUNCH name=sleeper cmd="sleep 120" wait=RUNNING')
    outputs = ok(first, 'PRINT $master\nPRINT $framework_id.value')
    master, framework = text_of(outputs, "stdout").split()

    ok(second, f"%master {master}")
    outputs = ok(second, f"SUBSCRIBE name=notebook-two user=root id={framework}\nTASKS")
    table = outputs[-1]["content"]["data"]["text/html"]
    assert "sleeper" in table and "TASK_RUNNING" in table, table
    ok(second, 'KILL task_id=sleeper\n'
               'WAIT ($tasks | map(select(.task_id.value == "sleeper" and .state == "TASK_KILLED"))'
               ' | length) == 1 timeout=30s')

    outputs = ok(first, "PRINT 1")
    assert f"the framework {framework} {TAKEN}" in text_of(outputs, "stderr"), outputs
    reply, _ = run(first, "TASKS")
    assert reply["content"]["status"] == "error"
    assert TAKEN in reply["content"]["evalue"]
    ok(second, "TEARDOWN")
