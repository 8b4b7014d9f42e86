"""Mesos clients nobody here wrote, unmodified, against the standalone `mesos-kernel cluster`.

Each does what a real user of it does. The scheduler libraries (pymesos, mesoshttp, avmesos)
subscribe, take an offer, launch two command tasks, acknowledge every update as it arrives
(as the libraries do by themselves), kill one task once it runs and see the other finish,
then tear the framework down. The Mesos CLI (avmesos-cli) lists and inspects agents,
frameworks and tasks of a cluster with a framework and tasks, and its output is read.
@dcos/mesos-client is tests/clients/ (test_dcos_mesos_client.py).

The clients come from scripts/install-clients.sh (scripts/test.sh runs it). A missing client
skips its test with a message, unless MESOS_KERNEL_REQUIRE_CLIENTS=1 (.ci/run sets it),
which turns the skip into a failure.
"""

import importlib
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from test_demo_tour import DEADLINE, Subscription, accept, cluster, resources  # noqa: F401

REQUIRED = os.environ.get("MESOS_KERNEL_REQUIRE_CLIENTS") == "1"
TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST",
            "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"}


def client_module(name):
    try:
        return importlib.import_module(name)
    except ImportError as error:
        message = "%s is not installed (scripts/install-clients.sh): %s" % (name, error)
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


def wait_until(predicate, what):
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def master_state(master):
    return requests.get(master + "/master/state", timeout=DEADLINE).json()


def metrics(master):
    return requests.get(master + "/metrics/snapshot", timeout=DEADLINE).json()


def command_task(task_id, agent_id, command):
    return {"name": task_id, "task_id": {"value": task_id}, "agent_id": {"value": agent_id},
            "command": {"value": command}, "resources": resources(0.1, 32)}


class Tasks:
    """Two tasks through a scheduler: `finish` runs to the end, `kill` is killed once it
    runs. Each update's state is recorded as it arrives, per task."""

    def __init__(self, prefix):
        self.finish = prefix + "-finish"
        self.kill = prefix + "-kill"
        self.states = {self.finish: [], self.kill: []}
        self.lock = threading.Lock()
        self.launched = False
        self.kill_sent = False
        self.done = threading.Event()

    def to_launch(self, agent_id):
        """The TaskInfos for the first offer, or None for every later one."""
        with self.lock:
            if self.launched:
                return None
            self.launched = True
        return [command_task(self.finish, agent_id, "echo finished"),
                command_task(self.kill, agent_id, "sleep 600")]

    def update(self, task_id, state):
        """Records an update; True when the kill task should be killed now."""
        with self.lock:
            self.states.setdefault(task_id, []).append(state)
            kill_now = task_id == self.kill and state == "TASK_RUNNING" and not self.kill_sent
            self.kill_sent = self.kill_sent or kill_now
            if all(s and s[-1] in TERMINAL for s in self.states.values()):
                self.done.set()
        return kill_now

    def check(self, master, framework_id):
        """Both tasks ended as they should and every update was acknowledged: the master
        retires a task only when its terminal update is acknowledged."""
        assert self.done.wait(DEADLINE), self.states
        assert self.states == {
            self.finish: ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"],
            self.kill: ["TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"],
        }

        def retired():
            frameworks = master_state(master)["frameworks"]
            ours = [f for f in frameworks if f["id"] == framework_id]
            return ours and {t["id"]: t["state"] for t in ours[0]["completed_tasks"]} == {
                self.finish: "TASK_FINISHED", self.kill: "TASK_KILLED"}

        wait_until(retired, "both tasks retired by their acknowledged terminal updates")
        m = metrics(master)
        assert m["master/valid_status_update_acknowledgements"] == 6
        assert m["master/invalid_status_update_acknowledgements"] == 0


def torn_down(master, framework_id):
    return any(f["id"] == framework_id for f in master_state(master)["completed_frameworks"])


# --- pymesos -------------------------------------------------------------------------------


