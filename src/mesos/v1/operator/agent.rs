//! An agent's operator API: its calls (containers among them) and its answers.

use super::master::{ResourceProvider, ResourceProviderInfo};
use super::{
    GetFlags, GetHealth, GetLoggingLevel, GetMetrics, GetMetricsCall, GetVersion, ListFiles,
    ListFilesCall, ReadFile, ReadFileCall, SetLoggingLevel,
};
use crate::mesos::v1::agent::{AgentInfo, DrainConfig};
use crate::mesos::v1::command::CommandInfo;
use crate::mesos::v1::container::{ContainerInfo, ContainerStatus, Image, TtyInfo};
use crate::mesos::v1::executor::ExecutorInfo;
use crate::mesos::v1::framework::FrameworkInfo;
use crate::mesos::v1::ids::{ContainerId, ExecutorId, FrameworkId, ResourceProviderId};
use crate::mesos::v1::operation::Operation;
use crate::mesos::v1::resource::Resource;
use crate::mesos::v1::statistics::ResourceStatistics;
use crate::mesos::v1::task::{Reason, Task, TaskResourceLimitation, TaskState};
use crate::mesos::v1::time::{DurationInfo, TimeInfo};
use crate::mesos::v1::values::Scalar;

crate::enumeration! {
    /// The kind of an agent operator call.
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
        GetContainers = "GET_CONTAINERS",
        GetFrameworks = "GET_FRAMEWORKS",
        GetExecutors = "GET_EXECUTORS",
        GetOperations = "GET_OPERATIONS",
        GetTasks = "GET_TASKS",
        GetAgent = "GET_AGENT",
        GetResourceProviders = "GET_RESOURCE_PROVIDERS",
        LaunchNestedContainer = "LAUNCH_NESTED_CONTAINER",
        WaitNestedContainer = "WAIT_NESTED_CONTAINER",
        KillNestedContainer = "KILL_NESTED_CONTAINER",
        RemoveNestedContainer = "REMOVE_NESTED_CONTAINER",
        LaunchNestedContainerSession = "LAUNCH_NESTED_CONTAINER_SESSION",
        AttachContainerInput = "ATTACH_CONTAINER_INPUT",
        AttachContainerOutput = "ATTACH_CONTAINER_OUTPUT",
        LaunchContainer = "LAUNCH_CONTAINER",
        WaitContainer = "WAIT_CONTAINER",
        KillContainer = "KILL_CONTAINER",
        RemoveContainer = "REMOVE_CONTAINER",
        AddResourceProviderConfig = "ADD_RESOURCE_PROVIDER_CONFIG",
        UpdateResourceProviderConfig = "UPDATE_RESOURCE_PROVIDER_CONFIG",
        RemoveResourceProviderConfig = "REMOVE_RESOURCE_PROVIDER_CONFIG",
        MarkResourceProviderGone = "MARK_RESOURCE_PROVIDER_GONE",
        PruneImages = "PRUNE_IMAGES",
    }
}

crate::message! {
    /// GET_CONTAINERS: which containers to include besides executors' own.
    pub struct GetContainersCall {
        opt show_nested: bool,
        opt show_standalone: bool,
    }
}

crate::message! {
    /// LAUNCH_NESTED_CONTAINER and LAUNCH_NESTED_CONTAINER_SESSION.
    pub struct LaunchNestedContainer {
        req container_id: ContainerId,
        opt command: CommandInfo,
        opt container: ContainerInfo,
    }
}

crate::message! {
    /// A container's id alone (WAIT_*, REMOVE_*, ATTACH_CONTAINER_OUTPUT).
    pub struct ContainerCall {
        req container_id: ContainerId,
    }
}

crate::message! {
    /// KILL_CONTAINER and KILL_NESTED_CONTAINER.
    pub struct KillContainer {
        req container_id: ContainerId,
        opt signal: i32,
    }
}

