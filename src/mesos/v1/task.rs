//! Tasks: what a framework asks to run (`TaskInfo`), what the master keeps of it (`Task`),
//! and how it goes (`TaskStatus`: every state, who said so, and why).

use super::checks::{CheckInfo, CheckStatusInfo, HealthCheck, KillPolicy};
use super::command::CommandInfo;
use super::container::{ContainerInfo, ContainerStatus};
use super::discovery::DiscoveryInfo;
use super::executor::ExecutorInfo;
use super::ids::{AgentId, ExecutorId, FrameworkId, TaskId};
use super::labels::Labels;
use super::resource::Resource;
use super::time::{DurationInfo, TimeInfo};
use super::values::Scalar;

crate::enumeration! {
    /// A task's state, in the order a task goes through them.
    pub enum TaskState {
        /// Accepted by the master, not yet on its way to the agent's executor.
        Staging = "TASK_STAGING",
        Starting = "TASK_STARTING",
        Running = "TASK_RUNNING",
        /// Being killed (for frameworks with the TASK_KILLING_STATE capability).
        Killing = "TASK_KILLING",
        Finished = "TASK_FINISHED",
        Failed = "TASK_FAILED",
        Killed = "TASK_KILLED",
        /// Refused before it ran (invalid, unauthorized).
        Error = "TASK_ERROR",
        /// Lost (for frameworks that are not partition-aware).
        Lost = "TASK_LOST",
        Dropped = "TASK_DROPPED",
        Unreachable = "TASK_UNREACHABLE",
        Gone = "TASK_GONE",
        GoneByOperator = "TASK_GONE_BY_OPERATOR",
        Unknown = "TASK_UNKNOWN",
    }
}

impl TaskState {
    /// Whether the task has ended for good (Mesos's `protobuf::isTerminalState`).
    /// TASK_UNREACHABLE and TASK_UNKNOWN are not: the task may still come back.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskState::Finished
                | TaskState::Failed
                | TaskState::Killed
                | TaskState::Error
                | TaskState::Lost
                | TaskState::Dropped
                | TaskState::Gone
                | TaskState::GoneByOperator
        )
    }

    /// A state written with or without its `TASK_` prefix (`RUNNING`, `TASK_RUNNING`).
    pub fn from_loose(text: &str) -> TaskState {
        match TaskState::from_name(text) {
            TaskState::Other(_) if !text.starts_with("TASK_") => {
                match TaskState::from_name(&format!("TASK_{text}")) {
                    TaskState::Other(_) => TaskState::Other(text.to_string()),
                    known => known,
                }
            }
            state => state,
        }
    }
}

crate::enumeration! {
    /// Who sent a status update.
    pub enum Source {
        Master = "SOURCE_MASTER",
        Agent = "SOURCE_AGENT",
        Executor = "SOURCE_EXECUTOR",
    }
}

crate::enumeration! {
    /// Why a task is in its state.
    pub enum Reason {
        CommandExecutorFailed = "REASON_COMMAND_EXECUTOR_FAILED",
        ContainerLaunchFailed = "REASON_CONTAINER_LAUNCH_FAILED",
        ContainerLimitation = "REASON_CONTAINER_LIMITATION",
        ContainerLimitationDisk = "REASON_CONTAINER_LIMITATION_DISK",
        ContainerLimitationMemory = "REASON_CONTAINER_LIMITATION_MEMORY",
        ContainerPreempted = "REASON_CONTAINER_PREEMPTED",
        ContainerUpdateFailed = "REASON_CONTAINER_UPDATE_FAILED",
        MaxCompletionTimeReached = "REASON_MAX_COMPLETION_TIME_REACHED",
        ExecutorRegistrationTimeout = "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        ExecutorReregistrationTimeout = "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
        ExecutorTerminated = "REASON_EXECUTOR_TERMINATED",
        ExecutorUnregistered = "REASON_EXECUTOR_UNREGISTERED",
        FrameworkRemoved = "REASON_FRAMEWORK_REMOVED",
        GcError = "REASON_GC_ERROR",
        InvalidFrameworkId = "REASON_INVALID_FRAMEWORKID",
        InvalidOffers = "REASON_INVALID_OFFERS",
        IoSwitchboardExited = "REASON_IO_SWITCHBOARD_EXITED",
        MasterDisconnected = "REASON_MASTER_DISCONNECTED",
        Reconciliation = "REASON_RECONCILIATION",
        ResourcesUnknown = "REASON_RESOURCES_UNKNOWN",
        AgentDisconnected = "REASON_AGENT_DISCONNECTED",
        AgentDraining = "REASON_AGENT_DRAINING",
        AgentRemoved = "REASON_AGENT_REMOVED",
        AgentRemovedByOperator = "REASON_AGENT_REMOVED_BY_OPERATOR",
        AgentReregistered = "REASON_AGENT_REREGISTERED",
        AgentRestarted = "REASON_AGENT_RESTARTED",
        AgentUnknown = "REASON_AGENT_UNKNOWN",
        TaskKilledDuringLaunch = "REASON_TASK_KILLED_DURING_LAUNCH",
        TaskCheckStatusUpdated = "REASON_TASK_CHECK_STATUS_UPDATED",
        TaskHealthCheckStatusUpdated = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        TaskGroupInvalid = "REASON_TASK_GROUP_INVALID",
        TaskGroupUnauthorized = "REASON_TASK_GROUP_UNAUTHORIZED",
        TaskInvalid = "REASON_TASK_INVALID",
        TaskUnauthorized = "REASON_TASK_UNAUTHORIZED",
        TaskUnknown = "REASON_TASK_UNKNOWN",
    }
}