def test_pymesos_scheduler(cluster):  # noqa: F811
    pymesos = client_module("pymesos")
    # The C parser, rebuilt by scripts/install-clients.sh; not the pure-Python fallback.
    client_module("http_parser.parser")
    master, _agent = cluster
    tasks = Tasks("pymesos")
    registered = {}

    class Scheduler(pymesos.Scheduler):
        def registered(self, driver, framework_id, master_info):
            registered.update(framework_id=framework_id.value, master_info=dict(master_info))

        def resourceOffers(self, driver, offers):
            for offer in offers:
                infos = tasks.to_launch(offer.agent_id.value)
                if infos is None:
                    driver.declineOffer(offer.id, {"refuse_seconds": 60})
                else:
                    driver.launchTasks(offer.id, infos, {"refuse_seconds": 0})

        def statusUpdate(self, driver, update):
            # pymesos acknowledges the update itself when this returns
            # (implicit_acknowledgements, its default).
            if tasks.update(update.task_id.value, update.state):
                driver.killTask(update.task_id)

    framework = {"user": "tester", "name": "pymesos against mesos-kernel",
                 "hostname": "127.0.0.1"}
    driver = pymesos.MesosSchedulerDriver(Scheduler(), framework, master[len("http://"):],
                                          use_addict=True)
    driver.start()
    try:
        wait_until(lambda: registered, "pymesos to register")
        assert registered["master_info"]["version"] == requests.get(
            master + "/version", timeout=DEADLINE).json()["version"]
        tasks.check(master, registered["framework_id"])
    finally:
        driver.stop()  # tears the framework down
        driver.join()
    wait_until(lambda: torn_down(master, registered["framework_id"]), "pymesos's TEARDOWN")


def test_pymesos_operator(cluster):  # noqa: F811
    """pymesos's operator API drivers: calls to the master and an agent, and the master's
    event stream while a framework runs a task. pymesos posts to /api/v1/operator, which
    libprocess serves with its longest registered route, /api/v1 (ProcessBase::consume)."""
    client_module("pymesos")
    from pymesos import interface, operator_v1

    master, agent = cluster
    events = []

    class Operator(interface.OperatorMaster):
        def frameworkAdded(self, framework):
            events.append(("FRAMEWORK_ADDED", framework["framework_info"]["name"]))

        def taskAdded(self, task):
            events.append(("TASK_ADDED", task["task_id"]["value"]))

        def taskUpdated(self, update):
            events.append(("TASK_UPDATED", update["status"]["task_id"]["value"],
                           update["state"]))

        def frameworkRemoved(self, framework_info):
            events.append(("FRAMEWORK_REMOVED", framework_info["name"]))

    driver = operator_v1.MesosOperatorMasterDriver(master[len("http://"):], Operator())
    assert driver.getHealth()["get_health"] == {"healthy": True}
    version = requests.get(master + "/version", timeout=DEADLINE).json()["version"]
    assert driver.getVersion()["get_version"]["version_info"]["version"] == version
    slaves = requests.get(master + "/master/slaves", timeout=DEADLINE).json()["slaves"]
    assert sorted(a["agent_info"]["id"]["value"]
                  for a in driver.getAgents()["get_agents"]["agents"]) == sorted(
                      a["id"] for a in slaves)
    assert driver.getFrameworks()["get_frameworks"] == {}
    agent_driver = operator_v1.MesosOperatorAgentDriver(agent[len("http://"):])
    assert agent_driver.getHealth()["get_health"] == {"healthy": True}
    assert agent_driver.getContainers()["type"] == "GET_CONTAINERS"

    driver.start()
    try:
        wait_until(lambda: driver.connected, "pymesos's operator SUBSCRIBE")
        sub = Subscription(master, {"user": "tester", "name": "watched"})
        offer = sub.offer()
        task = command_task("watched-task", offer["agent_id"]["value"], "echo watched")
        assert sub.call(accept(offer, task)).status_code == 202
        while sub.update("watched-task")["state"] != "TASK_FINISHED":
            pass
        assert sub.call({"type": "TEARDOWN"}).status_code == 202
        wait_until(lambda: events and events[-1][0] == "FRAMEWORK_REMOVED",
                   "FRAMEWORK_REMOVED on the operator stream")
    finally:
        driver.stop()
        driver.join()
    assert events == [
        ("FRAMEWORK_ADDED", "watched"),
        ("TASK_ADDED", "watched-task"),
        ("TASK_UPDATED", "watched-task", "TASK_STARTING"),
        ("TASK_UPDATED", "watched-task", "TASK_RUNNING"),
        ("TASK_UPDATED", "watched-task", "TASK_FINISHED"),
        ("FRAMEWORK_REMOVED", "watched"),
    ]


