"""jupyter_kernel_test's protocol conformance suite against the installed `mesos` kernel."""

import unittest

import jupyter_kernel_test as jkt


class MesosKernelTests(jkt.KernelTests):
    kernel_name = "mesos"
    language_name = "mesos"
    file_extension = ".mesos"

    code_hello_world = 'PRINT "hello, world"'
    code_stderr = 'EPRINT "oops"'

    completion_samples = [
        {"text": "GET_VER", "matches": {"GET_VERSION"}},
        {"text": "%ti", "matches": {"%timeout"}},
        {"text": "ASSE", "matches": {"ASSERT"}},
        {"text": "READ_FILE pa", "matches": {"path="}},
    ]

    complete_code_samples = ["1 + 2", 'PRINT "hi"', "[1,\n 2]", "x = {\"a\": 1}"]
    incomplete_code_samples = ["[1,", '{"type": "GET_STATE",', 'PRINT "abc']
    invalid_code_samples = ["[1}", "1 +", "READ_FILE path="]

    code_generate_error = "ASSERT false"

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": "[1, 2, 3] | length", "result": "3"},
        {"code": '"mesos" | ascii_upcase', "result": '"MESOS"'},
    ]

    code_display_data = [
        {"code": "%vars", "mime": "text/html"},
        {"code": "%help GET_STATE", "mime": "text/plain"},
    ]

    code_history_pattern = "*length*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "GET_STATE"


class MesosIopubWelcomeTests(jkt.IopubWelcomeTests):
    kernel_name = "mesos"
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
