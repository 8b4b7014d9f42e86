//! The master's operator API: its calls, its answers (GET_STATE and the rest) and the events
//! of an operator SUBSCRIBE stream. Quota passes through as JSON.

use super::{
    GetFlags, GetHealth, GetLoggingLevel, GetMetrics, GetMetricsCall, GetVersion, ListFiles,
    ListFilesCall, ReadFile, ReadFileCall, Role, SetLoggingLevel, WeightInfo,
};
use crate::mesos::v1::agent::{AgentCapability, AgentInfo, Attribute, DrainInfo, MachineId};
use crate::mesos::v1::executor::ExecutorInfo;
use crate::mesos::v1::framework::FrameworkInfo;
use crate::mesos::v1::ids::{AgentId, FrameworkId, ResourceProviderId};
use crate::mesos::v1::maintenance::{ClusterStatus, Schedule};
use crate::mesos::v1::master::MasterInfo;
use crate::mesos::v1::offer::{InverseOffer, Offer};
use crate::mesos::v1::operation::Operation;
use crate::mesos::v1::resource::{ReservationInfo, Resource};
use crate::mesos::v1::scheduler::OfferConstraints;
use crate::mesos::v1::task::{Task, TaskState, TaskStatus};
use crate::mesos::v1::time::{ProtoDuration, TimeInfo};
use crate::mesos::v1::values::Scalar;
use serde_json::Value;

crate::enumeration! {
    /// The kind of a master operator call.
    pub enum CallType {
        Unknown = "UNKNOWN",
        GetHealth = "GET_HEALTH",
        GetFlags = "GET_FLAGS",
        GetVersion = "GET_VERSION",
        GetMetrics = "GET_METRICS",
        GetLoggingLevel = "GET_LOGGING_LEVEL",
        SetLoggingLevel = "SET_LOGGING_LEVEL",
        ListFiles = "LIST_FILES",
        ReadFile = "READ_FILE",
        GetState = "GET_STATE",
        GetAgents = "GET_AGENTS",
        GetFrameworks = "GET_FRAMEWORKS",
        GetExecutors = "GET_EXECUTORS",
        GetOperations = "GET_OPERATIONS",
        GetTasks = "GET_TASKS",
        GetRoles = "GET_ROLES",
        GetWeights = "GET_WEIGHTS",
        UpdateWeights = "UPDATE_WEIGHTS",
        GetMaster = "GET_MASTER",
        Subscribe = "SUBSCRIBE",
        ReserveResources = "RESERVE_RESOURCES",
        UnreserveResources = "UNRESERVE_RESOURCES",
        CreateVolumes = "CREATE_VOLUMES",
        DestroyVolumes = "DESTROY_VOLUMES",
        GrowVolume = "GROW_VOLUME",
        ShrinkVolume = "SHRINK_VOLUME",
        GetMaintenanceStatus = "GET_MAINTENANCE_STATUS",
        GetMaintenanceSchedule = "GET_MAINTENANCE_SCHEDULE",
        UpdateMaintenanceSchedule = "UPDATE_MAINTENANCE_SCHEDULE",
        StartMaintenance = "START_MAINTENANCE",
        StopMaintenance = "STOP_MAINTENANCE",
        DrainAgent = "DRAIN_AGENT",
        DeactivateAgent = "DEACTIVATE_AGENT",
        ReactivateAgent = "REACTIVATE_AGENT",
        GetQuota = "GET_QUOTA",
        UpdateQuota = "UPDATE_QUOTA",
        SetQuota = "SET_QUOTA",
        RemoveQuota = "REMOVE_QUOTA",
        Teardown = "TEARDOWN",
        MarkAgentGone = "MARK_AGENT_GONE",
    }
}

crate::message! {
    /// UPDATE_WEIGHTS.
    pub struct UpdateWeights {
        rep weight_infos: WeightInfo,
    }
}

crate::message! {
    /// RESERVE_RESOURCES on an agent (refining `source` when given).
    pub struct ReserveResources {
        req agent_id: AgentId,
        rep source: Resource,
        rep resources: Resource,
    }
}

