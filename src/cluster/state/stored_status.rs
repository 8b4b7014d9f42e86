//! A task's status as the master keeps it: its JSON text, written once, and the few fields
//! the master reads back. A TaskStatus held as a `serde_json::Value` takes eleven times its
//! text (4.6 KB of heap for 400 bytes, measured): with three statuses and the last
//! acknowledged one, that was two thirds of what a completed task cost, and a cluster of
//! 10,000 tasks held hundreds of MB. Written out as it is kept, a status also costs an
//! answer only a copy.

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct StoredStatus {
    json: Box<RawValue>,
    state: String,
    source: String,
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
            state: text("state").unwrap_or_default(),
            source: text("source").unwrap_or_default(),
            uuid: text("uuid"),
            timestamp: status
                .get("timestamp")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
        }
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

    pub fn state(&self) -> &str {
        &self.state
    }

    /// `SOURCE_EXECUTOR`, `SOURCE_MASTER` ...
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn uuid(&self) -> Option<&str> {
        self.uuid.as_deref()
    }

    pub fn timestamp(&self) -> f64 {
        self.timestamp
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
        assert_eq!(kept.state(), "TASK_RUNNING");
        assert_eq!(kept.source(), "SOURCE_EXECUTOR");
        assert_eq!(kept.uuid(), Some("AAEC"));
        assert_eq!(kept.timestamp(), 1.5);
        assert_eq!(kept.get("healthy"), Some(json!(true)));
        assert_eq!(kept.get("nope"), None);
        assert_eq!(kept.value(), status);
        assert_eq!(serde_json::to_value(&kept).ok(), Some(status));
    }
}
