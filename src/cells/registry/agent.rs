//! The v1 agent operator API calls (`POST /api/v1` on an agent).

use super::common::{
    opt, req, CONTAINER_ID_ONLY, GET_METRICS_FIELDS, KILL_CONTAINER_FIELDS, LIST_FILES_FIELDS,
    NESTED_LAUNCH_FIELDS, READ_FILE_FIELDS, SET_LOGGING_LEVEL_FIELDS,
};
use super::{Api, CallSpec, FieldKind};

const OK_EMPTY: &str = "200 OK with an empty body";

pub(super) const CALLS: &[CallSpec] = &[
    CallSpec {
        name: "GET_HEALTH",
        api: Api::Agent,
        summary: "Is the agent healthy?",
        doc: "Asks the agent whether it considers itself healthy.",
        fields: &[],
        example: "agent GET_HEALTH",
        response: "GET_HEALTH -> get_health.healthy (bool)",
    },
    CallSpec {
        name: "GET_FLAGS",
        api: Api::Agent,
        summary: "The agent's command-line flags",
        doc: "Lists every flag the agent runs with, as name/value pairs.",
        fields: &[],
        example: "agent GET_FLAGS",
        response: "GET_FLAGS -> get_flags.flags[{name, value}]",
    },
    CallSpec {
        name: "GET_VERSION",
        api: Api::Agent,
        summary: "The agent's Mesos version and build",
        doc: "Reports the version, git sha/tag and build date, time and user of the agent.",
        fields: &[],
        example: "agent GET_VERSION",
        response: "GET_VERSION -> get_version.version_info{version, git_sha, build_date, ...}",
    },
    CallSpec {
        name: "GET_METRICS",
        api: Api::Agent,
        summary: "A snapshot of the agent's metrics",
        doc: "Returns every metric the agent keeps (uptime, registered, executors, tasks, \
              resources). With timeout=, slow metrics are left out rather than waited for.",
        fields: GET_METRICS_FIELDS,
        example: "agent GET_METRICS timeout=5s",
        response: "GET_METRICS -> get_metrics.metrics[{name, value}]",
    },
    CallSpec {
        name: "GET_LOGGING_LEVEL",
        api: Api::Agent,
        summary: "The agent's log verbosity",
        doc: "Reports the agent's current glog verbosity level.",
        fields: &[],
        example: "agent GET_LOGGING_LEVEL",
        response: "GET_LOGGING_LEVEL -> get_logging_level.level",
    },
    CallSpec {
        name: "SET_LOGGING_LEVEL",
        api: Api::Agent,
        summary: "Change the agent's log verbosity for a while",
        doc: "Sets the agent's glog verbosity level; it goes back to the original level once \
              the duration has passed.",
        fields: SET_LOGGING_LEVEL_FIELDS,
        example: "agent SET_LOGGING_LEVEL level=1 duration=10m",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "LIST_FILES",
        api: Api::Agent,
        summary: "List a directory the agent serves",
        doc: "Lists the files under a path the agent exposes, such as a task sandbox \
              (/frameworks/<fid>/executors/<eid>/runs/latest) or its log directory.",
        fields: LIST_FILES_FIELDS,
        example: "agent LIST_FILES path=$sandbox",
        response: "LIST_FILES -> list_files.file_infos[{path, size, mtime, mode, uid, gid, nlink}]",
    },
    CallSpec {
        name: "READ_FILE",
        api: Api::Agent,
        summary: "Read part of a file the agent serves",
        doc: "Reads up to length bytes from offset of a file the agent exposes, e.g. a task's \
              stdout in its sandbox. The answer holds the file's total size and the data, \
              base64-encoded.",
        fields: READ_FILE_FIELDS,
        example: "agent READ_FILE path=/var/log/x offset=0 length=4096",
        response: "READ_FILE -> read_file{size, data (base64)}",
    },
    CallSpec {
        name: "GET_STATE",
        api: Api::Agent,
        summary: "The agent's whole state in one answer",
        doc: "Returns the agent's tasks, executors and frameworks, each as GET_TASKS, \
              GET_EXECUTORS and GET_FRAMEWORKS would.",
        fields: &[],
        example: "agent GET_STATE",
        response: "GET_STATE -> get_state{get_tasks, get_executors, get_frameworks}",
    },
    CallSpec {
        name: "GET_CONTAINERS",
        api: Api::Agent,
        summary: "Containers running on the agent",
        doc: "Lists the agent's containers with their executor, framework and resource \
              statistics; nested and standalone containers only when asked for.",
        fields: &[
            opt(
                "show_nested",
                "show_nested",
                FieldKind::Bool,
                "include nested containers",
            ),
            opt(
                "show_standalone",
                "show_standalone",
                FieldKind::Bool,
                "include standalone containers (launched with LAUNCH_CONTAINER)",
            ),
        ],
        example: "agent GET_CONTAINERS show_nested=true",
        response: "GET_CONTAINERS -> get_containers.containers[{container_id, executor_id, \
                   resource_statistics, ...}]",
    },
    CallSpec {
        name: "GET_FRAMEWORKS",
        api: Api::Agent,
        summary: "Frameworks with work on this agent",
        doc: "Lists the FrameworkInfo of frameworks that have (or had) executors on the agent.",
        fields: &[],
        example: "agent GET_FRAMEWORKS",
        response: "GET_FRAMEWORKS -> get_frameworks{frameworks[], completed_frameworks[]}",
    },
    CallSpec {
        name: "GET_EXECUTORS",
        api: Api::Agent,
        summary: "Executors on this agent",
        doc: "Lists the ExecutorInfo of the agent's running and completed executors.",
        fields: &[],
        example: "agent GET_EXECUTORS",
        response: "GET_EXECUTORS -> get_executors{executors[], completed_executors[]}",
    },
    CallSpec {
        name: "GET_OPERATIONS",
        api: Api::Agent,
        summary: "Operations the agent knows",
        doc: "Lists the offer operations applied on this agent, with their latest status.",
        fields: &[],
        example: "agent GET_OPERATIONS",
        response: "GET_OPERATIONS -> get_operations.operations[]",
    },
    CallSpec {
        name: "GET_TASKS",
        api: Api::Agent,
        summary: "Tasks on this agent",
        doc: "Lists the agent's tasks: pending, queued, launched, terminated and completed.",
        fields: &[],
        example: "agent GET_TASKS | .get_tasks.launched_tasks[] | {name, state}",
        response: "GET_TASKS -> get_tasks{pending_tasks, queued_tasks, launched_tasks, \
                   terminated_tasks, completed_tasks}",
    },
    CallSpec {
        name: "GET_AGENT",
        api: Api::Agent,
        summary: "The agent's own info",
        doc: "Returns the AgentInfo (id, hostname, resources, attributes) and the agent's \
              capabilities and resource providers.",
        fields: &[],
        example: "agent GET_AGENT | .get_agent.agent_info",
        response: "GET_AGENT -> get_agent{agent_info, capabilities, resource_providers}",
    },
    CallSpec {
        name: "GET_RESOURCE_PROVIDERS",
        api: Api::Agent,
        summary: "Local resource providers",
        doc: "Lists the resource providers on this agent with their info and resources.",
        fields: &[],
        example: "agent GET_RESOURCE_PROVIDERS",
        response: "GET_RESOURCE_PROVIDERS -> get_resource_providers.resource_providers[]",
    },
    CallSpec {
        name: "LAUNCH_NESTED_CONTAINER",
        api: Api::Agent,
        summary: "Start a nested container (deprecated: use LAUNCH_CONTAINER)",
        doc: "Starts a container inside an existing executor container.",
        fields: NESTED_LAUNCH_FIELDS,
        example: "agent LAUNCH_NESTED_CONTAINER container_id={\"value\": \"debug\", \"parent\": \
                  {\"value\": $cid}} command={\"value\": \"ls\"}",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "WAIT_NESTED_CONTAINER",
        api: Api::Agent,
        summary: "Wait for a nested container to end (deprecated: use WAIT_CONTAINER)",
        doc: "Blocks until the nested container exits and returns its exit status.",
        fields: CONTAINER_ID_ONLY,
        example: "agent WAIT_NESTED_CONTAINER container_id=$nested",
        response: "WAIT_NESTED_CONTAINER -> wait_nested_container{exit_status, state, reason, \
                   message}",
    },
    CallSpec {
        name: "KILL_NESTED_CONTAINER",
        api: Api::Agent,
        summary: "Signal a nested container (deprecated: use KILL_CONTAINER)",
        doc: "Sends a signal (SIGKILL by default) to a nested container.",
        fields: KILL_CONTAINER_FIELDS,
        example: "agent KILL_NESTED_CONTAINER container_id=$nested",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "REMOVE_NESTED_CONTAINER",
        api: Api::Agent,
        summary: "Clean up a nested container (deprecated: use REMOVE_CONTAINER)",
        doc: "Removes an exited nested container's runtime directory and checkpoints.",
        fields: CONTAINER_ID_ONLY,
        example: "agent REMOVE_NESTED_CONTAINER container_id=$nested",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "LAUNCH_NESTED_CONTAINER_SESSION",
        api: Api::Agent,
        summary: "Start a nested container and stream its output",
        doc: "Starts a nested container (as for debugging with `mesos task exec`) and keeps \
              the connection open, streaming the container's stdout and stderr; the \
              container is killed when the connection closes.",
        fields: NESTED_LAUNCH_FIELDS,
        example: "agent LAUNCH_NESTED_CONTAINER_SESSION container_id={\"value\": \"sh\", \
                  \"parent\": {\"value\": $cid}} command={\"value\": \"uptime\"}",
        response: "200 OK with a RecordIO stream of ProcessIO records (stdout/stderr data)",
    },
    CallSpec {
        name: "ATTACH_CONTAINER_INPUT",
        api: Api::Agent,
        summary: "Stream input into a container",
        doc: "A streaming request: the first record names the container (type=CONTAINER_ID), \
              the following ones carry PROCESS_IO data or control messages for its stdin.",
        fields: &[
            opt(
                "type",
                "type",
                FieldKind::String,
                "CONTAINER_ID for the first record, PROCESS_IO for the rest",
            ),
            opt(
                "container_id",
                "container_id",
                FieldKind::Id,
                "the container to attach to (first record)",
            ),
            opt(
                "process_io",
                "process_io",
                FieldKind::Json,
                "a ProcessIO record: {\"type\": \"DATA\", \"data\": {...}}",
            ),
        ],
        example: "agent ATTACH_CONTAINER_INPUT type=CONTAINER_ID container_id=$nested",
        response: "200 OK with an empty body once the input stream ends",
    },
    CallSpec {
        name: "ATTACH_CONTAINER_OUTPUT",
        api: Api::Agent,
        summary: "Stream a container's output",
        doc: "Attaches to a running container and streams its stdout and stderr.",
        fields: CONTAINER_ID_ONLY,
        example: "agent ATTACH_CONTAINER_OUTPUT container_id=$nested",
        response: "200 OK with a RecordIO stream of ProcessIO records",
    },
    CallSpec {
        name: "LAUNCH_CONTAINER",
        api: Api::Agent,
        summary: "Start a standalone or nested container",
        doc: "Starts a container directly on the agent: top-level (standalone, with its own \
              resources) or nested under a parent given in container_id.",
        fields: &[
            req(
                "container_id",
                "container_id",
                FieldKind::Id,
                "id for the new container; with `parent` it is nested",
            ),
            opt(
                "command",
                "command",
                FieldKind::Json,
                "CommandInfo to run, e.g. {\"value\": \"sleep 100\"}",
            ),
            opt(
                "resources",
                "resources",
                FieldKind::Json,
                "list of Resource objects (standalone containers)",
            ),
            opt(
                "container",
                "container",
                FieldKind::Json,
                "ContainerInfo (image, volumes, ...)",
            ),
            opt(
                "limits",
                "limits",
                FieldKind::Json,
                "resource limits above the request: {\"cpus\": {\"value\": 2}}",
            ),
        ],
        example: "agent LAUNCH_CONTAINER container_id=tool command={\"value\": \"sleep 60\"} \
                  resources=$res",
        response: "200 OK with an empty body (202 Accepted when the container already exists)",
    },
    CallSpec {
        name: "WAIT_CONTAINER",
        api: Api::Agent,
        summary: "Wait for a container to end",
        doc: "Blocks until the container exits and returns its exit status, final state and \
              reason.",
        fields: CONTAINER_ID_ONLY,
        example: "agent WAIT_CONTAINER container_id=tool",
        response:
            "WAIT_CONTAINER -> wait_container{exit_status, state, reason, message, limitation}",
    },
    CallSpec {
        name: "KILL_CONTAINER",
        api: Api::Agent,
        summary: "Signal a container",
        doc: "Sends a signal (SIGKILL by default) to a standalone or nested container.",
        fields: KILL_CONTAINER_FIELDS,
        example: "agent KILL_CONTAINER container_id=tool signal=15",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "REMOVE_CONTAINER",
        api: Api::Agent,
        summary: "Clean up an exited container",
        doc: "Removes an exited container's runtime directory and checkpointed state.",
        fields: CONTAINER_ID_ONLY,
        example: "agent REMOVE_CONTAINER container_id=tool",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "ADD_RESOURCE_PROVIDER_CONFIG",
        api: Api::Agent,
        summary: "Add a local resource provider",
        doc: "Adds the configuration of a new local resource provider (e.g. a CSI storage \
              plugin); the agent starts it.",
        fields: &[req(
            "info",
            "info",
            FieldKind::Json,
            "ResourceProviderInfo: {\"type\": ..., \"name\": ..., ...}",
        )],
        example: "agent ADD_RESOURCE_PROVIDER_CONFIG info=$provider",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "UPDATE_RESOURCE_PROVIDER_CONFIG",
        api: Api::Agent,
        summary: "Change a local resource provider",
        doc: "Replaces the configuration of an existing local resource provider with the same \
              type and name; the agent restarts it.",
        fields: &[req(
            "info",
            "info",
            FieldKind::Json,
            "ResourceProviderInfo with the new settings",
        )],
        example: "agent UPDATE_RESOURCE_PROVIDER_CONFIG info=$provider",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "REMOVE_RESOURCE_PROVIDER_CONFIG",
        api: Api::Agent,
        summary: "Remove a local resource provider",
        doc: "Removes a local resource provider's configuration and stops it.",
        fields: &[
            req("type", "type", FieldKind::String, "the provider's type"),
            req("name", "name", FieldKind::String, "the provider's name"),
        ],
        example: "agent REMOVE_RESOURCE_PROVIDER_CONFIG type=org.apache.mesos.rp.local.storage \
                  name=lvm",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "MARK_RESOURCE_PROVIDER_GONE",
        api: Api::Agent,
        summary: "Declare a resource provider permanently gone",
        doc: "Tells the agent a resource provider will not come back, releasing what it \
              held.",
        fields: &[req(
            "resource_provider_id",
            "resource_provider_id",
            FieldKind::Id,
            "the provider's id",
        )],
        example: "agent MARK_RESOURCE_PROVIDER_GONE resource_provider_id=$rp",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "PRUNE_IMAGES",
        api: Api::Agent,
        summary: "Delete unused container images",
        doc: "Removes cached container images that no container uses, keeping the images \
              listed in excluded_images.",
        fields: &[opt(
            "excluded_images",
            "excluded_images",
            FieldKind::Json,
            "list of Image objects to keep",
        )],
        example: "agent PRUNE_IMAGES",
        response: OK_EMPTY,
    },
];