# --- mesoshttp and avmesos (avmesos is a maintained fork of mesoshttp) ---------------------


@pytest.mark.parametrize("package", ["mesoshttp", "avmesos"])
@pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")
def test_mesoshttp_scheduler(cluster, package):  # noqa: F811
    client = client_module(package + ".client")
    MesosClient = client.MesosClient
    master, _agent = cluster
    tasks = Tasks(package)
    drivers = []

    mesos = MesosClient(mesos_urls=[master], frameworkName=package + " against mesos-kernel",
                        frameworkUser="tester", frameworkHostname="127.0.0.1")

    def on_subscribed(driver):
        drivers.append(driver)

    def on_offers(offers):
        for offer in offers:
            infos = tasks.to_launch(offer.get_offer()["agent_id"]["value"])
            if infos is None:
                offer.decline(options={"filters": {"refuse_seconds": 60}})
            else:
                offer.accept(infos, options={"filters": {"refuse_seconds": 0}})

    def on_update(update):
        # The client has acknowledged the update before calling back.
        status = update["status"]
        if tasks.update(status["task_id"]["value"], status["state"]):
            drivers[0].kill(status["agent_id"]["value"], status["task_id"]["value"])

    mesos.on(MesosClient.SUBSCRIBED, on_subscribed)
    mesos.on(MesosClient.OFFERS, on_offers)
    mesos.on(MesosClient.UPDATE, on_update)
    # The library's callbacks log their own exceptions; show them in a failing test.
    logging.getLogger(package).setLevel(logging.ERROR)
    thread = threading.Thread(target=mesos.register, name=package, daemon=True)
    thread.start()
    try:
        wait_until(lambda: drivers, package + " to subscribe")
        assert mesos.get_master_info()["version"] == requests.get(
            master + "/version", timeout=DEADLINE).json()["version"]
        tasks.check(master, mesos.frameworkId)
    finally:
        # The event loop tears the framework down at its next event (a heartbeat).
        mesos.tearDown()
        thread.join(DEADLINE)
    assert not thread.is_alive(), package + "'s event loop did not stop"
    wait_until(lambda: torn_down(master, mesos.frameworkId), package + "'s TEARDOWN")


# --- avmesos-cli ---------------------------------------------------------------------------


def mesos_cli():
    """The CLI's `mesos-cli` from its own venv (scripts/install-clients.sh); it runs
    `python -m avmesos.cli.mesos-cli`, so that venv's bin goes first on PATH, as when it is
    activated."""
    venv = Path(os.environ.get("VIRTUAL_ENV", sys.prefix), "avmesos-cli")
    if not (venv / "bin" / "mesos-cli").exists():
        message = "avmesos-cli is not installed in %s (scripts/install-clients.sh)" % venv
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return venv / "bin"


