//! The v1 operator API (`POST /api/v1` on a master or an agent): what both sides share
//! here, the master's calls, answers and events in `master`, the agent's in `agent`.

use super::ids::FrameworkId;
use super::resource::Resource;
use super::time::{DurationInfo, TimeInfo};

pub mod agent;
pub mod master;

crate::message! {
    /// A Mesos build's version.
    pub struct VersionInfo {
        req version: String,
        opt build_date: String,
        opt build_time: f64,
        opt build_user: String,
        opt git_sha: String,
        opt git_branch: String,
        opt git_tag: String,
    }
}

crate::message! {
    /// A command-line flag and its value.
    pub struct Flag {
        req name: String,
        opt value: String,
    }
}

crate::message! {
    /// A metric and its value.
    pub struct Metric {
        req name: String,
        opt value: f64,
    }
}

crate::message! {
    /// A file in a listing; `mode` is the `st_mode` number.
    pub struct FileInfo {
        req path: String,
        opt nlink: i32,
        opt size: u64,
        opt mtime: TimeInfo,
        opt mode: u32,
        opt uid: String,
        opt gid: String,
    }
}

crate::message! {
    /// A role: its weight, frameworks and resources.
    pub struct Role {
        req name: String,
        req weight: f64,
        rep frameworks: FrameworkId,
        rep resources: Resource,
    }
}

crate::message! {
    /// A role's weight.
    pub struct WeightInfo {
        req weight: f64,
        opt role: String,
    }
}

crate::message! {
    /// GET_METRICS: how long to wait for slow metrics.
    pub struct GetMetricsCall {
        opt timeout: DurationInfo,
    }
}

crate::message! {
    /// SET_LOGGING_LEVEL: a glog level for a while.
    pub struct SetLoggingLevel {
        req level: u32,
        req duration: DurationInfo,
    }
}

crate::message! {
    /// LIST_FILES: a directory or virtual path.
    pub struct ListFilesCall {
        req path: String,
    }
}

crate::message! {
    /// READ_FILE: bytes of a file from `offset`.
    pub struct ReadFileCall {
        req path: String,
        req offset: u64,
        opt length: u64,
    }
}

crate::message! {
    /// GET_HEALTH's answer.
    pub struct GetHealth {
        req healthy: bool,
    }
}

crate::message! {
    /// GET_FLAGS's answer.
    pub struct GetFlags {
        rep flags: Flag,
    }
}

crate::message! {
    /// GET_VERSION's answer.
    pub struct GetVersion {
        req version_info: VersionInfo,
    }
}

crate::message! {
    /// GET_METRICS's answer.
    pub struct GetMetrics {
        rep metrics: Metric,
    }
}

crate::message! {
    /// GET_LOGGING_LEVEL's answer.
    pub struct GetLoggingLevel {
        req level: u32,
    }
}

crate::message! {
    /// LIST_FILES's answer.
    pub struct ListFiles {
        rep file_infos: FileInfo,
    }
}

crate::message! {
    /// READ_FILE's answer: the file's size and the bytes read (base64).
    pub struct ReadFile {
        req size: u64,
        req data: String,
    }
}
