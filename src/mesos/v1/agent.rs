//! Agents: `AgentInfo` (as an agent registers), attributes and their flag form
//! (`rack:r2d2;pod:demo,dev`), capabilities, and draining.

use super::ids::AgentId;
use super::master::DomainInfo;
use super::resource::Resource;
use super::time::DurationInfo;
use super::values::{self, Parsed, Ranges, Scalar, Set, Text, ValueType};
use std::fmt;

crate::message! {
    /// An attribute of an agent: a named scalar, ranges, set or text.
    pub struct Attribute {
        req name: String,
        req kind "type": ValueType,
        opt scalar: Scalar,
        opt ranges: Ranges,
        opt set: Set,
        opt text: Text,
    }
}

crate::message! {
    /// An agent as it registers: hostname, port, resources and attributes; `id` once
    /// registered.
    pub struct AgentInfo {
        req hostname: String,
        def port: i32 = 5051,
        rep resources: Resource,
        rep attributes: Attribute,
        opt id: AgentId,
        opt domain: DomainInfo,
    }
}

crate::enumeration! {
    /// What an agent can do that older agents cannot.
    pub enum AgentCapabilityType {
        Unknown = "UNKNOWN",
        MultiRole = "MULTI_ROLE",
        HierarchicalRole = "HIERARCHICAL_ROLE",
        ReservationRefinement = "RESERVATION_REFINEMENT",
        ResourceProvider = "RESOURCE_PROVIDER",
        ResizeVolume = "RESIZE_VOLUME",
        AgentOperationFeedback = "AGENT_OPERATION_FEEDBACK",
        AgentDraining = "AGENT_DRAINING",
        TaskResourceLimits = "TASK_RESOURCE_LIMITS",
    }
}

crate::message! {
    /// One capability of an agent.
    pub struct AgentCapability {
        opt kind "type": AgentCapabilityType,
    }
}

crate::enumeration! {
    /// How far an agent's draining has come.
    pub enum DrainState {
        Unknown = "UNKNOWN",
        Draining = "DRAINING",
        Drained = "DRAINED",
    }
}

crate::message! {
    /// How an agent is drained.
    pub struct DrainConfig {
        opt max_grace_period: DurationInfo,
        def mark_gone: bool = false,
    }
}

crate::message! {
    /// A draining agent's state and how it is drained.
    pub struct DrainInfo {
        req state: DrainState,
        req config: DrainConfig,
    }
}

crate::message! {
    /// A machine, by hostname and IP (both must match what its agents advertise).
    pub struct MachineId {
        opt hostname: String,
        opt ip: String,
    }
}

crate::enumeration! {
    /// A machine's maintenance mode.
    pub enum MachineMode {
        Up = "UP",
        Draining = "DRAINING",
        Down = "DOWN",
    }
}

crate::message! {
    /// A machine and its maintenance mode.
    pub struct MachineInfo {
        req id: MachineId,
        opt mode: MachineMode,
        opt unavailability: super::offer::Unavailability,
    }
}

impl AgentCapability {
    pub fn new(kind: AgentCapabilityType) -> AgentCapability {
        AgentCapability {
            kind: Some(kind),
            ..Default::default()
        }
    }
}

impl Attribute {
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Attribute {
        Attribute {
            name: name.into(),
            kind: ValueType::Text,
            text: Some(Text::new(value)),
            ..Default::default()
        }
    }

    /// The value as the flag writes it: `r2d2`, `3`, `[1-2]`, `{a, b}`.
    pub fn value_text(&self) -> String {
        match self.kind {
            ValueType::Scalar => self.scalar.clone().unwrap_or_default().to_string(),
            ValueType::Ranges => self.ranges.clone().unwrap_or_default().to_string(),
            ValueType::Set => self.set.clone().unwrap_or_default().to_string(),
            _ => self
                .text
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default(),
        }
    }
}

/// `name:value`, as the agent's `--attributes` flag writes one attribute.
impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.value_text())
    }
}

/// Why an `--attributes` flag does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    #[error("Invalid attribute key:value pair '{0}'")]
    Pair(String),
    #[error("Failed to parse attribute {name} text {text} error {why}")]
    Value {
        name: String,
        text: String,
        why: String,
    },
    #[error("Bad type for attribute {name} text {text} type SET")]
    Set { name: String, text: String },
}

/// Reads the agent's `--attributes` flag: `name:value` pairs separated by `;` (or newlines),
/// each value a scalar, ranges or text (`rack:r2d2;level:3;pod:demo,dev`).
pub fn parse_attributes(text: &str) -> Result<Vec<Attribute>, AttributeError> {
    let mut out = Vec::new();
    for token in text.split([';', '\n']).filter(|t| !t.is_empty()) {
        let Some((name, value)) = token
            .split_once(':')
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
        else {
            return Err(AttributeError::Pair(token.to_string()));
        };
        let parsed = values::parse_value(value).map_err(|e| AttributeError::Value {
            name: name.to_string(),
            text: value.to_string(),
            why: e.to_string(),
        })?;
        let mut a = Attribute {
            name: name.to_string(),
            ..Default::default()
        };
        match parsed {
            Parsed::Scalar(s) => (a.kind, a.scalar) = (ValueType::Scalar, Some(s)),
            Parsed::Ranges(r) => (a.kind, a.ranges) = (ValueType::Ranges, Some(r)),
            Parsed::Text(t) => (a.kind, a.text) = (ValueType::Text, Some(t)),
            Parsed::Set(_) => {
                return Err(AttributeError::Set {
                    name: name.to_string(),
                    text: value.to_string(),
                })
            }
        }
        out.push(a);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_flag() {
        let a = parse_attributes("rack:r2d2;level:3;pod:demo,dev;p:[1-2]").unwrap();
        assert_eq!(a[0], Attribute::text("rack", "r2d2"));
        assert_eq!(a[1].kind, ValueType::Scalar);
        assert_eq!(a[2].value_text(), "demo,dev");
        let shown: Vec<String> = a.iter().map(ToString::to_string).collect();
        assert_eq!(shown.join(";"), "rack:r2d2;level:3;pod:demo,dev;p:[1-2]");
        assert!(parse_attributes("rack").is_err());
        assert!(parse_attributes("s:{a,b}").is_err());
        assert!(parse_attributes("").unwrap().is_empty());
    }

    #[test]
    fn agent_port_defaults_to_5051() {
        let a: AgentInfo = serde_json::from_value(json!({"hostname": "h"})).unwrap();
        assert_eq!(a.port(), 5051);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"hostname": "h", "port": 5051})
        );
    }
}
