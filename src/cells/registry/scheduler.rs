//! The v1 scheduler API calls (`POST /api/v1/scheduler`).

use super::common::{opt, req};
use super::{Api, CallSpec, Field, FieldKind};

const ACCEPTED: &str = "202 Accepted with an empty body; the outcome arrives later as events";

/// The FrameworkInfo keys SUBSCRIBE and UPDATE_FRAMEWORK share.
const FRAMEWORK_INFO_FIELDS: &[Field] = &[
    req(
        "name",
        "framework_info.name",
        FieldKind::String,
        "the framework's name, as the web UI and state show it",
    ),
    req(
        "user",
        "framework_info.user",
        FieldKind::String,
        "Unix user that the framework's tasks run as by default",
    ),
    opt(
        "id",
        "framework_info.id",
        FieldKind::Id,
        "an existing framework id, to fail over to this scheduler and keep its tasks",
    ),
    opt(
        "roles",
        "framework_info.roles",
        FieldKind::StringList,
        "roles to receive resources for (needs the MULTI_ROLE capability)",
    ),
    opt(
        "role",
        "framework_info.role",
        FieldKind::String,
        "the single role of a framework without MULTI_ROLE (deprecated; \"*\" by default)",
    ),
    opt(
        "checkpoint",
        "framework_info.checkpoint",
        FieldKind::Bool,
        "whether agents persist the framework's task state so tasks survive agent restarts",
    ),
    opt(
        "failover_timeout",
        "framework_info.failover_timeout",
        FieldKind::Seconds,
        "how long the master keeps the framework's tasks after it disconnects",
    ),
    opt(
        "hostname",
        "framework_info.hostname",
        FieldKind::String,
        "host the scheduler runs on",
    ),
    opt(
        "principal",
        "framework_info.principal",
        FieldKind::String,
        "principal used for authentication and authorization",
    ),
    opt(
        "webui_url",
        "framework_info.webui_url",
        FieldKind::String,
        "link to the framework's own web UI",
    ),
    opt(
        "capabilities",
        "framework_info.capabilities",
        FieldKind::Capabilities,
        "capability names such as MULTI_ROLE, PARTITION_AWARE, TASK_KILLING_STATE, GPU_RESOURCES",
    ),
    opt(
        "labels",
        "framework_info.labels",
        FieldKind::Json,
        "free-form labels: {\"labels\": [{\"key\": ..., \"value\": ...}]}",
    ),
    opt(
        "offer_filters",
        "framework_info.offer_filters",
        FieldKind::Json,
        "per-role minimum offer sizes: {\"role\": {\"min_allocatable_resources\": ...}}",
    ),
    opt(
        "suppressed_roles",
        "suppressed_roles",
        FieldKind::StringList,
        "roles for which offers start suppressed",
    ),
    opt(
        "offer_constraints",
        "offer_constraints",
        FieldKind::Json,
        "OfferConstraints: attribute rules that agents must meet to be offered",
    ),
];

const REFUSE_SECONDS: Field = opt(
    "refuse_seconds",
    "filters.refuse_seconds",
    FieldKind::Seconds,
    "how long the master waits before offering the unused resources again (5s by default)",
);