crate::message! {
    /// UNRESERVE_RESOURCES on an agent.
    pub struct UnreserveResources {
        req agent_id: AgentId,
        rep resources: Resource,
    }
}

crate::message! {
    /// CREATE_VOLUMES and DESTROY_VOLUMES on an agent.
    pub struct Volumes {
        req agent_id: AgentId,
        rep volumes: Resource,
    }
}

crate::message! {
    /// GROW_VOLUME.
    pub struct GrowVolume {
        opt agent_id: AgentId,
        req volume: Resource,
        req addition: Resource,
    }
}

crate::message! {
    /// SHRINK_VOLUME.
    pub struct ShrinkVolume {
        opt agent_id: AgentId,
        req volume: Resource,
        req subtract: Scalar,
    }
}

crate::message! {
    /// UPDATE_MAINTENANCE_SCHEDULE.
    pub struct UpdateMaintenanceSchedule {
        req schedule: Schedule,
    }
}

crate::message! {
    /// START_MAINTENANCE and STOP_MAINTENANCE of machines.
    pub struct Machines {
        rep machines: MachineId,
    }
}

crate::message! {
    /// DRAIN_AGENT.
    pub struct DrainAgent {
        req agent_id: AgentId,
        opt max_grace_period: ProtoDuration,
        def mark_gone: bool = false,
    }
}

crate::message! {
    /// An agent's id alone (DEACTIVATE_AGENT, REACTIVATE_AGENT, MARK_AGENT_GONE).
    pub struct AgentCall {
        req agent_id: AgentId,
    }
}

crate::message! {
    /// UPDATE_QUOTA; the quota configs pass through as JSON.
    pub struct UpdateQuota {
        opt force: bool,
        rep quota_configs: Value,
    }
}

crate::message! {
    /// SET_QUOTA (deprecated in Mesos); the request passes through as JSON.
    pub struct SetQuota {
        req quota_request: Value,
    }
}

crate::message! {
    /// REMOVE_QUOTA (deprecated in Mesos).
    pub struct RemoveQuota {
        req role: String,
    }
}

crate::message! {
    /// TEARDOWN of a framework.
    pub struct Teardown {
        req framework_id: FrameworkId,
    }
}

crate::message! {
    /// A master operator call.
    pub struct Call {
        opt kind "type": CallType,
        opt get_metrics: GetMetricsCall,
        opt set_logging_level: SetLoggingLevel,
        opt list_files: ListFilesCall,
        opt read_file: ReadFileCall,
        opt update_weights: UpdateWeights,
        opt reserve_resources: ReserveResources,
        opt unreserve_resources: UnreserveResources,
        opt create_volumes: Volumes,
        opt destroy_volumes: Volumes,
        opt grow_volume: GrowVolume,
        opt shrink_volume: ShrinkVolume,
        opt update_maintenance_schedule: UpdateMaintenanceSchedule,
        opt start_maintenance: Machines,
        opt stop_maintenance: Machines,
        opt drain_agent: DrainAgent,
        opt deactivate_agent: AgentCall,
        opt reactivate_agent: AgentCall,
        opt update_quota: UpdateQuota,
        opt teardown: Teardown,
        opt mark_agent_gone: AgentCall,
        /// Deprecated in Mesos.
        opt set_quota: SetQuota,
        /// Deprecated in Mesos.
        opt remove_quota: RemoveQuota,
    }
}

crate::enumeration! {
    /// The kind of a master operator answer.
    pub enum ResponseType {
        Unknown = "UNKNOWN",
        GetHealth = "GET_HEALTH",
        GetFlags = "GET_FLAGS",
        GetVersion = "GET_VERSION",
        GetMetrics = "GET_METRICS",
        GetLoggingLevel = "GET_LOGGING_LEVEL",
        ListFiles = "LIST_FILES",
        ReadFile = "READ_FILE",
        GetState = "GET_STATE",
        GetAgents = "GET_AGENTS",
        GetFrameworks = "GET_FRAMEWORKS",
        GetExecutors = "GET_EXECUTORS",
        GetOperations = "GET_OPERATIONS",
        GetTasks = "GET_TASKS",
        GetRoles = "GET_ROLES",
        GetWeights = "GET_WEIGHTS",
        GetMaster = "GET_MASTER",
        GetMaintenanceStatus = "GET_MAINTENANCE_STATUS",
        GetMaintenanceSchedule = "GET_MAINTENANCE_SCHEDULE",
        GetQuota = "GET_QUOTA",
    }
}

