//! The cell language's own statements (not Mesos calls). They are listed here so completion,
//! `%help` and suggestions treat them like calls; `build_call` refuses them.

use super::common::{opt, req};
use super::{Api, CallSpec, FieldKind};

pub(super) const CALLS: &[CallSpec] = &[
    CallSpec {
        name: "PRINT",
        api: Api::Helper,
        summary: "Write a value to the cell's stdout",
        doc: "Evaluates a jq expression and writes the result to standard output: strings \
              as their raw text, anything else as JSON. Binds nothing.",
        fields: &[],
        example: "PRINT \"framework: \" + $framework_id.value",
        response: "nothing; the text appears on stdout",
    },
    CallSpec {
        name: "EPRINT",
        api: Api::Helper,
        summary: "Write a value to the cell's stderr",
        doc: "Like PRINT, but writes to standard error.",
        fields: &[],
        example: "EPRINT \"offers so far: \\($offers | length)\"",
        response: "nothing; the text appears on stderr",
    },
    CallSpec {
        name: "ASSERT",
        api: Api::Helper,
        summary: "Fail the cell unless a condition holds",
        doc: "Evaluates a jq condition over the session's variables; anything but false or \
              null passes. A failing assertion is an AssertionFailed error that shows the \
              expression, so a headless notebook run stops there.",
        fields: &[],
        example: "ASSERT ($state.frameworks | length) == 0",
        response: "nothing when it holds; an AssertionFailed error otherwise",
    },
    CallSpec {
        name: "WAIT",
        api: Api::Helper,
        summary: "Wait until a condition holds",
        doc: "Re-evaluates a jq condition each time the session changes (events, offers, \
              task updates) until it holds, or fails with a Timeout error. An interrupt \
              stops the wait.",
        fields: &[opt(
            "timeout",
            "timeout",
            FieldKind::Duration,
            "give up after this long (30s by default)",
        )],
        example: "WAIT $tasks.web.state == \"TASK_RUNNING\" timeout=30s",
        response: "the condition's value once it holds; a Timeout error otherwise",
    },
    CallSpec {
        name: "OFFERS",
        api: Api::Helper,
        summary: "Show the framework's outstanding offers",
        doc: "Shows the offers the subscribed framework holds, as a table of agent, \
              hostname and resources. With wait=, waits (updating the table in place) until \
              at least min offers are there.",
        fields: &[
            opt(
                "wait",
                "wait",
                FieldKind::Duration,
                "how long to wait for offers to arrive",
            ),
            opt(
                "min",
                "min",
                FieldKind::Integer,
                "how many offers to wait for (1 by default)",
            ),
        ],
        example: "OFFERS wait=30s",
        response: "the list of offers, also in $offers",
    },
    CallSpec {
        name: "LAUNCH",
        api: Api::Helper,
        summary: "Launch a task on an offer, the short way",
        doc: "Builds a TaskInfo from a few keys and sends an ACCEPT with a LAUNCH operation \
              on an offer (the first outstanding one that fits unless offer= says otherwise). \
              The task's cpus, mem and disk are pieces of the offer's own resources, reserved \
              ones first, each keeping its reservation and allocation. role= picks an offer \
              of that role; volume= mounts a persistent volume (made from the offer's \
              reserved disk, with a CREATE before the LAUNCH, when the offer has none). A \
              docker image makes it a Docker container task. With wait=, the cell waits \
              until the task reaches that state.",
        fields: &[
            opt(
                "offer",
                "offer",
                FieldKind::Json,
                "the offer to use (an offer object or its id); the first outstanding offer by default",
            ),
            req("name", "name", FieldKind::String, "the task's name"),
            opt(
                "task_id",
                "task_id",
                FieldKind::String,
                "the task's id; made from the name when left out",
            ),
            opt(
                "cmd",
                "cmd",
                FieldKind::String,
                "command to run (through sh -c unless shell=false)",
            ),
            opt(
                "shell",
                "shell",
                FieldKind::Bool,
                "run cmd through a shell (true by default)",
            ),
            opt(
                "args",
                "args",
                FieldKind::StringList,
                "the argv (program name first), run without a shell; cmd= defaults to its first",
            ),
            req("cpus", "cpus", FieldKind::Number, "CPU shares to use"),
            req("mem", "mem", FieldKind::Number, "memory in MB"),
            opt("disk", "disk", FieldKind::Number, "disk in MB"),
            opt(
                "ports",
                "ports",
                FieldKind::Json,
                "ports to take from the offer: a number, a list, or a count like \"2\"",
            ),
            opt(
                "docker",
                "docker",
                FieldKind::String,
                "Docker image to run, e.g. nginx:1.10-alpine",
            ),
            opt(
                "network",
                "network",
                FieldKind::String,
                "Docker network mode: HOST, BRIDGE, NONE or USER",
            ),
            opt(
                "uris",
                "uris",
                FieldKind::StringList,
                "URIs the fetcher downloads into the sandbox first",
            ),
            opt(
                "env",
                "env",
                FieldKind::Json,
                "environment variables as an object: {\"PORT\": \"9000\"}",
            ),
            opt(
                "wait",
                "wait",
                FieldKind::String,
                "task state to wait for: RUNNING or FINISHED",
            ),
            opt(
                "health",
                "health",
                FieldKind::Json,
                "a health check: a command line for sh -c, or a Mesos HealthCheck object (HTTP, TCP)",
            ),
            opt(
                "check",
                "check",
                FieldKind::Json,
                "a check that reports and never kills: a command line, or a Mesos CheckInfo object",
            ),
            opt(
                "role",
                "role",
                FieldKind::String,
                "use an offer allocated to this role (a framework of several roles)",
            ),
            opt(
                "volume",
                "volume",
                FieldKind::String,
                "a persistent volume's id: the offer's, or one made first from its reserved disk",
            ),
            opt(
                "path",
                "path",
                FieldKind::String,
                "where the volume appears in the sandbox (its id by default)",
            ),
            opt(
                "volume_size",
                "volume_size",
                FieldKind::Number,
                "MB of reserved disk for a volume to make (all of one reservation by default)",
            ),
        ],
        example: "LAUNCH name=web cmd=\"python3 -m http.server 9000\" cpus=0.2 mem=100 \
                  wait=RUNNING",
        response: "the launched TaskInfo; the task's progress shows in TASKS and $tasks",
    },
    CallSpec {
        name: "TASKS",
        api: Api::Helper,
        summary: "Show the framework's tasks",
        doc: "Shows the session's tasks as a table of id, name, state, agent and last \
              message. `TASKS watch` keeps the table live, updating it in place as states \
              change, until the cell is interrupted or every task has ended.",
        fields: &[],
        example: "TASKS watch",
        response: "the task table, also in $tasks",
    },
    CallSpec {
        name: "EVENTS",
        api: Api::Helper,
        summary: "Show events from the scheduler stream",
        doc: "Shows events received on the framework's stream, optionally only one type \
              and only the most recent ones. With follow=, new events are appended live for \
              that long.",
        fields: &[
            opt(
                "type",
                "type",
                FieldKind::String,
                "only events of this type (HEARTBEAT, OFFERS, UPDATE, ...)",
            ),
            opt(
                "last",
                "last",
                FieldKind::Integer,
                "only the newest N events",
            ),
            opt(
                "follow",
                "follow",
                FieldKind::Duration,
                "keep showing new events for this long",
            ),
        ],
        example: "EVENTS type=HEARTBEAT last=1",
        response: "the list of events, also in $events",
    },
    CallSpec {
        name: "LOGS",
        api: Api::Helper,
        summary: "Show a task's stdout or stderr",
        doc: "Finds the task's sandbox on its agent and shows the end of its stdout (or \
              stderr). With follow=, new output is appended live for that long.",
        fields: &[
            req("task", "task", FieldKind::String, "the task's id"),
            opt(
                "file",
                "file",
                FieldKind::String,
                "stdout (default) or stderr",
            ),
            opt(
                "tail",
                "tail",
                FieldKind::Integer,
                "only the last N lines",
            ),
            opt(
                "follow",
                "follow",
                FieldKind::Duration,
                "keep showing new output for this long",
            ),
        ],
        example: "LOGS task=web file=stderr tail=20",
        response: "the file's text",
    },
    CallSpec {
        name: "RESOURCES",
        api: Api::Helper,
        summary: "Chart used and free resources per agent",
        doc: "Draws a bar chart of used and free cpus, mem and disk on each agent, from the \
              master's state, with a plain-text table as fallback.",
        fields: &[],
        example: "RESOURCES",
        response: "a Vega-Lite chart; the numbers are in $_",
    },
    CallSpec {
        name: "EXEC",
        api: Api::Helper,
        summary: "Run a command inside a running task's container",
        doc: "As `mesos task exec` does: finds the task's agent and container through the \
              master, starts the command in a nested container session under it \
              (LAUNCH_NESTED_CONTAINER_SESSION, in the task's sandbox), shows its stdout and \
              stderr as they come, then its exit status (WAIT_NESTED_CONTAINER). An \
              interrupt stops it, and the session's container dies with the connection.",
        fields: &[
            req("task", "task", FieldKind::String, "the task id"),
            req("cmd", "cmd", FieldKind::String, "the command, run with sh -c"),
        ],
        example: "EXEC task=web cmd=\"ls -l\"",
        response: "{container_id, exit_status, exit_code}; a failing exit code is shown, not an error",
    },
    CallSpec {
        name: "UNSUBSCRIBE",
        api: Api::Helper,
        summary: "Close the operator event stream",
        doc: "Closes the stream `operator SUBSCRIBE` opened. Its live view shows it closed,               and $operator keeps the cluster as last seen. The framework session, if any,               goes on.",
        fields: &[],
        example: "operator UNSUBSCRIBE",
        response: "nothing; $operator.status becomes \"closed\"",
    },
];
