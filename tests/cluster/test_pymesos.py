"""A Mesos client we did not write (pymesos) against the standalone cluster: it subscribes,
launches a command task from an offer, and sees it finish. Skipped when pymesos is absent
(its http-parser dependency does not build on every Python)."""

import threading

import pytest

from test_demo_tour import DEADLINE, cluster  # noqa: F401  (the fixture)

pymesos = pytest.importorskip("pymesos")


class OneTask(pymesos.Scheduler):
    def __init__(self):
        self.launched = False
        self.states = []
        self.done = threading.Event()

    def resourceOffers(self, driver, offers):
        for offer in offers:
            if self.launched:
                driver.declineOffer(offer.id, {"refuse_seconds": 60})
                continue
            self.launched = True
            task = {
                "task_id": {"value": "pymesos-1"},
                "agent_id": {"value": offer.agent_id.value},
                "name": "pymesos task",
                "command": {"value": "echo from pymesos"},
                "resources": [
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}},
                ],
            }
            driver.launchTasks(offer.id, [task], {"refuse_seconds": 0})

    def statusUpdate(self, driver, update):
        self.states.append(update.state)
        if update.state in ("TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST"):
            self.done.set()


def test_pymesos_runs_a_task(cluster):  # noqa: F811
    master, _agent = cluster
    scheduler = OneTask()
    framework = {"user": "tester", "name": "pymesos against mesos-kernel", "hostname": "127.0.0.1"}
    driver = pymesos.MesosSchedulerDriver(scheduler, framework, master[len("http://"):], use_addict=True)
    driver.start()
    try:
        assert scheduler.done.wait(DEADLINE), scheduler.states
    finally:
        driver.stop()
        driver.join()
    assert scheduler.states == ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