crate::enumeration! {
    /// What one ATTACH_CONTAINER_INPUT message carries.
    pub enum AttachInputType {
        Unknown = "UNKNOWN",
        ContainerId = "CONTAINER_ID",
        ProcessIo = "PROCESS_IO",
    }
}

crate::enumeration! {
    /// Data or control, in a container's input and output.
    pub enum ProcessIoType {
        Unknown = "UNKNOWN",
        Data = "DATA",
        Control = "CONTROL",
    }
}

crate::enumeration! {
    /// Which stream process data belongs to.
    pub enum DataType {
        Unknown = "UNKNOWN",
        Stdin = "STDIN",
        Stdout = "STDOUT",
        Stderr = "STDERR",
    }
}

crate::message! {
    /// Bytes of a stream (base64).
    pub struct ProcessData {
        opt kind "type": DataType,
        opt data: String,
    }
}

crate::enumeration! {
    /// A control message's kind.
    pub enum ControlType {
        Unknown = "UNKNOWN",
        TtyInfo = "TTY_INFO",
        Heartbeat = "HEARTBEAT",
    }
}

crate::message! {
    /// A heartbeat's interval.
    pub struct ProcessHeartbeat {
        opt interval: DurationInfo,
    }
}

crate::message! {
    /// A control message of a container session.
    pub struct ProcessControl {
        opt kind "type": ControlType,
        opt tty_info: TtyInfo,
        opt heartbeat: ProcessHeartbeat,
    }
}

crate::message! {
    /// One message of a container's input or output stream.
    pub struct ProcessIo {
        opt kind "type": ProcessIoType,
        opt data: ProcessData,
        opt control: ProcessControl,
    }
}

crate::message! {
    /// ATTACH_CONTAINER_INPUT: first the container's id, then its input.
    pub struct AttachContainerInput {
        opt kind "type": AttachInputType,
        opt container_id: ContainerId,
        opt process_io: ProcessIo,
    }
}

crate::message! {
    /// LAUNCH_CONTAINER: a standalone or nested container.
    pub struct LaunchContainer {
        req container_id: ContainerId,
        opt command: CommandInfo,
        rep resources: Resource,
        opt container: ContainerInfo,
        map limits: Scalar,
    }
}

crate::message! {
    /// ADD_ and UPDATE_RESOURCE_PROVIDER_CONFIG.
    pub struct ResourceProviderConfig {
        req info: ResourceProviderInfo,
    }
}

crate::message! {
    /// REMOVE_RESOURCE_PROVIDER_CONFIG.
    pub struct RemoveResourceProviderConfig {
        req kind "type": String,
        req name: String,
    }
}

crate::message! {
    /// MARK_RESOURCE_PROVIDER_GONE.
    pub struct MarkResourceProviderGone {
        req resource_provider_id: ResourceProviderId,
    }
}

crate::message! {
    /// PRUNE_IMAGES, keeping these.
    pub struct PruneImages {
        rep excluded_images: Image,
    }
}

crate::message! {
    /// An agent operator call.
    pub struct Call {
        opt kind "type": CallType,
        opt get_metrics: GetMetricsCall,
        opt set_logging_level: SetLoggingLevel,
        opt list_files: ListFilesCall,
        opt read_file: ReadFileCall,
        opt get_containers: GetContainersCall,
        /// Deprecated in Mesos.
        opt launch_nested_container: LaunchNestedContainer,
        /// Deprecated in Mesos.
        opt wait_nested_container: ContainerCall,
        /// Deprecated in Mesos.
        opt kill_nested_container: KillContainer,
        /// Deprecated in Mesos.
        opt remove_nested_container: ContainerCall,
        opt launch_nested_container_session: LaunchNestedContainer,
        opt attach_container_input: AttachContainerInput,
        opt attach_container_output: ContainerCall,
        opt launch_container: LaunchContainer,
        opt wait_container: ContainerCall,
        opt kill_container: KillContainer,
        opt remove_container: ContainerCall,
        opt add_resource_provider_config: ResourceProviderConfig,
        opt update_resource_provider_config: ResourceProviderConfig,
        opt remove_resource_provider_config: RemoveResourceProviderConfig,
        opt mark_resource_provider_gone: MarkResourceProviderGone,
        opt prune_images: PruneImages,
    }
}