pub(super) const CALLS: &[CallSpec] = &[
    CallSpec {
        name: "SUBSCRIBE",
        api: Api::Scheduler,
        summary: "Register a framework and open its event stream",
        doc: "Registers a framework with the master and keeps a streaming connection open. \
              The kernel reads the stream in the background, remembers the framework id and \
              stream id, watches heartbeats and acknowledges updates, so later calls need \
              neither. With id= (or framework_id=; $framework_id works) it re-subscribes an \
              existing framework, within its failover_timeout: the kernel sets both ids as \
              Mesos wants, the master hands the framework to this session (a client that \
              had it gets ERROR \"Framework failed over\"), and the kernel reconciles so \
              $tasks holds the framework's tasks. A refused SUBSCRIBE keeps the running \
              session.",
        fields: FRAMEWORK_INFO_FIELDS,
        example: "SUBSCRIBE name=\"Demo\" user=ubuntu roles=[\"*\"] failover_timeout=3600",
        response: "200 OK with a RecordIO event stream: SUBSCRIBED (framework_id, \
                   heartbeat_interval_seconds), then HEARTBEAT, OFFERS, UPDATE, ...",
    },
    CallSpec {
        name: "TEARDOWN",
        api: Api::Scheduler,
        summary: "Remove the framework and kill all its tasks",
        doc: "Ends the framework for good: the master kills its tasks and executors, \
              releases its resources and closes the event stream. The framework id cannot \
              be used again.",
        fields: &[],
        example: "TEARDOWN",
        response: ACCEPTED,
    },
    CallSpec {
        name: "ACCEPT",
        api: Api::Scheduler,
        summary: "Use offers to launch tasks or change resources",
        doc: "Accepts one or more offers (all from the same agent) and applies the given \
              operations in order: LAUNCH, LAUNCH_GROUP, RESERVE, UNRESERVE, CREATE, DESTROY \
              and so on. Offer resources that no operation uses go back to the master, \
              which holds them back from this framework for refuse_seconds.",
        fields: &[
            req(
                "offer_ids",
                "offer_ids",
                FieldKind::IdList,
                "ids of the offers to accept",
            ),
            opt(
                "operations",
                "operations",
                FieldKind::Json,
                "list of Offer.Operation objects, e.g. [{\"type\": \"LAUNCH\", \"launch\": {...}}]",
            ),
            REFUSE_SECONDS,
        ],
        example: "ACCEPT offer_ids=[$offers[0].id] operations=[{\"type\": \"LAUNCH\", \
                  \"launch\": {\"task_infos\": [$task]}}] refuse_seconds=5",
        response: "202 Accepted; launched tasks report through UPDATE events",
    },
    CallSpec {
        name: "DECLINE",
        api: Api::Scheduler,
        summary: "Hand offers back unused",
        doc: "Returns offers to the master without using them. The same resources are not \
              offered to this framework again until refuse_seconds have passed.",
        fields: &[
            req(
                "offer_ids",
                "offer_ids",
                FieldKind::IdList,
                "ids of the offers to decline",
            ),
            REFUSE_SECONDS,
        ],
        example: "DECLINE offer_ids=[$offers[0].id] refuse_seconds=30",
        response: ACCEPTED,
    },
    CallSpec {
        name: "ACCEPT_INVERSE_OFFERS",
        api: Api::Scheduler,
        summary: "Agree to give resources back for maintenance",
        doc: "Tells the master the framework can vacate the resources named by these inverse \
              offers before the agent's announced unavailability.",
        fields: &[
            req(
                "inverse_offer_ids",
                "inverse_offer_ids",
                FieldKind::IdList,
                "ids of the inverse offers to accept",
            ),
            REFUSE_SECONDS,
        ],
        example: "ACCEPT_INVERSE_OFFERS inverse_offer_ids=[$events[-1].inverse_offers.inverse_offers[0].id]",
        response: ACCEPTED,
    },
    CallSpec {
        name: "DECLINE_INVERSE_OFFERS",
        api: Api::Scheduler,
        summary: "Say the resources cannot be vacated in time",
        doc: "Tells the master the framework cannot safely release the resources named by \
              these inverse offers before the maintenance window.",
        fields: &[
            req(
                "inverse_offer_ids",
                "inverse_offer_ids",
                FieldKind::IdList,
                "ids of the inverse offers to decline",
            ),
            REFUSE_SECONDS,
        ],
        example: "DECLINE_INVERSE_OFFERS inverse_offer_ids=[\"4f2c-O7\"]",
        response: ACCEPTED,
    },
    CallSpec {
        name: "REVIVE",
        api: Api::Scheduler,
        summary: "Ask for offers again",
        doc: "Clears the filters set by earlier DECLINE/ACCEPT calls and lifts SUPPRESS, \
              for all of the framework's roles or only those given.",
        fields: &[opt(
            "roles",
            "roles",
            FieldKind::StringList,
            "roles to revive; all roles when left out",
        )],
        example: "REVIVE",
        response: ACCEPTED,
    },
    CallSpec {
        name: "SUPPRESS",
        api: Api::Scheduler,
        summary: "Stop receiving offers",
        doc: "Asks the master to stop sending offers, for all of the framework's roles or \
              only those given, until a REVIVE.",
        fields: &[opt(
            "roles",
            "roles",
            FieldKind::StringList,
            "roles to suppress; all roles when left out",
        )],
        example: "SUPPRESS roles=[\"web\"]",
        response: ACCEPTED,
    },
    CallSpec {
        name: "KILL",
        api: Api::Scheduler,
        summary: "Kill a task",
        doc: "Asks for a task to be killed. The command executor sends SIGTERM, then SIGKILL \
              after the grace period; the result arrives as an UPDATE (TASK_KILLED). A task \
              the master does not know gives a TASK_LOST update.",
        fields: &[
            req("task_id", "task_id", FieldKind::Id, "the task to kill"),
            opt(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "the agent running the task",
            ),
            opt(
                "grace_period",
                "kill_policy.grace_period",
                FieldKind::Duration,
                "time between SIGTERM and SIGKILL, overriding the task's kill policy",
            ),
        ],
        example: "KILL task_id=web agent_id=$offers[0].agent_id",
        response: "202 Accepted; the task's end arrives as an UPDATE event",
    },
    CallSpec {
        name: "SHUTDOWN",
        api: Api::Scheduler,
        summary: "Stop a custom executor",
        doc: "Asks an agent to shut down one of the framework's executors; the executor \
              should kill its tasks and exit, or the agent destroys its container after a \
              grace period.",
        fields: &[
            req(
                "executor_id",
                "executor_id",
                FieldKind::Id,
                "the executor to stop",
            ),
            req(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "the agent running it",
            ),
        ],
        example: "SHUTDOWN executor_id=my-executor agent_id=$agents[0].id",
        response: ACCEPTED,
    },
    CallSpec {
        name: "ACKNOWLEDGE",
        api: Api::Scheduler,
        summary: "Confirm receipt of a task status update",
        doc: "Confirms an UPDATE that carried a uuid, so the agent stops resending it and \
              forwards the task's next update. The kernel does this by itself; only updates \
              with a uuid may be acknowledged.",
        fields: &[
            req(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "agent from the update's status",
            ),
            req(
                "task_id",
                "task_id",
                FieldKind::Id,
                "task from the update's status",
            ),
            req(
                "uuid",
                "uuid",
                FieldKind::String,
                "the status uuid exactly as received (already base64)",
            ),
        ],
        example: "ACKNOWLEDGE agent_id=$u.agent_id task_id=$u.task_id uuid=$u.uuid",
        response: ACCEPTED,
    },
    CallSpec {
        name: "ACKNOWLEDGE_OPERATION_STATUS",
        api: Api::Scheduler,
        summary: "Confirm receipt of an operation status update",
        doc: "Confirms an UPDATE_OPERATION_STATUS event for an operation launched with an \
              operation id, so it is not resent.",
        fields: &[
            opt(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "agent the operation ran on",
            ),
            opt(
                "resource_provider_id",
                "resource_provider_id",
                FieldKind::Id,
                "resource provider the operation ran on, if any",
            ),
            req(
                "uuid",
                "uuid",
                FieldKind::String,
                "the status uuid exactly as received (already base64)",
            ),
            req(
                "operation_id",
                "operation_id",
                FieldKind::Id,
                "the operation's id",
            ),
        ],
        example: "ACKNOWLEDGE_OPERATION_STATUS operation_id=op-1 agent_id=$s.agent_id uuid=$s.uuid.value",
        response: ACCEPTED,
    },
    CallSpec {
        name: "RECONCILE",
        api: Api::Scheduler,
        summary: "Ask for the latest state of tasks",
        doc: "Makes the master send an UPDATE with the latest known state of each listed \
              task, or of every task of the framework when the list is empty. These updates \
              carry no uuid and must not be acknowledged.",
        fields: &[opt(
            "tasks",
            "tasks",
            FieldKind::Json,
            "list of {\"task_id\": {...}, \"agent_id\": {...}}; empty or left out for all tasks",
        )],
        example: "RECONCILE tasks=[{\"task_id\": {\"value\": \"web\"}}]",
        response: "202 Accepted; answers arrive as UPDATE events (reason REASON_RECONCILIATION)",
    },
    CallSpec {
        name: "RECONCILE_OPERATIONS",
        api: Api::Scheduler,
        summary: "Ask for the latest state of operations",
        doc: "Asks for the latest status of the listed operations, or of all the \
              framework's operations when the list is empty.",
        fields: &[opt(
            "operations",
            "operations",
            FieldKind::Json,
            "list of {\"operation_id\": {...}, \"agent_id\": {...}}; empty for all",
        )],
        example: "RECONCILE_OPERATIONS",
        response: "202 Accepted; answers arrive as UPDATE_OPERATION_STATUS events",
    },
    CallSpec {
        name: "MESSAGE",
        api: Api::Scheduler,
        summary: "Send bytes to an executor",
        doc: "Passes an opaque message to one of the framework's executors. Mesos does not \
              interpret it and does not guarantee delivery.",
        fields: &[
            req(
                "agent_id",
                "agent_id",
                FieldKind::Id,
                "agent running the executor",
            ),
            req(
                "executor_id",
                "executor_id",
                FieldKind::Id,
                "the executor to deliver to",
            ),
            req(
                "data",
                "data",
                FieldKind::Bytes,
                "the message; text is base64-encoded for you",
            ),
        ],
        example: "MESSAGE agent_id=$agents[0].id executor_id=web data=\"hello\"",
        response: ACCEPTED,
    },
    CallSpec {
        name: "REQUEST",
        api: Api::Scheduler,
        summary: "Ask the allocator for specific resources",
        doc: "Sends resource requests to the allocator. The built-in allocator ignores them, \
              so this rarely has any effect.",
        fields: &[opt(
            "requests",
            "requests",
            FieldKind::Json,
            "list of {\"agent_id\": {...}, \"resources\": [...]}",
        )],
        example: "REQUEST requests=[{\"resources\": []}]",
        response: ACCEPTED,
    },
    CallSpec {
        name: "UPDATE_FRAMEWORK",
        api: Api::Scheduler,
        summary: "Change the framework's info without re-subscribing",
        doc: "Replaces the subscribed framework's FrameworkInfo (roles, capabilities, \
              failover timeout, ...) in place. The id must match the subscribed framework; \
              fields that cannot change are rejected by the master.",
        fields: FRAMEWORK_INFO_FIELDS,
        example: "UPDATE_FRAMEWORK id=$framework_id name=\"Demo\" user=ubuntu roles=[\"web\", \"batch\"]",
        response: "200 OK with an empty body",
    },
];
