//! Containers: what a task runs in (`ContainerInfo`: Docker or Mesos, volumes, networks,
//! Linux settings) and what the agent reports about a running one (`ContainerStatus`).

use super::command::Secret;
use super::ids::ContainerId;
use super::labels::Labels;

crate::message! {
    /// A key/value pair (Docker parameters, volume driver options, URL queries).
    pub struct Parameter {
        req key: String,
        req value: String,
    }
}

crate::message! {
    /// A list of parameters.
    pub struct Parameters {
        rep parameter: Parameter,
    }
}

crate::message! {
    /// A principal and its secret.
    pub struct Credential {
        req principal: String,
        opt secret: String,
    }
}

crate::enumeration! {
    /// The containerizer a task runs in.
    pub enum ContainerType {
        Docker = "DOCKER",
        Mesos = "MESOS",
    }
}

crate::enumeration! {
    /// A Docker container's network mode.
    pub enum DockerNetwork {
        Host = "HOST",
        Bridge = "BRIDGE",
        None = "NONE",
        User = "USER",
    }
}

crate::message! {
    /// A port of the host mapped into a container.
    pub struct PortMapping {
        req host_port: u32,
        req container_port: u32,
        opt protocol: String,
    }
}

crate::message! {
    /// A Docker container.
    pub struct DockerInfo {
        req image: String,
        def network: DockerNetwork = DockerNetwork::Host,
        rep port_mappings: PortMapping,
        def privileged: bool = false,
        rep parameters: Parameter,
        opt force_pull_image: bool,
        /// Deprecated in Mesos (a volume's own driver replaces it); never written as a default.
        opt volume_driver: String,
    }
}

crate::enumeration! {
    /// The image format of a Mesos container.
    pub enum ImageType {
        Appc = "APPC",
        Docker = "DOCKER",
    }
}

crate::message! {
    /// An appc image.
    pub struct AppcImage {
        req name: String,
        opt id: String,
        opt labels: Labels,
    }
}

crate::message! {
    /// A Docker image for the Mesos containerizer.
    pub struct DockerImage {
        req name: String,
        /// Deprecated in Mesos in favour of `config`.
        opt credential: Credential,
        opt config: Secret,
    }
}

crate::message! {
    /// A container image.
    pub struct Image {
        req kind "type": ImageType,
        opt appc: AppcImage,
        opt docker: DockerImage,
        def cached: bool = true,
    }
}

crate::message! {
    /// A Mesos container.
    pub struct MesosInfo {
        opt image: Image,
    }
}

crate::enumeration! {
    /// Whether a volume is mounted read-write or read-only.
    pub enum VolumeMode {
        Rw = "RW",
        Ro = "RO",
    }
}

crate::enumeration! {
    /// Where a volume comes from.
    pub enum VolumeSourceType {
        Unknown = "UNKNOWN",
        DockerVolume = "DOCKER_VOLUME",
        HostPath = "HOST_PATH",
        SandboxPath = "SANDBOX_PATH",
        Secret = "SECRET",
        CsiVolume = "CSI_VOLUME",
    }
}

crate::message! {
    /// A Docker volume by its driver and name.
    pub struct DockerVolume {
        opt driver: String,
        req name: String,
        opt driver_options: Parameters,
    }
}

crate::enumeration! {
    /// How mounts propagate between host and container.
    pub enum MountPropagationMode {
        Unknown = "UNKNOWN",
        HostToContainer = "HOST_TO_CONTAINER",
        Bidirectional = "BIDIRECTIONAL",
    }
}

crate::message! {
    /// Mount propagation of a host path.
    pub struct MountPropagation {
        opt mode: MountPropagationMode,
    }
}

crate::message! {
    /// A path on the host.
    pub struct HostPath {
        req path: String,
        opt mount_propagation: MountPropagation,
    }
}

crate::enumeration! {
    /// Whose sandbox a sandbox path is in.
    pub enum SandboxPathType {
        Unknown = "UNKNOWN",
        SelfSandbox = "SELF",
        Parent = "PARENT",
    }
}

crate::message! {
    /// A path in this container's sandbox or its parent's.
    pub struct SandboxPath {
        opt kind "type": SandboxPathType,
        req path: String,
    }
}

