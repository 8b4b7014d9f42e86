//! A task's latest status as the session keeps it (`$tasks` shows it): the status's text as
//! the master sent it, and the task's name when the kernel launched it (a TaskStatus carries
//! none). A reconcile flood brings tens of thousands of updates; building a `Value` of each
//! status was a quarter of what reading one cost, and `$tasks` is written from the text.

use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct KnownTask {
    /// The status's JSON as it came (an object, unless the master sent something odd).
    status: Box<str>,
    /// Written into the status where it has no `name` of its own.
    name: Option<Box<str>>,
}

impl KnownTask {
    /// A status that came on the stream; `name` is the task's name known from before.
    pub fn received(status: &RawValue, name: Option<Box<str>>) -> KnownTask {
        KnownTask {
            status: status.get().into(),
            name,
        }
    }

    /// A status the kernel writes itself (a task just sent: STAGING), its name in it.
    pub fn from_value(status: &Value) -> KnownTask {
        let mut status = status.clone();
        let name = match &mut status {
            Value::Object(m) => match m.shift_remove("name") {
                Some(Value::String(name)) => Some(name.into_boxed_str()),
                Some(other) => {
                    m.insert("name".into(), other);
                    None
                }
                None => None,
            },
            _ => None,
        };
        KnownTask {
            status: status.to_string().into_boxed_str(),
            name,
        }
    }

    /// The name to carry into the task's next status.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Gives the task a name where it has none (a task learnt of by reconciliation, its
    /// name read from the master's state).
    pub fn name_if_absent(&mut self, name: &str) {
        if self.name.is_none() && self.to_value().get("name").is_none() {
            self.name = Some(name.into());
        }
    }

    /// The status as a `Value`, with the name (after the status's own fields).
    pub fn to_value(&self) -> Value {
        let mut value: Value = serde_json::from_str(&self.status).unwrap_or_default();
        if let (Value::Object(m), Some(name)) = (&mut value, &self.name) {
            m.entry("name")
                .or_insert_with(|| Value::String(name.to_string()));
        }
        value
    }

    /// Appends the status's JSON, with the name, as `to_value` would write it.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let text = &*self.status;
        let Some(name) = self.name.as_deref().filter(|_| text.ends_with('}')) else {
            out.extend_from_slice(text.as_bytes());
            return;
        };
        let body = text[..text.len() - 1].trim_end();
        out.extend_from_slice(body.as_bytes());
        if body.trim_start_matches('{').trim().is_empty() {
            out.extend_from_slice(b"\"name\":");
        } else {
            out.extend_from_slice(b",\"name\":");
        }
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, name);
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn written(t: &KnownTask) -> Value {
        let mut out = Vec::new();
        t.write_json(&mut out);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn a_received_status_is_kept_as_it_came_with_the_name_added() {
        let raw: Box<RawValue> =
            serde_json::from_str(r#"{ "task_id": {"value": "t"}, "state": "TASK_RUNNING" }"#)
                .unwrap();
        let t = KnownTask::received(&raw, Some("web".into()));
        let want = json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING", "name": "web"});
        assert_eq!(t.to_value(), want);
        assert_eq!(written(&t), want);
        // Key order too: the name after the status's own fields, as `to_value` has it.
        assert_eq!(written(&t).to_string(), want.to_string());
        let mut bare = KnownTask::received(&raw, None);
        assert!(bare.to_value().get("name").is_none());
        bare.name_if_absent("db");
        assert_eq!(bare.to_value()["name"], "db");
        let bare = KnownTask::received(&raw, None);
        assert_eq!(written(&bare), bare.to_value());
        assert!(bare.to_value().get("name").is_none());
    }

    #[test]
    fn a_placeholder_keeps_its_name_apart_and_writes_it_back() {
        let v = json!({"task_id": {"value": "t"}, "state": "TASK_STAGING", "name": "web"});
        let t = KnownTask::from_value(&v);
        assert_eq!(t.name(), Some("web"));
        assert_eq!(t.to_value(), v);
        assert_eq!(written(&t), v);
        // A name that is not a string stays where it was.
        let mut odd = KnownTask::from_value(&json!({"name": 3}));
        odd.name_if_absent("y");
        assert_eq!(odd.name(), None);
        assert_eq!(written(&odd), json!({"name": 3}));
    }

    #[test]
    fn odd_statuses_are_written_as_valid_json() {
        let empty: Box<RawValue> = serde_json::from_str("{ }").unwrap();
        let t = KnownTask::received(&empty, Some("x".into()));
        assert_eq!(written(&t), json!({"name": "x"}));
        let null: Box<RawValue> = serde_json::from_str("null").unwrap();
        let t = KnownTask::received(&null, Some("x".into()));
        assert_eq!(written(&t), Value::Null);
        assert_eq!(t.to_value(), Value::Null);
    }
}
