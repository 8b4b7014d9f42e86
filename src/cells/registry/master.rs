//! The v1 master operator API calls (`POST /api/v1` on the master).

use super::common::{
    opt, req, AGENT_ID_ONLY, GET_METRICS_FIELDS, LIST_FILES_FIELDS, READ_FILE_FIELDS,
    SET_LOGGING_LEVEL_FIELDS,
};
use super::{Api, CallSpec, FieldKind};

const OK_EMPTY: &str = "200 OK with an empty body";
const ACCEPTED_ASYNC: &str =
    "202 Accepted once the master has validated it; the agent applies it asynchronously";

pub(super) const CALLS: &[CallSpec] = &[
    CallSpec {
        name: "GET_HEALTH",
        api: Api::Master,
        summary: "Is the master healthy?",
        doc: "Asks the master whether it considers itself healthy.",
        fields: &[],
        example: "GET_HEALTH",
        response: "GET_HEALTH -> get_health.healthy (bool)",
    },
    CallSpec {
        name: "GET_FLAGS",
        api: Api::Master,
        summary: "The master's command-line flags",
        doc: "Lists every flag the master runs with, as name/value pairs.",
        fields: &[],
        example: "GET_FLAGS | .get_flags.flags[] | select(.name == \"work_dir\")",
        response: "GET_FLAGS -> get_flags.flags[{name, value}]",
    },
    CallSpec {
        name: "GET_VERSION",
        api: Api::Master,
        summary: "The master's Mesos version and build",
        doc: "Reports the version, git sha/tag and build date, time and user of the master.",
        fields: &[],
        example: "GET_VERSION",
        response: "GET_VERSION -> get_version.version_info{version, git_sha, build_date, ...}",
    },
    CallSpec {
        name: "GET_METRICS",
        api: Api::Master,
        summary: "A snapshot of the master's metrics",
        doc: "Returns every metric the master keeps (uptime, elected, agents, tasks by \
              state, allocator figures, ...). With timeout=, slow metrics are left out \
              rather than waited for.",
        fields: GET_METRICS_FIELDS,
        example: "GET_METRICS timeout=5s",
        response: "GET_METRICS -> get_metrics.metrics[{name, value}]",
    },
    CallSpec {
        name: "GET_LOGGING_LEVEL",
        api: Api::Master,
        summary: "The master's log verbosity",
        doc: "Reports the master's current glog verbosity level.",
        fields: &[],
        example: "GET_LOGGING_LEVEL",
        response: "GET_LOGGING_LEVEL -> get_logging_level.level",
    },
    CallSpec {
        name: "SET_LOGGING_LEVEL",
        api: Api::Master,
        summary: "Change the master's log verbosity for a while",
        doc: "Sets the master's glog verbosity level; it goes back to the original level \
              once the duration has passed.",
        fields: SET_LOGGING_LEVEL_FIELDS,
        example: "SET_LOGGING_LEVEL level=1 duration=10m",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "LIST_FILES",
        api: Api::Master,
        summary: "List a directory the master serves",
        doc: "Lists the files under a path the master exposes (its log directory, for \
              instance), with size, mode, owner and modification time.",
        fields: LIST_FILES_FIELDS,
        example: "LIST_FILES path=/master/log",
        response: "LIST_FILES -> list_files.file_infos[{path, size, mtime, mode, uid, gid, nlink}]",
    },
    CallSpec {
        name: "READ_FILE",
        api: Api::Master,
        summary: "Read part of a file the master serves",
        doc: "Reads up to length bytes from offset of a file the master exposes. The answer \
              holds the file's total size and the data, base64-encoded.",
        fields: READ_FILE_FIELDS,
        example: "READ_FILE path=/master/log offset=0 length=4096",
        response: "READ_FILE -> read_file{size, data (base64)}",
    },
    CallSpec {
        name: "GET_STATE",
        api: Api::Master,
        summary: "The whole cluster state in one answer",
        doc: "Returns the master's view of the cluster: tasks, executors, frameworks and \
              agents, each as GET_TASKS, GET_EXECUTORS, GET_FRAMEWORKS and GET_AGENTS would.",
        fields: &[],
        example: "GET_STATE",
        response: "GET_STATE -> get_state{get_tasks, get_executors, get_frameworks, get_agents}",
    },
    CallSpec {
        name: "GET_AGENTS",
        api: Api::Master,
        summary: "The agents registered with the master",
        doc: "Lists registered agents with their info, activity, version, registration time \
              and total, allocated and offered resources; agents known only from recovery \
              are listed apart.",
        fields: &[],
        example: "GET_AGENTS | .get_agents.agents[].agent_info.hostname",
        response: "GET_AGENTS -> get_agents{agents[], recovered_agents[]}",
    },
    CallSpec {
        name: "GET_FRAMEWORKS",
        api: Api::Master,
        summary: "The frameworks the master knows",
        doc: "Lists active and completed frameworks with their FrameworkInfo, connection \
              state, registration times, outstanding offers and resources.",
        fields: &[],
        example: "GET_FRAMEWORKS",
        response: "GET_FRAMEWORKS -> get_frameworks{frameworks[], completed_frameworks[]}",
    },
    CallSpec {
        name: "GET_EXECUTORS",
        api: Api::Master,
        summary: "Every executor in the cluster",
        doc: "Lists each executor's ExecutorInfo with the agent it runs on.",
        fields: &[],
        example: "GET_EXECUTORS",
        response: "GET_EXECUTORS -> get_executors.executors[{executor_info, agent_id}]",
    },
    CallSpec {
        name: "GET_OPERATIONS",
        api: Api::Master,
        summary: "Offer operations the master knows",
        doc: "Lists the operations (reservations, volumes, ...) the master tracks, with \
              their latest status.",
        fields: &[],
        example: "GET_OPERATIONS",
        response: "GET_OPERATIONS -> get_operations.operations[]",
    },
    CallSpec {
        name: "GET_TASKS",
        api: Api::Master,
        summary: "Every task in the cluster",
        doc: "Lists tasks by kind: active, completed, orphaned, unreachable (and pending on \
              older masters), each with its state and status history.",
        fields: &[],
        example: "GET_TASKS | .get_tasks.tasks[] | {name, state}",
        response: "GET_TASKS -> get_tasks{tasks, completed_tasks, pending_tasks, orphan_tasks, \
                   unreachable_tasks}",
    },
    CallSpec {
        name: "GET_ROLES",
        api: Api::Master,
        summary: "Roles, weights and their resources",
        doc: "Lists the known roles with their weight, frameworks and allocated resources.",
        fields: &[],
        example: "GET_ROLES",
        response: "GET_ROLES -> get_roles.roles[{name, weight, frameworks, resources}]",
    },
    CallSpec {
        name: "GET_WEIGHTS",
        api: Api::Master,
        summary: "Configured role weights",
        doc: "Lists the weights set for roles (roles without one weigh 1.0).",
        fields: &[],
        example: "GET_WEIGHTS",
        response: "GET_WEIGHTS -> get_weights.weight_infos[{role, weight}]",
    },
    CallSpec {
        name: "UPDATE_WEIGHTS",
        api: Api::Master,
        summary: "Set role weights",
        doc: "Changes the weights of the given roles, which decide their share in the \
              allocator's fair sharing.",
        fields: &[req(
            "weight_infos",
            "weight_infos",
            FieldKind::Json,
            "list of {\"role\": ..., \"weight\": ...}",
        )],
        example: "UPDATE_WEIGHTS weight_infos=[{\"role\": \"web\", \"weight\": 2.0}]",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "GET_MASTER",
        api: Api::Master,
        summary: "The master's own info",
        doc: "Returns this master's MasterInfo (id, address, hostname, version) and, on \
              newer masters, its start and election times.",
        fields: &[],
        example: "GET_MASTER | .get_master.master_info.address",
        response: "GET_MASTER -> get_master{master_info, start_time, elected_time}",
    },
    CallSpec {
        name: "SUBSCRIBE",
        api: Api::Master,
        summary: "Stream cluster events as an operator",
        doc: "Opens the master's operator event stream in the background, beside any \
              framework session: first SUBSCRIBED with the full state, then TASK_ADDED, \
              TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED, FRAMEWORK_ADDED, FRAMEWORK_UPDATED, \
              FRAMEWORK_REMOVED and HEARTBEAT as they happen. The kernel keeps the cluster \
              in $operator (.agents, .frameworks, .tasks, .events, .status), shows it as a \
              live view, reconnects when the stream is lost, and follows a new leader. \
              Write `operator SUBSCRIBE` (bare SUBSCRIBE is the scheduler's); a second one \
              shows the open stream again; `operator UNSUBSCRIBE` closes it.",
        fields: &[],
        example: "operator SUBSCRIBE",
        response: "a live view of the cluster; its state in $operator (the stream: \
                   SUBSCRIBED{get_state, heartbeat_interval_seconds}, TASK_ADDED, ...)",
    },
    CallSpec {
        name: "RESERVE_RESOURCES",
        api: Api::Master,
        summary: "Reserve resources on an agent for a role",
        doc: "Dynamically reserves resources of an agent. Each resource names the role in \
              its reservations; source= gives the resources as they are now when refining \
              an existing reservation.",
        fields: &[
            req(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "the agent holding the resources",
            ),
            opt(
                "source",
                "source",
                FieldKind::Json,
                "the resources as currently reserved (for re-reservation)",
            ),
            req(
                "resources",
                "resources",
                FieldKind::Json,
                "list of Resource objects with the wanted reservations",
            ),
        ],
        example: "RESERVE_RESOURCES agent_id=$agents[0].id resources=[{\"name\": \"cpus\", \
                  \"type\": \"SCALAR\", \"scalar\": {\"value\": 1}, \"reservations\": \
                  [{\"type\": \"DYNAMIC\", \"role\": \"web\"}]}]",
        response: ACCEPTED_ASYNC,
    },
    CallSpec {
        name: "UNRESERVE_RESOURCES",
        api: Api::Master,
        summary: "Release dynamically reserved resources",
        doc: "Removes dynamic reservations from resources of an agent, returning them to the \
              unreserved pool.",
        fields: &[
            req(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "the agent holding the resources",
            ),
            req(
                "resources",
                "resources",
                FieldKind::Json,
                "list of reserved Resource objects to unreserve",
            ),
        ],
        example: "UNRESERVE_RESOURCES agent_id=$agents[0].id resources=$reserved",
        response: ACCEPTED_ASYNC,
    },
    CallSpec {
        name: "CREATE_VOLUMES",
        api: Api::Master,
        summary: "Create persistent volumes",
        doc: "Creates persistent volumes on reserved disk resources of an agent.",
        fields: &[
            req(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "the agent holding the disk",
            ),
            req(
                "volumes",
                "volumes",
                FieldKind::Json,
                "list of disk Resource objects with disk.persistence and disk.volume",
            ),
        ],
        example: "CREATE_VOLUMES agent_id=$agents[0].id volumes=$volumes",
        response: ACCEPTED_ASYNC,
    },
    CallSpec {
        name: "DESTROY_VOLUMES",
        api: Api::Master,
        summary: "Destroy persistent volumes",
        doc: "Destroys persistent volumes on an agent; their data is deleted and the disk \
              stays reserved.",
        fields: &[
            req(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "the agent holding the volumes",
            ),
            req(
                "volumes",
                "volumes",
                FieldKind::Json,
                "list of volume Resource objects to destroy",
            ),
        ],
        example: "DESTROY_VOLUMES agent_id=$agents[0].id volumes=$volumes",
        response: ACCEPTED_ASYNC,
    },
    CallSpec {
        name: "GROW_VOLUME",
        api: Api::Master,
        summary: "Make a persistent volume bigger",
        doc: "Grows a persistent volume by adding disk resources of the same reservation.",
        fields: &[
            opt(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "the agent holding the volume",
            ),
            req(
                "volume",
                "volume",
                FieldKind::Json,
                "the volume Resource to grow",
            ),
            req(
                "addition",
                "addition",
                FieldKind::Json,
                "the disk Resource to add to it",
            ),
        ],
        example: "GROW_VOLUME agent_id=$agents[0].id volume=$vol addition=$extra",
        response: ACCEPTED_ASYNC,
    },
    CallSpec {
        name: "SHRINK_VOLUME",
        api: Api::Master,
        summary: "Make a persistent volume smaller",
        doc: "Shrinks a persistent volume, returning the given amount of disk as reserved \
              resources.",
        fields: &[
            opt(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "the agent holding the volume",
            ),
            req(
                "volume",
                "volume",
                FieldKind::Json,
                "the volume Resource to shrink",
            ),
            req(
                "subtract",
                "subtract",
                FieldKind::Json,
                "amount to remove, as a scalar: {\"value\": 64}",
            ),
        ],
        example: "SHRINK_VOLUME agent_id=$agents[0].id volume=$vol subtract={\"value\": 64}",
        response: ACCEPTED_ASYNC,
    },
    CallSpec {
        name: "GET_MAINTENANCE_STATUS",
        api: Api::Master,
        summary: "Machines draining or down for maintenance",
        doc: "Reports which machines are draining (with frameworks' answers to inverse \
              offers) and which are down.",
        fields: &[],
        example: "GET_MAINTENANCE_STATUS",
        response: "GET_MAINTENANCE_STATUS -> get_maintenance_status.status{draining_machines, \
                   down_machines}",
    },
    CallSpec {
        name: "GET_MAINTENANCE_SCHEDULE",
        api: Api::Master,
        summary: "The maintenance schedule",
        doc: "Returns the planned maintenance windows: machines and their unavailability.",
        fields: &[],
        example: "GET_MAINTENANCE_SCHEDULE",
        response: "GET_MAINTENANCE_SCHEDULE -> get_maintenance_schedule.schedule.windows[]",
    },
    CallSpec {
        name: "UPDATE_MAINTENANCE_SCHEDULE",
        api: Api::Master,
        summary: "Replace the maintenance schedule",
        doc: "Sets the whole maintenance schedule; machines in a window start draining and \
              frameworks receive inverse offers for them.",
        fields: &[req(
            "schedule",
            "schedule",
            FieldKind::Json,
            "{\"windows\": [{\"machine_ids\": [...], \"unavailability\": {...}}]}",
        )],
        example: "UPDATE_MAINTENANCE_SCHEDULE schedule={\"windows\": []}",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "START_MAINTENANCE",
        api: Api::Master,
        summary: "Take machines down",
        doc: "Marks scheduled machines as down: their agents are removed and their tasks \
              killed.",
        fields: &[req(
            "machines",
            "machines",
            FieldKind::Json,
            "list of machine ids: [{\"hostname\": ..., \"ip\": ...}]",
        )],
        example: "START_MAINTENANCE machines=[{\"hostname\": \"agent1\", \"ip\": \"10.0.0.5\"}]",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "STOP_MAINTENANCE",
        api: Api::Master,
        summary: "Bring machines back",
        doc: "Ends maintenance for machines that are down, so their agents may register \
              again.",
        fields: &[req(
            "machines",
            "machines",
            FieldKind::Json,
            "list of machine ids: [{\"hostname\": ..., \"ip\": ...}]",
        )],
        example: "STOP_MAINTENANCE machines=[{\"hostname\": \"agent1\", \"ip\": \"10.0.0.5\"}]",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "DRAIN_AGENT",
        api: Api::Master,
        summary: "Empty an agent of its tasks",
        doc: "Stops offers for an agent and kills its tasks, giving each up to \
              max_grace_period to end; with mark_gone=true the agent is then marked gone.",
        fields: &[
            req("agent_id", "agent_id", FieldKind::Id, "the agent to drain"),
            opt(
                "max_grace_period",
                "max_grace_period",
                FieldKind::ProtoDuration,
                "upper bound on each task's kill grace period",
            ),
            opt(
                "mark_gone",
                "mark_gone",
                FieldKind::Bool,
                "mark the agent gone once drained",
            ),
        ],
        example: "DRAIN_AGENT agent_id=$agents[0].id max_grace_period=10m",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "DEACTIVATE_AGENT",
        api: Api::Master,
        summary: "Stop offering an agent's resources",
        doc: "Keeps an agent's running tasks but stops its resources from being offered \
              until REACTIVATE_AGENT.",
        fields: AGENT_ID_ONLY,
        example: "DEACTIVATE_AGENT agent_id=$agents[0].id",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "REACTIVATE_AGENT",
        api: Api::Master,
        summary: "Offer an agent's resources again",
        doc: "Undoes DEACTIVATE_AGENT (or a finished drain), so the agent's resources are \
              offered again.",
        fields: AGENT_ID_ONLY,
        example: "REACTIVATE_AGENT agent_id=$agents[0].id",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "GET_QUOTA",
        api: Api::Master,
        summary: "Resource quotas per role",
        doc: "Returns the quota status: configured guarantees and limits per role.",
        fields: &[],
        example: "GET_QUOTA",
        response: "GET_QUOTA -> get_quota.status{infos[], configs[]}",
    },
    CallSpec {
        name: "UPDATE_QUOTA",
        api: Api::Master,
        summary: "Set quota guarantees and limits for roles",
        doc: "Sets the guaranteed and maximum resources of roles. With force=true the master \
              skips its capacity check.",
        fields: &[
            opt(
                "force",
                "force",
                FieldKind::Bool,
                "apply even if the cluster cannot satisfy the guarantees",
            ),
            opt(
                "quota_configs",
                "quota_configs",
                FieldKind::Json,
                "list of {\"role\": ..., \"guarantees\": {...}, \"limits\": {...}}",
            ),
        ],
        example: "UPDATE_QUOTA quota_configs=[{\"role\": \"web\", \"limits\": {\"cpus\": \
                  {\"value\": 4}}}]",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "SET_QUOTA",
        api: Api::Master,
        summary: "Set a role's quota (deprecated: use UPDATE_QUOTA)",
        doc: "The older way to give a role guaranteed resources, one role at a time.",
        fields: &[req(
            "quota_request",
            "quota_request",
            FieldKind::Json,
            "{\"role\": ..., \"guarantee\": [Resource, ...], \"force\": false}",
        )],
        example: "SET_QUOTA quota_request={\"role\": \"web\", \"guarantee\": []}",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "REMOVE_QUOTA",
        api: Api::Master,
        summary: "Remove a role's quota (deprecated: use UPDATE_QUOTA)",
        doc: "The older way to drop a role's quota.",
        fields: &[req("role", "role", FieldKind::String, "the role to clear")],
        example: "REMOVE_QUOTA role=web",
        response: OK_EMPTY,
    },
    CallSpec {
        name: "TEARDOWN",
        api: Api::Master,
        summary: "Remove any framework, as an operator",
        doc: "Shuts down a framework by id: its tasks and executors are killed and it cannot \
              re-subscribe. Write `operator TEARDOWN framework_id=...` (bare TEARDOWN is the \
              scheduler's own).",
        fields: &[req(
            "framework_id",
            "framework_id",
            FieldKind::Id,
            "the framework to remove",
        )],
        example: "operator TEARDOWN framework_id=$framework_id",
        response: "200 OK with an empty body (400 when no such framework exists)",
    },
    CallSpec {
        name: "MARK_AGENT_GONE",
        api: Api::Master,
        summary: "Declare an agent permanently gone",
        doc: "Tells the master an agent will never come back: its tasks become \
              TASK_GONE_BY_OPERATOR (TASK_LOST for frameworks without the \
              PARTITION_AWARE capability), its offers are rescinded, frameworks get \
              a FAILURE event, and the agent may not re-register. An unknown agent \
              is 404.",
        fields: AGENT_ID_ONLY,
        example: "MARK_AGENT_GONE agent_id=$agents[0].id",
        response: OK_EMPTY,
    },
];