crate::message! {
    /// The resources a container went over, with TASK_FAILED and a limitation reason.
    pub struct TaskResourceLimitation {
        rep resources: Resource,
    }
}

crate::message! {
    /// One status update of a task. `uuid` (base64) is set on updates that must be
    /// acknowledged; the master's own updates (reconciliation, lost agents) have none.
    pub struct TaskStatus {
        req task_id: TaskId,
        req state: TaskState,
        opt message: String,
        opt source: Source,
        opt reason: Reason,
        /// Base64 (for Docker tasks, the container's `docker inspect`).
        opt data: String,
        opt agent_id: AgentId,
        opt executor_id: ExecutorId,
        /// Seconds since the epoch.
        opt timestamp: f64,
        opt uuid: String,
        opt healthy: bool,
        opt check_status: CheckStatusInfo,
        opt labels: Labels,
        opt container_status: ContainerStatus,
        opt unreachable_time: TimeInfo,
        opt limitation: TaskResourceLimitation,
    }
}

crate::message! {
    /// A task as a framework launches it: a command, a container, or an executor of its own.
    pub struct TaskInfo {
        req name: String,
        req task_id: TaskId,
        req agent_id: AgentId,
        rep resources: Resource,
        opt executor: ExecutorInfo,
        opt command: CommandInfo,
        opt container: ContainerInfo,
        opt health_check: HealthCheck,
        opt check: CheckInfo,
        opt kill_policy: KillPolicy,
        opt data: String,
        opt labels: Labels,
        opt discovery: DiscoveryInfo,
        opt max_completion_time: DurationInfo,
        map limits: Scalar,
    }
}

crate::message! {
    /// Tasks launched together under one executor (LAUNCH_GROUP).
    pub struct TaskGroupInfo {
        rep tasks: TaskInfo,
    }
}

crate::message! {
    /// A task as the master (and the operator API) keeps it: its info, state and statuses.
    pub struct Task {
        req name: String,
        req task_id: TaskId,
        req framework_id: FrameworkId,
        opt executor_id: ExecutorId,
        req agent_id: AgentId,
        req state: TaskState,
        rep resources: Resource,
        rep statuses: TaskStatus,
        opt status_update_state: TaskState,
        opt status_update_uuid: String,
        opt labels: Labels,
        opt discovery: DiscoveryInfo,
        opt container: ContainerInfo,
        opt health_check: HealthCheck,
        opt kill_policy: KillPolicy,
        opt user: String,
        map limits: Scalar,
    }
}

impl TaskStatus {
    pub fn new(task_id: impl Into<TaskId>, state: TaskState) -> TaskStatus {
        TaskStatus {
            task_id: task_id.into(),
            state,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_state_is_spelled_as_mesos_spells_it() {
        let names: Vec<&str> = TaskState::ALL.iter().map(TaskState::as_str).collect();
        assert_eq!(
            names,
            [
                "TASK_STAGING",
                "TASK_STARTING",
                "TASK_RUNNING",
                "TASK_KILLING",
                "TASK_FINISHED",
                "TASK_FAILED",
                "TASK_KILLED",
                "TASK_ERROR",
                "TASK_LOST",
                "TASK_DROPPED",
                "TASK_UNREACHABLE",
                "TASK_GONE",
                "TASK_GONE_BY_OPERATOR",
                "TASK_UNKNOWN"
            ]
        );
        for s in TaskState::ALL {
            assert_eq!(&TaskState::from_name(s.as_str()), s);
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
        }
        let terminal: Vec<&str> = TaskState::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(TaskState::as_str)
            .collect();
        assert_eq!(
            terminal,
            [
                "TASK_FINISHED",
                "TASK_FAILED",
                "TASK_KILLED",
                "TASK_ERROR",
                "TASK_LOST",
                "TASK_DROPPED",
                "TASK_GONE",
                "TASK_GONE_BY_OPERATOR"
            ]
        );
        assert_eq!(TaskState::from_loose("RUNNING"), TaskState::Running);
        assert_eq!(TaskState::from_loose("TASK_RUNNING"), TaskState::Running);
        assert_eq!(
            TaskState::from_loose("WEIRD"),
            TaskState::Other("WEIRD".into())
        );
        assert!(!TaskState::Other("TASK_NEW".into()).is_terminal());
    }

    #[test]
    fn reasons_and_sources() {
        assert_eq!(Reason::ALL.len(), 35);
        for r in Reason::ALL {
            assert!(r.as_str().starts_with("REASON_"));
            assert_eq!(&Reason::from_name(r.as_str()), r);
        }
        assert_eq!(
            Reason::InvalidFrameworkId.as_str(),
            "REASON_INVALID_FRAMEWORKID"
        );
        let names: Vec<&str> = Source::ALL.iter().map(Source::as_str).collect();
        assert_eq!(names, ["SOURCE_MASTER", "SOURCE_AGENT", "SOURCE_EXECUTOR"]);
    }

    #[test]
    fn a_status_from_a_newer_mesos_keeps_what_it_does_not_know() {
        let v = json!({"task_id": {"value": "t"}, "state": "TASK_SUSPENDED",
                       "reason": "REASON_SOMETHING_NEW", "source": "SOURCE_AGENT",
                       "uuid": "AAAA", "future": {"x": 1}});
        let s: TaskStatus = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(s.state, TaskState::Other("TASK_SUSPENDED".into()));
        assert_eq!(serde_json::to_value(&s).unwrap(), v);
    }
}