@pytest.fixture()
def cli_cluster(cluster, tmp_path):  # noqa: F811
    """A cluster with a framework that has a running and a finished task, and `run(args)`
    running the CLI against it (configured by its documented MESOS_CLI_CONFIG file)."""
    bin_dir = mesos_cli()
    master, _agent = cluster
    config = tmp_path / "config.toml"
    config.write_text('[master]\naddress = "%s"\n' % master[len("http://"):])
    env = dict(os.environ, MESOS_CLI_CONFIG=str(config),
               PATH=str(bin_dir) + os.pathsep + os.environ.get("PATH", ""))

    def run(*args):
        done = subprocess.run(["mesos-cli", *args], env=env, capture_output=True, text=True,
                              timeout=DEADLINE)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    sub = Subscription(master, {"user": "tester", "name": "CLI tour", "hostname": "127.0.0.1"})
    for task_id, command, state in [("cli-done", "echo done", "TASK_FINISHED"),
                                    ("cli-running", "sleep 600", "TASK_RUNNING")]:
        offer = sub.offer()
        task = command_task(task_id, offer["agent_id"]["value"], command)
        assert sub.call(accept(offer, task)).status_code == 202
        while sub.update(task_id)["state"] != state:
            pass
    yield master, sub, run


def table(output):
    """The rows of a table the CLI printed: columns are two or more spaces apart (the CLI
    pads every cell); an empty last cell leaves a shorter row."""
    lines = output.rstrip("\n").split("\n")
    width = len(re.split(r"\s{2,}", lines[0].strip()))
    rows = []
    for line in lines:
        cells = re.split(r"\s{2,}", line.strip())
        rows.append(cells + [""] * (width - len(cells)))
    return rows


def test_cli_agent_list(cli_cluster):
    master, _sub, run = cli_cluster
    agents = requests.get(master + "/master/slaves", timeout=DEADLINE).json()["slaves"]
    rows = table(run("agent", "list"))
    assert rows[0] == ["Agent ID", "Hostname", "Active"]
    assert sorted(rows[1:]) == sorted([a["id"], "127.0.0.1", "True"] for a in agents)
    assert len(agents) == 2


def test_cli_framework_list(cli_cluster):
    # The CLI asks for /master/frameworks/ (a trailing slash), which libprocess routes as
    # /master/frameworks.
    _master, sub, run = cli_cluster
    rows = table(run("framework", "list"))
    assert rows == [["ID", "Active", "Hostname", "Name"],
                    [sub.framework_id, "True", "127.0.0.1", "CLI tour"]]


def test_cli_framework_inspect(cli_cluster):
    _master, sub, run = cli_cluster
    framework = json.loads(run("framework", "inspect", sub.framework_id))
    assert framework["id"] == sub.framework_id
    assert framework["name"] == "CLI tour"
    assert framework["active"] is True
    assert framework["user"] == "tester"
    # The CLI drops the task lists itself; what it keeps is the master's view.
    assert "tasks" not in framework and "completed_tasks" not in framework
    assert framework["used_resources"]["cpus"] == pytest.approx(0.1)


def test_cli_task_list(cli_cluster):
    _master, sub, run = cli_cluster
    header = ["ID", "State", "Framework ID", "Executor ID"]
    # Running tasks only, by default; command tasks have no executor id.
    assert table(run("task", "list")) == [
        header, ["cli-running", "TASK_RUNNING", sub.framework_id, ""]]
    rows = table(run("task", "list", "--all"))
    assert rows[0] == header
    assert sorted(rows[1:]) == [["cli-done", "TASK_FINISHED", sub.framework_id, ""],
                                ["cli-running", "TASK_RUNNING", sub.framework_id, ""]]


def test_cli_task_inspect(cli_cluster):
    _master, sub, run = cli_cluster
    task = json.loads(run("task", "inspect", "cli-running"))
    assert task["id"] == "cli-running"
    assert task["framework_id"] == sub.framework_id
    assert task["state"] == "TASK_RUNNING"
    assert [s["state"] for s in task["statuses"]] == ["TASK_STARTING", "TASK_RUNNING"]
    assert task["resources"]["cpus"] == pytest.approx(0.1)
    assert json.loads(run("task", "inspect", "cli-done"))["state"] == "TASK_FINISHED"
