//! Health checks and general checks of tasks, what they report, and kill policies.

use super::command::CommandInfo;
use super::container::Protocol;
use super::time::DurationInfo;

crate::enumeration! {
    /// How a check probes a task.
    pub enum CheckType {
        Unknown = "UNKNOWN",
        Command = "COMMAND",
        Http = "HTTP",
        Tcp = "TCP",
    }
}

crate::message! {
    /// A command check.
    pub struct CommandCheck {
        req command: CommandInfo,
    }
}

crate::message! {
    /// An HTTP check of a port and path.
    pub struct HttpCheck {
        req port: u32,
        opt path: String,
    }
}

crate::message! {
    /// A TCP check of a port.
    pub struct TcpCheck {
        req port: u32,
    }
}

crate::message! {
    /// A check that reports but never kills.
    pub struct CheckInfo {
        opt kind "type": CheckType,
        opt command: CommandCheck,
        opt http: HttpCheck,
        opt tcp: TcpCheck,
        def delay_seconds: f64 = 15.0,
        def interval_seconds: f64 = 10.0,
        def timeout_seconds: f64 = 20.0,
    }
}

crate::message! {
    /// A health check's HTTP probe.
    pub struct HttpCheckInfo {
        def protocol: Protocol = Protocol::Ipv4,
        opt scheme: String,
        req port: u32,
        opt path: String,
        rep statuses: u32,
    }
}

crate::message! {
    /// A health check's TCP probe.
    pub struct TcpCheckInfo {
        def protocol: Protocol = Protocol::Ipv4,
        req port: u32,
    }
}

crate::message! {
    /// A health check: after `consecutive_failures` failures the task is killed.
    pub struct HealthCheck {
        def delay_seconds: f64 = 15.0,
        def interval_seconds: f64 = 10.0,
        def timeout_seconds: f64 = 20.0,
        def consecutive_failures: u32 = 3,
        def grace_period_seconds: f64 = 10.0,
        opt kind "type": CheckType,
        opt command: CommandInfo,
        opt http: HttpCheckInfo,
        opt tcp: TcpCheckInfo,
    }
}

crate::message! {
    /// How long a killed task gets between SIGTERM and SIGKILL.
    pub struct KillPolicy {
        opt grace_period: DurationInfo,
    }
}

crate::message! {
    /// A command check's result.
    pub struct CommandCheckStatus {
        opt exit_code: i32,
    }
}

crate::message! {
    /// An HTTP check's result.
    pub struct HttpCheckStatus {
        opt status_code: u32,
    }
}

crate::message! {
    /// A TCP check's result.
    pub struct TcpCheckStatus {
        opt succeeded: bool,
    }
}

crate::message! {
    /// The result of a task's check.
    pub struct CheckStatusInfo {
        opt kind "type": CheckType,
        opt command: CommandCheckStatus,
        opt http: HttpCheckStatus,
        opt tcp: TcpCheckStatus,
    }
}
