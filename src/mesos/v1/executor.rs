//! Executors: the process that runs a framework's tasks on an agent (the command executor
//! Mesos provides, the default executor of task groups, or a framework's own).

use super::command::CommandInfo;
use super::container::ContainerInfo;
use super::discovery::DiscoveryInfo;
use super::ids::{ExecutorId, FrameworkId};
use super::labels::Labels;
use super::resource::Resource;
use super::time::DurationInfo;

crate::enumeration! {
    /// Which kind of executor it is.
    pub enum ExecutorType {
        Unknown = "UNKNOWN",
        Default = "DEFAULT",
        Custom = "CUSTOM",
    }
}

crate::message! {
    /// An executor.
    pub struct ExecutorInfo {
        opt kind "type": ExecutorType,
        req executor_id: ExecutorId,
        opt framework_id: FrameworkId,
        opt command: CommandInfo,
        opt container: ContainerInfo,
        rep resources: Resource,
        opt name: String,
        /// Deprecated in Mesos (labels replace it).
        opt source: String,
        opt data: String,
        opt discovery: DiscoveryInfo,
        opt shutdown_grace_period: DurationInfo,
        opt labels: Labels,
    }
}
