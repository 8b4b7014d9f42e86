//! A scheduler session's log of events (`$events`, `EVENTS`): each event kept as the JSON
//! text it came in, with the kernel's arrival stamp (`"received"`) written into it.
//!
//! Why text: a RECONCILE answered by 20,000 updates had each record parsed into a `Value`
//! to be logged, and every WAIT on `$events` during the flood copied all of them
//! (`perf` of the kernel in `bench/event_flood.py`); `$events` is now a copy of bytes, sent
//! to the jq worker as it is, and a `Value` is made only where one is shown.

use serde_json::Value;
use std::collections::VecDeque;

/// One logged event.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    kind: Option<String>,
    text: Box<str>,
}

impl LoggedEvent {
    /// `record` (one JSON value, checked by the caller) with `"received": stamp` added
    /// when it is an object.
    pub fn new(record: &str, kind: Option<&str>, stamp: &str) -> LoggedEvent {
        LoggedEvent {
            kind: kind.map(str::to_string),
            text: stamped(record, stamp).into_boxed_str(),
        }
    }

    /// Its `"type"`, when it has one.
    pub fn kind(&self) -> Option<&str> {
        self.kind.as_deref()
    }

    /// The event as a `Value` (to show it).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// The last `capacity` events, oldest first.
#[derive(Debug, Clone)]
pub struct EventLog {
    events: VecDeque<LoggedEvent>,
    capacity: usize,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::new(crate::mesos::scheduler::MAX_EVENTS)
    }
}

impl EventLog {
    pub fn new(capacity: usize) -> EventLog {
        EventLog {
            events: VecDeque::new(),
            capacity,
        }
    }

    pub fn push(&mut self, event: LoggedEvent) {
        if self.events.len() >= self.capacity.max(1) {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &LoggedEvent> {
        self.events.iter()
    }

    /// All of them as one JSON array's text (`$events`).
    pub fn json_array(&self) -> Vec<u8> {
        let len: usize = self.events.iter().map(|e| e.text.len() + 1).sum();
        let mut out = Vec::with_capacity(len + 2);
        out.push(b'[');
        for (i, e) in self.events.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(e.text.as_bytes());
        }
        out.push(b']');
        out
    }
}

/// `record` with `"received": stamp` as its last key when it is an object (a `"received"`
/// it had already is then replaced where it stood, as a JSON reader takes the last of two).
fn stamped(record: &str, stamp: &str) -> String {
    let body = record.trim_end();
    let is_object = record.trim_start().starts_with('{') && body.ends_with('}');
    if !is_object {
        return record.to_string();
    }
    let inner = &body[..body.len() - 1];
    let empty = inner.trim() == "{";
    let mut out = String::with_capacity(body.len() + stamp.len() + 16);
    out.push_str(inner.trim_end());
    if !empty {
        out.push(',');
    }
    out.push_str("\"received\":");
    // A stamp is RFC 3339 text (no character JSON escapes), written as a JSON string.
    out.push_str(&Value::String(stamp.to_string()).to_string());
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_stamped_where_they_are_objects() {
        let stamp = "2026-12-03T10:00:00.123Z";
        let cases = [
            (
                r#"{"type":"HEARTBEAT"}"#,
                json!({"type": "HEARTBEAT", "received": stamp}),
            ),
            (" { } \n", json!({"received": stamp})),
            (
                r#"{"a": {"b": "}"}, "received": 1 }"#,
                json!({"a": {"b": "}"}, "received": stamp}),
            ),
            ("[1, 2]", json!([1, 2])),
            ("\"x\"", json!("x")),
        ];
        for (record, want) in cases {
            let e = LoggedEvent::new(record, None, stamp);
            assert_eq!(e.value(), want, "{record}");
        }
        let e = LoggedEvent::new(r#"{"type":"UPDATE"}"#, Some("UPDATE"), stamp);
        assert_eq!(e.kind(), Some("UPDATE"));
        assert_eq!(
            e.value()
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["type".to_string(), "received".to_string()])
        );
    }

    #[test]
    fn the_log_keeps_the_last_events_and_writes_them_as_an_array() {
        let mut log = EventLog::new(3);
        for i in 0..5 {
            log.push(LoggedEvent::new(&format!("{{\"n\":{i}}}"), None, "t"));
        }
        assert_eq!(log.len(), 3);
        let all: Value = serde_json::from_slice(&log.json_array()).unwrap();
        assert_eq!(
            all,
            json!([{"n": 2, "received": "t"}, {"n": 3, "received": "t"}, {"n": 4, "received": "t"}])
        );
        assert_eq!(EventLog::new(2).json_array(), b"[]");
    }
}
