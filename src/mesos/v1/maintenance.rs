//! Maintenance in the vocabulary (`mesos/v1/maintenance/maintenance.proto`,
//! `InverseOfferStatus` of `allocator.proto`): a schedule of windows, each machines and
//! their unavailability, and the cluster's status: draining machines with the frameworks'
//! answers to inverse offers, and down machines.

use super::agent::MachineId;
use super::ids::FrameworkId;
use super::offer::Unavailability;
use super::time::TimeInfo;

crate::message! {
    /// Machines going away together, for the same unavailability.
    pub struct Window {
        rep machine_ids: MachineId,
        req unavailability: Unavailability,
    }
}

crate::message! {
    /// The maintenance schedule: its windows.
    pub struct Schedule {
        rep windows: Window,
    }
}

crate::enumeration! {
    /// A framework's answer to an inverse offer.
    pub enum InverseOfferAnswer {
        Unknown = "UNKNOWN",
        Accept = "ACCEPT",
        Decline = "DECLINE",
    }
}

crate::message! {
    /// A framework's last answer to an inverse offer for a machine's agents.
    pub struct InverseOfferStatus {
        req status: InverseOfferAnswer,
        req framework_id: FrameworkId,
        req timestamp: TimeInfo,
    }
}

crate::message! {
    /// A machine in DRAINING mode, with the answers its inverse offers got.
    pub struct DrainingMachine {
        req id: MachineId,
        rep statuses: InverseOfferStatus,
    }
}

crate::message! {
    /// GET_MAINTENANCE_STATUS's status (and `/maintenance/status`).
    pub struct ClusterStatus {
        rep draining_machines: DrainingMachine,
        rep down_machines: MachineId,
    }
}

impl MachineId {
    /// Mesos's equality of machines (`operator==` in `src/common/type_utils.cpp`): the
    /// hostname in any case, the IP exactly, an absent field equal only to an absent one.
    pub fn same_machine(&self, other: &MachineId) -> bool {
        let lower = |h: &Option<String>| h.as_ref().map(|h| h.to_lowercase());
        lower(&self.hostname) == lower(&other.hostname) && self.ip == other.ip
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_status_writes_only_what_it_has() {
        let status = ClusterStatus {
            down_machines: vec![MachineId {
                hostname: Some("a".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({"down_machines": [{"hostname": "a"}]})
        );
        let schedule: Schedule = serde_json::from_value(json!({"windows": [{"machine_ids":
            [{"ip": "10.0.0.1"}], "unavailability": {"start": {"nanoseconds": 5}}}]}))
        .unwrap();
        assert_eq!(schedule.windows[0].unavailability.start.nanoseconds, 5);
    }

    #[test]
    fn machines_match_as_mesos_matches_them() {
        let m = |h: Option<&str>, ip: Option<&str>| MachineId {
            hostname: h.map(str::to_string),
            ip: ip.map(str::to_string),
            ..Default::default()
        };
        assert!(m(Some("Web"), Some("1.2.3.4")).same_machine(&m(Some("web"), Some("1.2.3.4"))));
        assert!(!m(Some("web"), None).same_machine(&m(Some("web"), Some("1.2.3.4"))));
        assert!(!m(None, Some("1.2.3.4")).same_machine(&m(None, Some("1.2.3.5"))));
    }
}
