//! A task's status as the master keeps it: its JSON text, written once, and the few fields
//! the master reads back. A TaskStatus held as a `serde_json::Value` takes eleven times its
//! text (4.6 KB of heap for 400 bytes, measured): with three statuses and the last
//! acknowledged one, that was two thirds of what a completed task cost, and a cluster of
//! 10,000 tasks held hundreds of MB. Written out as it is kept, a status also costs an
//! answer only a copy.

use crate::mesos::v1::{Source, TaskState};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct StoredStatus {
    json: Box<RawValue>,
    state: TaskState,
    source: Option<Source>,
    uuid: Option<String>,
    timestamp: f64,
}

impl StoredStatus {
    pub fn new(status: &Value) -> StoredStatus {
        let text = |key: &str| status.get(key).and_then(Value::as_str).map(str::to_string);
        StoredStatus {
            // Writing a `Value` cannot fail (its keys are strings); `null` would be kept
            // were it ever to.
            json: serde_json::value::to_raw_value(status)
                .unwrap_or_else(|_| RawValue::NULL.to_owned()),
            state: TaskState::from_name(&text("state").unwrap_or_default()),
            source: text("source").map(|s| Source::from_name(&s)),
            uuid: text("uuid"),
            timestamp: status
                .get("timestamp")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
        }
    }

    /// A status kept before (`text`), with the fields the master reads found again.
    pub fn from_text(json: Box<RawValue>) -> StoredStatus {
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Head {
            state: String,
            source: Option<String>,
            uuid: Option<String>,
            timestamp: f64,
        }
        let head: Head = serde_json::from_str(json.get()).unwrap_or_default();
        StoredStatus {
            json,
            state: TaskState::from_name(&head.state),
            source: head.source.map(|s| Source::from_name(&s)),
            uuid: head.uuid,
            timestamp: head.timestamp,
        }
    }

    /// Its text, as it is kept.
    pub fn text(&self) -> &RawValue {
        &self.json
    }

    /// The whole status, read again from its text.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.json.get()).unwrap_or(Value::Null)
    }

    /// One field of it (`healthy`, `container_status` ...).
    pub fn get(&self, key: &str) -> Option<Value> {
        match self.value() {
            Value::Object(mut o) => o.remove(key),
            _ => None,
        }
    }

    pub fn state(&self) -> &TaskState {
        &self.state
    }

    /// Who made it: the executor, the agent, the master (`None` when it does not say).
    pub fn source(&self) -> Option<&Source> {
        self.source.as_ref()
    }

    pub fn uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }

    pub fn timestamp(&self) -> f64 {
        self.timestamp
    }
}

/// What a task keeps of its last acknowledged update: Mesos's `Task` shows only its state
/// and uuid (`status_update_state`, `status_update_uuid`). The update itself is kept with
/// its `data` until it is acknowledged (a Docker task's TASK_RUNNING carries the
/// container's inspect output); kept whole after that, it was the biggest part of a
/// running task's statuses.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    pub state: TaskState,
    pub uuid: Option<String>,
}

impl From<StoredStatus> for Acknowledged {
    fn from(s: StoredStatus) -> Acknowledged {
        Acknowledged {
            state: s.state,
            uuid: s.uuid,
        }
    }
}

impl Serialize for StoredStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stored_status_reads_and_writes_back_as_it_came() {
        let status = json!({"task_id": {"value": "t1"}, "state": "TASK_RUNNING",
            "source": "SOURCE_EXECUTOR", "uuid": "AAEC", "timestamp": 1.5,
            "healthy": true, "labels": {"labels": [{"key": "k", "value": "v"}]}});
        let kept = StoredStatus::new(&status);
        assert_eq!(kept.state(), &TaskState::Running);
        assert_eq!(kept.source(), Some(&Source::Executor));
        assert_eq!(kept.uuid(), Some("AAEC"));
        assert_eq!(kept.timestamp(), 1.5);
        assert_eq!(kept.get("healthy"), Some(json!(true)));
        assert_eq!(kept.get("nope"), None);
        assert_eq!(kept.value(), status);
        assert_eq!(serde_json::to_value(&kept).ok(), Some(status));
        let again = StoredStatus::from_text(kept.text().to_owned());
        assert_eq!(again.state(), &TaskState::Running);
        assert_eq!(again.source(), Some(&Source::Executor));
        assert_eq!(again.uuid(), Some("AAEC"));
        assert_eq!(again.timestamp(), 1.5);
        assert_eq!(again.text().get(), kept.text().get());
    }
}
