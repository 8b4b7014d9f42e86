//! Field constructors and the field tables that several calls share.

use super::{Field, FieldKind};

/// An optional field.
pub(super) const fn opt(
    name: &'static str,
    path: &'static str,
    kind: FieldKind,
    doc: &'static str,
) -> Field {
    Field {
        name,
        path,
        kind,
        required: false,
        doc,
    }
}

/// A required field.
pub(super) const fn req(
    name: &'static str,
    path: &'static str,
    kind: FieldKind,
    doc: &'static str,
) -> Field {
    Field {
        name,
        path,
        kind,
        required: true,
        doc,
    }
}

pub(super) const GET_METRICS_FIELDS: &[Field] = &[opt(
    "timeout",
    "timeout",
    FieldKind::Duration,
    "how long to wait for slow metrics before answering without them",
)];

pub(super) const SET_LOGGING_LEVEL_FIELDS: &[Field] = &[
    req(
        "level",
        "level",
        FieldKind::Integer,
        "glog verbosity level to switch to (0 is the quietest)",
    ),
    req(
        "duration",
        "duration",
        FieldKind::Duration,
        "how long the new level lasts before reverting",
    ),
];

pub(super) const LIST_FILES_FIELDS: &[Field] = &[req(
    "path",
    "path",
    FieldKind::String,
    "directory (or virtual path) to list",
)];

pub(super) const READ_FILE_FIELDS: &[Field] = &[
    req(
        "path",
        "path",
        FieldKind::String,
        "file (or virtual path) to read",
    ),
    req(
        "offset",
        "offset",
        FieldKind::Integer,
        "byte position to start reading at",
    ),
    opt(
        "length",
        "length",
        FieldKind::Integer,
        "most bytes to return; leave out to read to the end",
    ),
];

pub(super) const AGENT_ID_ONLY: &[Field] =
    &[req("agent_id", "agent_id", FieldKind::Id, "the agent's id")];

pub(super) const CONTAINER_ID_ONLY: &[Field] = &[req(
    "container_id",
    "container_id",
    FieldKind::Id,
    "the container's id (an object with `parent` names a nested container)",
)];

pub(super) const KILL_CONTAINER_FIELDS: &[Field] = &[
    req(
        "container_id",
        "container_id",
        FieldKind::Id,
        "the container's id (an object with `parent` names a nested container)",
    ),
    opt(
        "signal",
        "signal",
        FieldKind::Integer,
        "signal number to send; SIGKILL when left out",
    ),
];

pub(super) const NESTED_LAUNCH_FIELDS: &[Field] = &[
    req(
        "container_id",
        "container_id",
        FieldKind::Id,
        "id for the new container, as an object whose `parent` is the enclosing container",
    ),
    opt(
        "command",
        "command",
        FieldKind::Json,
        "CommandInfo to run, e.g. {\"value\": \"ls -l\"}",
    ),
    opt(
        "container",
        "container",
        FieldKind::Json,
        "ContainerInfo (image, volumes, ...)",
    ),
];
