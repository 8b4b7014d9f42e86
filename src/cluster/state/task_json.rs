//! The parts of a task's v1 JSON that never change after launch (its resources as
//! allocated, the TaskInfo fields Mesos's `Task` repeats, the user), written once, the
//! first time an answer shows the task, and copied into every answer after that.
//!
//! Why: a 10,000-task GET_STATE spent most of its time converting each task's typed
//! resources to the endpoint format (a clone per resource) and escaping the same TaskInfo
//! strings again on every answer (`perf`: `Resource::clone`, `memmove`,
//! `format_escaped_str`, `Value::serialize`, two thirds of the cluster's samples). What
//! changes (the state, the statuses, the acknowledged status) is written per answer; the
//! statuses are kept as text already (`stored_status.rs`).

use super::StoredInfo;
use serde::Serialize;
use serde_json::value::RawValue;

/// The TaskInfo fields a v1 `Task` carries as they were given, in Mesos's order.
const INFO_FIELDS: [&str; 5] = [
    "labels",
    "discovery",
    "container",
    "health_check",
    "kill_policy",
];

#[derive(Debug)]
pub struct TaskJson {
    resources: Box<RawValue>,
    /// `labels`, `discovery` ... and `user`: those the task has, with their text.
    tail: Vec<(&'static str, Box<RawValue>)>,
}

impl TaskJson {
    /// `resources`: the task's resources in the v1 form; `info`: its stored TaskInfo;
    /// `user`: the user it runs as, when its command names one.
    pub fn new(resources: &impl Serialize, info: &StoredInfo, user: Option<&str>) -> TaskJson {
        let mut tail = Vec::new();
        for key in INFO_FIELDS {
            if let Some(v) = info.raw(key) {
                tail.push((key, v));
            }
        }
        if let Some(user) = user {
            tail.push(("user", raw(&user)));
        }
        TaskJson {
            resources: raw(resources),
            tail,
        }
    }

    /// The allocated resources' list, as text.
    pub fn resources(&self) -> &RawValue {
        &self.resources
    }

    /// The fields after the statuses, in order.
    pub fn tail(&self) -> impl Iterator<Item = (&'static str, &RawValue)> {
        self.tail.iter().map(|(k, v)| (*k, &**v))
    }
}

/// What `v` writes, kept as text. Writing these values cannot fail (their keys are
/// strings, their numbers finite); `null` would be kept were it ever to.
fn raw(v: &(impl Serialize + ?Sized)) -> Box<RawValue> {
    serde_json::value::to_raw_value(v).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_fields_a_task_has_in_order_and_the_user_last() {
        let info = json!({"name": "t", "kill_policy": {"grace_period": {"nanoseconds": 5}},
                          "labels": {"labels": [{"key": "k", "value": "v\"q"}]}});
        let j = TaskJson::new(
            &json!([{"name": "cpus"}]),
            &StoredInfo::new(&info),
            Some("nobody"),
        );
        assert_eq!(j.resources().get(), r#"[{"name":"cpus"}]"#);
        let tail: Vec<(&str, &str)> = j.tail().map(|(k, v)| (k, v.get())).collect();
        assert_eq!(
            tail,
            [
                ("labels", r#"{"labels":[{"key":"k","value":"v\"q"}]}"#),
                ("kill_policy", r#"{"grace_period":{"nanoseconds":5}}"#),
                ("user", r#""nobody""#),
            ]
        );
    }
}