crate::message! {
    /// The source of a volume. CSI volumes pass through as they came (`csi_volume`).
    pub struct VolumeSource {
        opt kind "type": VolumeSourceType,
        opt docker_volume: DockerVolume,
        opt host_path: HostPath,
        opt sandbox_path: SandboxPath,
        opt secret: Secret,
        opt csi_volume: serde_json::Value,
    }
}

crate::message! {
    /// A volume mounted into a container.
    pub struct Volume {
        req mode: VolumeMode,
        req container_path: String,
        opt host_path: String,
        opt image: Image,
        opt source: VolumeSource,
    }
}

crate::enumeration! {
    /// An IP protocol version.
    pub enum Protocol {
        Ipv4 = "IPv4",
        Ipv6 = "IPv6",
    }
}

crate::message! {
    /// An address a container has (or asks for) on a network.
    pub struct IpAddress {
        def protocol: Protocol = Protocol::Ipv4,
        opt ip_address: String,
    }
}

crate::message! {
    /// A network a container joins (CNI), with its addresses and port mappings.
    pub struct NetworkInfo {
        rep ip_addresses: IpAddress,
        opt name: String,
        rep groups: String,
        opt labels: Labels,
        rep port_mappings: PortMapping,
    }
}

crate::message! {
    /// Linux capabilities, by name (`NET_ADMIN`, ...).
    pub struct CapabilityInfo {
        rep capabilities: String,
    }
}

crate::message! {
    /// A seccomp profile.
    pub struct SeccompInfo {
        opt profile_name: String,
        opt unconfined: bool,
    }
}

crate::message! {
    /// Linux-specific settings of a container.
    pub struct LinuxInfo {
        /// Deprecated in Mesos in favour of the two fields below.
        opt capability_info: CapabilityInfo,
        opt bounding_capabilities: CapabilityInfo,
        opt effective_capabilities: CapabilityInfo,
        opt share_pid_namespace: bool,
        opt seccomp: SeccompInfo,
        opt ipc_mode: String,
        opt shm_size: u32,
        def share_cgroups: bool = true,
    }
}

crate::message! {
    /// One resource limit.
    pub struct RLimit {
        opt kind "type": String,
        opt hard: u64,
        opt soft: u64,
    }
}

crate::message! {
    /// Resource limits (`setrlimit`) of a container.
    pub struct RLimitInfo {
        rep rlimits: RLimit,
    }
}

crate::message! {
    /// A terminal's size.
    pub struct WindowSize {
        req rows: u32,
        req columns: u32,
    }
}

crate::message! {
    /// A terminal for a container.
    pub struct TtyInfo {
        opt window_size: WindowSize,
    }
}

crate::message! {
    /// What a task or executor runs in.
    pub struct ContainerInfo {
        req kind "type": ContainerType,
        rep volumes: Volume,
        opt hostname: String,
        opt docker: DockerInfo,
        opt mesos: MesosInfo,
        rep network_infos: NetworkInfo,
        opt linux_info: LinuxInfo,
        opt rlimit_info: RLimitInfo,
        opt tty_info: TtyInfo,
    }
}

crate::message! {
    /// The net_cls cgroup of a container.
    pub struct NetCls {
        opt classid: u32,
    }
}

crate::message! {
    /// The cgroups of a container.
    pub struct CgroupInfo {
        opt net_cls: NetCls,
    }
}

crate::message! {
    /// What the agent knows of a running container: its id, addresses, cgroups and the
    /// executor's pid.
    pub struct ContainerStatus {
        opt container_id: ContainerId,
        rep network_infos: NetworkInfo,
        opt cgroup_info: CgroupInfo,
        opt executor_pid: u32,
    }
}

impl DockerInfo {
    pub fn new(image: impl Into<String>) -> DockerInfo {
        DockerInfo {
            image: image.into(),
            ..Default::default()
        }
    }
}

impl ContainerInfo {
    /// A Docker container of `image`.
    pub fn docker(docker: DockerInfo) -> ContainerInfo {
        ContainerInfo {
            kind: ContainerType::Docker,
            docker: Some(docker),
            ..Default::default()
        }
    }
}
