//! The id messages: each is `{"value": "..."}` (a container id may name its parent), and a
//! borrowed form that writes the same JSON from a `&str` without building a message.

use serde::ser::{Serialize, SerializeMap, Serializer};

macro_rules! id_message {
    ($($(#[$doc:meta])* $name:ident;)+) => {
        $(
            crate::message! {
                $(#[$doc])*
                pub struct $name {
                    req value: String,
                }
            }

            impl $name {
                pub fn new(value: impl Into<String>) -> $name {
                    $name { value: value.into(), ..Default::default() }
                }

                pub fn as_str(&self) -> &str {
                    &self.value
                }
            }

            impl ::std::fmt::Display for $name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(&self.value)
                }
            }

            impl From<&str> for $name {
                fn from(value: &str) -> $name {
                    $name::new(value)
                }
            }

            impl From<String> for $name {
                fn from(value: String) -> $name {
                    $name::new(value)
                }
            }
        )+
    };
}

id_message! {
    /// A framework's id, given by the master on its first SUBSCRIBE.
    FrameworkId;
    /// An offer's id.
    OfferId;
    /// An agent's id; an agent gets a new one each time it registers afresh.
    AgentId;
    /// A task's id, chosen by its framework.
    TaskId;
    /// An executor's id, chosen by its framework (or the agent, for command tasks).
    ExecutorId;
    /// A resource provider's id.
    ResourceProviderId;
    /// An operation's id, chosen by its framework.
    OperationId;
}

crate::message! {
    /// A container's id; a nested container names the container it runs in.
    pub struct ContainerId {
        req value: String,
        opt parent: Box<ContainerId>,
    }
}

impl ContainerId {
    pub fn new(value: impl Into<String>) -> ContainerId {
        ContainerId {
            value: value.into(),
            ..Default::default()
        }
    }

    /// A container nested in `parent`.
    pub fn nested(parent: &ContainerId, value: impl Into<String>) -> ContainerId {
        ContainerId {
            value: value.into(),
            parent: Some(Box::new(parent.clone())),
            ..Default::default()
        }
    }

    /// The top-level container this one runs in (itself when it has no parent).
    pub fn root(&self) -> &ContainerId {
        match &self.parent {
            Some(p) => p.root(),
            None => self,
        }
    }
}

/// Mesos's `stringify(ContainerID)`: the chain of values from the root, joined with `.`.
impl std::fmt::Display for ContainerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = &self.parent {
            write!(f, "{p}.")?;
        }
        f.write_str(&self.value)
    }
}

crate::message! {
    /// A UUID as Mesos sends it in JSON: its 16 bytes, base64-encoded.
    pub struct Uuid {
        req value: String,
    }
}

/// Writes `{"value": "..."}` from a borrowed string: the id JSON for views that serialize
/// straight from other data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRef<'a>(pub &'a str);

impl Serialize for IdRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(Some(1))?;
        o.serialize_entry("value", self.0)?;
        o.end()
    }
}

/// The id JSON `{"value": "..."}` for any kind of id.
pub fn id_json(value: &str) -> serde_json::Value {
    serde_json::json!({ "value": value })
}

/// The string of an id given either as `{"value": "..."}` or as the bare string.
pub fn id_text(value: &serde_json::Value) -> Option<&str> {
    value
        .get("value")
        .and_then(serde_json::Value::as_str)
        .or_else(|| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_value_objects() {
        let id = TaskId::new("web-1");
        assert_eq!(
            serde_json::to_value(&id).unwrap(),
            json!({"value": "web-1"})
        );
        assert_eq!(
            serde_json::to_value(IdRef("web-1")).unwrap(),
            id_json("web-1")
        );
        let back: AgentId = serde_json::from_value(json!({"value": "S1"})).unwrap();
        assert_eq!(back.to_string(), "S1");
        assert!(serde_json::from_value::<AgentId>(json!({})).is_err());
        let nested: ContainerId =
            serde_json::from_value(json!({"value": "c2", "parent": {"value": "c1"}})).unwrap();
        assert_eq!(
            nested.parent.as_deref().map(|p| p.value.as_str()),
            Some("c1")
        );
        assert_eq!(nested.to_string(), "c1.c2");
        assert_eq!(nested.root().value, "c1");
        let grand = ContainerId::nested(&nested, "c3");
        assert_eq!(grand.to_string(), "c1.c2.c3");
        assert_eq!(
            serde_json::to_value(&grand).unwrap(),
            json!({"value": "c3", "parent": {"value": "c2", "parent": {"value": "c1"}}})
        );
        assert_eq!(id_text(&json!({"value": "x"})), Some("x"));
        assert_eq!(id_text(&json!("y")), Some("y"));
        assert_eq!(id_text(&json!(3)), None);
    }
}