crate::message! {
    /// A resource provider: its kind, name and default reservations; its storage plugin
    /// passes through as JSON.
    pub struct ResourceProviderInfo {
        opt id: ResourceProviderId,
        rep attributes: Attribute,
        req kind "type": String,
        req name: String,
        rep default_reservations: ReservationInfo,
        opt storage: Value,
    }
}

crate::message! {
    /// A resource provider of an agent, with what it provides.
    pub struct ResourceProvider {
        req resource_provider_info: ResourceProviderInfo,
        rep total_resources: Resource,
    }
}

crate::message! {
    /// An agent as GET_AGENTS (and AGENT_ADDED) show it.
    pub struct Agent {
        req agent_info: AgentInfo,
        req active: bool,
        opt deactivated: bool,
        req version: String,
        opt pid: String,
        opt registered_time: TimeInfo,
        opt reregistered_time: TimeInfo,
        rep total_resources: Resource,
        rep allocated_resources: Resource,
        rep offered_resources: Resource,
        rep capabilities: AgentCapability,
        rep resource_providers: ResourceProvider,
        opt drain_info: DrainInfo,
        opt estimated_drain_start_time: TimeInfo,
    }
}

crate::message! {
    /// GET_AGENTS's answer: registered agents, and agents known from the registry that have
    /// not re-registered since a failover.
    pub struct GetAgents {
        rep agents: Agent,
        rep recovered_agents: AgentInfo,
    }
}

crate::message! {
    /// A framework as GET_FRAMEWORKS (and FRAMEWORK_ADDED/UPDATED) show it.
    pub struct Framework {
        req framework_info: FrameworkInfo,
        req active: bool,
        req connected: bool,
        /// Required in Mesos, but added in 1.4: optional here so older answers read.
        opt recovered: bool,
        opt registered_time: TimeInfo,
        opt reregistered_time: TimeInfo,
        opt unregistered_time: TimeInfo,
        rep offers: Offer,
        rep inverse_offers: InverseOffer,
        rep allocated_resources: Resource,
        rep offered_resources: Resource,
        opt offer_constraints: OfferConstraints,
    }
}

crate::message! {
    /// GET_FRAMEWORKS's answer.
    pub struct GetFrameworks {
        rep frameworks: Framework,
        rep completed_frameworks: Framework,
        /// Deprecated in Mesos.
        rep recovered_frameworks: FrameworkInfo,
    }
}

crate::message! {
    /// An executor and the agent it runs on.
    pub struct Executor {
        req executor_info: ExecutorInfo,
        req agent_id: AgentId,
    }
}

crate::message! {
    /// GET_EXECUTORS's answer.
    pub struct GetExecutors {
        rep executors: Executor,
        /// Deprecated in Mesos.
        rep orphan_executors: Executor,
    }
}

crate::message! {
    /// GET_OPERATIONS's answer.
    pub struct GetOperations {
        rep operations: Operation,
    }
}

crate::message! {
    /// GET_TASKS's answer.
    pub struct GetTasks {
        /// Deprecated in Mesos.
        rep pending_tasks: Task,
        rep tasks: Task,
        rep unreachable_tasks: Task,
        rep completed_tasks: Task,
        /// Deprecated in Mesos.
        rep orphan_tasks: Task,
    }
}

crate::message! {
    /// GET_ROLES's answer.
    pub struct GetRoles {
        rep roles: Role,
    }
}

crate::message! {
    /// GET_WEIGHTS's answer.
    pub struct GetWeights {
        rep weight_infos: WeightInfo,
    }
}

