//! Service discovery: how a task's service and ports are named and who may find them.

use super::labels::Labels;

crate::enumeration! {
    /// Who may discover a service or port: its framework, the cluster, or anyone.
    pub enum Visibility {
        Framework = "FRAMEWORK",
        Cluster = "CLUSTER",
        External = "EXTERNAL",
    }
}

crate::message! {
    /// A port a service is offered on. Its visibility has no proto default: unset, the
    /// service's own applies (and Mesos writes nothing).
    pub struct Port {
        req number: u32,
        opt name: String,
        opt protocol: String,
        opt visibility: Visibility,
        opt labels: Labels,
    }
}

crate::message! {
    /// A service's ports.
    pub struct Ports {
        rep ports: Port,
    }
}

crate::message! {
    /// How a task's service is discovered.
    pub struct DiscoveryInfo {
        req visibility: Visibility,
        opt name: String,
        opt environment: String,
        opt location: String,
        opt version: String,
        opt ports: Ports,
        opt labels: Labels,
    }
}