crate::enumeration! {
    /// The kind of an agent operator answer.
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
        GetContainers = "GET_CONTAINERS",
        GetFrameworks = "GET_FRAMEWORKS",
        GetExecutors = "GET_EXECUTORS",
        GetOperations = "GET_OPERATIONS",
        GetTasks = "GET_TASKS",
        GetAgent = "GET_AGENT",
        GetResourceProviders = "GET_RESOURCE_PROVIDERS",
        WaitNestedContainer = "WAIT_NESTED_CONTAINER",
        WaitContainer = "WAIT_CONTAINER",
    }
}

crate::message! {
    /// A container as GET_CONTAINERS shows it.
    pub struct Container {
        opt framework_id: FrameworkId,
        opt executor_id: ExecutorId,
        opt executor_name: String,
        req container_id: ContainerId,
        opt container_status: ContainerStatus,
        opt resource_statistics: ResourceStatistics,
    }
}

crate::message! {
    /// GET_CONTAINERS's answer.
    pub struct GetContainers {
        rep containers: Container,
    }
}

crate::message! {
    /// A framework as an agent knows it.
    pub struct Framework {
        req framework_info: FrameworkInfo,
    }
}

crate::message! {
    /// The agent's GET_FRAMEWORKS answer.
    pub struct GetFrameworks {
        rep frameworks: Framework,
        rep completed_frameworks: Framework,
    }
}

crate::message! {
    /// An executor as an agent knows it.
    pub struct Executor {
        req executor_info: ExecutorInfo,
    }
}

crate::message! {
    /// The agent's GET_EXECUTORS answer.
    pub struct GetExecutors {
        rep executors: Executor,
        rep completed_executors: Executor,
    }
}

crate::message! {
    /// The agent's GET_OPERATIONS answer.
    pub struct GetOperations {
        rep operations: Operation,
    }
}

crate::message! {
    /// The agent's GET_TASKS answer.
    pub struct GetTasks {
        rep pending_tasks: Task,
        rep queued_tasks: Task,
        rep launched_tasks: Task,
        rep terminated_tasks: Task,
        rep completed_tasks: Task,
    }
}

crate::message! {
    /// GET_AGENT's answer.
    pub struct GetAgent {
        opt agent_info: AgentInfo,
        opt drain_config: DrainConfig,
        opt estimated_drain_start_time: TimeInfo,
    }
}

crate::message! {
    /// GET_RESOURCE_PROVIDERS's answer.
    pub struct GetResourceProviders {
        rep resource_providers: ResourceProvider,
    }
}

crate::message! {
    /// WAIT_CONTAINER's (and WAIT_NESTED_CONTAINER's) answer: how the container ended.
    pub struct WaitContainer {
        opt exit_status: i32,
        opt state: TaskState,
        opt reason: Reason,
        opt limitation: TaskResourceLimitation,
        opt message: String,
    }
}

crate::message! {
    /// The agent's GET_STATE answer.
    pub struct GetState {
        opt get_tasks: GetTasks,
        opt get_executors: GetExecutors,
        opt get_frameworks: GetFrameworks,
    }
}

crate::message! {
    /// An agent operator answer.
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
        opt get_containers: GetContainers,
        opt get_frameworks: GetFrameworks,
        opt get_executors: GetExecutors,
        opt get_operations: GetOperations,
        opt get_tasks: GetTasks,
        opt get_agent: GetAgent,
        opt get_resource_providers: GetResourceProviders,
        /// Deprecated in Mesos.
        opt wait_nested_container: WaitContainer,
        opt wait_container: WaitContainer,
    }
}