crate::message! {
    /// GET_MASTER's answer; times are seconds since the epoch.
    pub struct GetMaster {
        opt master_info: MasterInfo,
        opt start_time: f64,
        opt elected_time: f64,
    }
}

crate::message! {
    /// GET_STATE's answer: tasks, executors, frameworks and agents at once.
    pub struct GetState {
        opt get_tasks: GetTasks,
        opt get_executors: GetExecutors,
        opt get_frameworks: GetFrameworks,
        opt get_agents: GetAgents,
    }
}

crate::message! {
    /// GET_MAINTENANCE_STATUS's answer.
    pub struct GetMaintenanceStatus {
        req status: ClusterStatus,
    }
}

crate::message! {
    /// GET_MAINTENANCE_SCHEDULE's answer.
    pub struct GetMaintenanceSchedule {
        req schedule: Schedule,
    }
}

crate::message! {
    /// GET_QUOTA's answer; the status passes through as JSON.
    pub struct GetQuota {
        req status: Value,
    }
}

crate::message! {
    /// A master operator answer.
    pub struct Response {
        opt kind "type": ResponseType,
        opt get_health: GetHealth,
        opt get_flags: GetFlags,
        opt get_version: GetVersion,
        opt get_metrics: GetMetrics,
        opt get_logging_level: GetLoggingLevel,
        opt list_files: ListFiles,
        opt read_file: ReadFile,
        opt get_state: GetState,
        opt get_agents: GetAgents,
        opt get_frameworks: GetFrameworks,
        opt get_executors: GetExecutors,
        opt get_operations: GetOperations,
        opt get_tasks: GetTasks,
        opt get_roles: GetRoles,
        opt get_weights: GetWeights,
        opt get_master: GetMaster,
        opt get_maintenance_status: GetMaintenanceStatus,
        opt get_maintenance_schedule: GetMaintenanceSchedule,
        opt get_quota: GetQuota,
    }
}

crate::enumeration! {
    /// The kind of an operator event.
    pub enum EventType {
        Unknown = "UNKNOWN",
        Subscribed = "SUBSCRIBED",
        TaskAdded = "TASK_ADDED",
        TaskUpdated = "TASK_UPDATED",
        AgentAdded = "AGENT_ADDED",
        AgentRemoved = "AGENT_REMOVED",
        FrameworkAdded = "FRAMEWORK_ADDED",
        FrameworkUpdated = "FRAMEWORK_UPDATED",
        FrameworkRemoved = "FRAMEWORK_REMOVED",
        Heartbeat = "HEARTBEAT",
    }
}

crate::message! {
    /// SUBSCRIBED: the whole state, then events.
    pub struct Subscribed {
        opt get_state: GetState,
        opt heartbeat_interval_seconds: f64,
    }
}

crate::message! {
    /// TASK_ADDED.
    pub struct TaskAdded {
        req task: Task,
    }
}

crate::message! {
    /// TASK_UPDATED: the task's latest status and state.
    pub struct TaskUpdated {
        req framework_id: FrameworkId,
        req status: TaskStatus,
        req state: TaskState,
    }
}

crate::message! {
    /// FRAMEWORK_ADDED and FRAMEWORK_UPDATED.
    pub struct FrameworkEvent {
        req framework: Framework,
    }
}

crate::message! {
    /// FRAMEWORK_REMOVED.
    pub struct FrameworkRemoved {
        req framework_info: FrameworkInfo,
    }
}

crate::message! {
    /// AGENT_ADDED.
    pub struct AgentAdded {
        req agent: Agent,
    }
}

crate::message! {
    /// AGENT_REMOVED.
    pub struct AgentRemoved {
        req agent_id: AgentId,
    }
}

crate::message! {
    /// An event of an operator SUBSCRIBE stream.
    pub struct Event {
        opt kind "type": EventType,
        opt subscribed: Subscribed,
        opt task_added: TaskAdded,
        opt task_updated: TaskUpdated,
        opt agent_added: AgentAdded,
        opt agent_removed: AgentRemoved,
        opt framework_added: FrameworkEvent,
        opt framework_updated: FrameworkEvent,
        opt framework_removed: FrameworkRemoved,
    }
}
