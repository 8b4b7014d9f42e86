//! Where things are: a master (`MasterInfo`, as the leading master advertises itself in
//! ZooKeeper and in SUBSCRIBED), network addresses and URLs, and fault domains.

use super::container::Parameter;

crate::message! {
    /// A network address; `ip` is dotted text here (unlike `MasterInfo.ip`).
    pub struct Address {
        opt hostname: String,
        opt ip: String,
        req port: i32,
    }
}

crate::message! {
    /// A URL in parts (an offer's agent, an inverse offer's).
    pub struct Url {
        req scheme: String,
        req address: Address,
        opt path: String,
        rep query: Parameter,
        opt fragment: String,
    }
}

crate::message! {
    /// A named region or zone.
    pub struct DomainName {
        req name: String,
    }
}

crate::message! {
    /// A fault domain: a region and a zone within it.
    pub struct FaultDomain {
        req region: DomainName,
        req zone: DomainName,
    }
}

crate::message! {
    /// The fault domain of a master or an agent.
    pub struct DomainInfo {
        opt fault_domain: FaultDomain,
    }
}

crate::enumeration! {
    /// What a master can do that older masters cannot.
    pub enum MasterCapabilityType {
        Unknown = "UNKNOWN",
        AgentUpdate = "AGENT_UPDATE",
        AgentDraining = "AGENT_DRAINING",
        QuotaV2 = "QUOTA_V2",
    }
}

crate::message! {
    /// One capability of a master.
    pub struct MasterCapability {
        opt kind "type": MasterCapabilityType,
    }
}

crate::message! {
    /// A master: its id, where it listens (`ip` is the IPv4 address as a number in network
    /// byte order, as Mesos writes it) and its version.
    pub struct MasterInfo {
        req id: String,
        req ip: u32,
        /// Required, with 5050 as its proto default (always set by a master).
        req port: u32,
        opt pid: String,
        opt hostname: String,
        opt version: String,
        opt address: Address,
        opt domain: DomainInfo,
        rep capabilities: MasterCapability,
    }
}

/// Which name of a master to prefer when more than one is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    /// The address's IP, then its hostname, then the master's hostname (to connect to).
    Ip,
    /// The address's hostname, then the master's hostname, then the IP (as redirects name it).
    Hostname,
}

impl MasterInfo {
    /// The host and port the master is reached at, named as `prefer` says.
    pub fn host_port(&self, prefer: Prefer) -> Option<(String, u16)> {
        let address = self.address.as_ref();
        let ip = address.and_then(|a| a.ip.clone());
        let host = address
            .and_then(|a| a.hostname.clone())
            .or_else(|| self.hostname.clone());
        let name = match prefer {
            Prefer::Ip => ip.or(host),
            Prefer::Hostname => host.or(ip),
        }?;
        let port = address.map_or(i64::from(self.port), |a| i64::from(a.port));
        Some((name, u16::try_from(port).ok()?))
    }

    /// `ip` as dotted text (it is written in network byte order).
    pub fn ip_text(&self) -> String {
        std::net::Ipv4Addr::from(u32::from_be(self.ip)).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn master_addresses() {
        let m: MasterInfo = serde_json::from_value(json!({
            "id": "m1", "ip": 16777343u32, "port": 5050, "hostname": "m",
            "address": {"hostname": "m1.example", "ip": "10.0.0.5", "port": 5051}
        }))
        .unwrap();
        assert_eq!(m.ip_text(), "127.0.0.1");
        assert_eq!(m.host_port(Prefer::Ip), Some(("10.0.0.5".into(), 5051)));
        assert_eq!(
            m.host_port(Prefer::Hostname),
            Some(("m1.example".into(), 5051))
        );
        let old: MasterInfo =
            serde_json::from_value(json!({"id": "m", "ip": 0, "port": 1, "hostname": "h"}))
                .unwrap();
        assert_eq!(old.host_port(Prefer::Ip), Some(("h".into(), 1)));
    }
}
