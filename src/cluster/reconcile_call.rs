//! A RECONCILE's task list read from the call's text, borrowing it: a framework that
//! reconciles 20,000 tasks sends a megabyte of `{"task_id": {"value": ...}}`, and reading
//! it into a `Value` (two maps a task) was half of what the master spent on the call. The
//! rest of the call is read as every call is, with the list left empty in it; a list that
//! does not read as `Call.Reconcile.Task`s exactly (a field of another type, one not in the
//! message) is read the usual way, for the usual error.

use crate::mesos::v1::scheduler::ReconcileTask;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The call without its task list, and the list.
pub struct Split {
    pub rest: Vec<u8>,
    pub tasks: Vec<ReconcileTask>,
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reconcile: Option<PeekReconcile<'a>>,
}

#[derive(Deserialize)]
struct PeekReconcile<'a> {
    #[serde(borrow, default)]
    tasks: Option<&'a RawValue>,
}

/// `body` split when it is a RECONCILE with a task list that reads as one.
pub fn split(body: &[u8]) -> Option<Split> {
    let peek: Peek<'_> = serde_json::from_slice(body).ok()?;
    if peek.kind.as_deref() != Some("RECONCILE") {
        return None;
    }
    let raw = peek.reconcile?.tasks?;
    let tasks: Vec<ReconcileTask> = serde_json::from_str(raw.get()).ok()?;
    // A field the message does not have is the usual reading's to answer.
    let unknown = |t: &ReconcileTask| {
        !t.extra.is_empty()
            || !t.task_id.extra.is_empty()
            || t.agent_id.as_ref().is_some_and(|a| !a.extra.is_empty())
    };
    if tasks.iter().any(unknown) {
        return None;
    }
    // Where the list lies in the body (the raw value is a slice of it).
    let text = raw.get().as_bytes();
    let start = (text.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
    let end = start.checked_add(text.len())?;
    if body.get(start..end)? != text {
        return None;
    }
    let mut rest = Vec::with_capacity(body.len() - text.len() + 2);
    rest.extend_from_slice(&body[..start]);
    rest.extend_from_slice(b"[]");
    rest.extend_from_slice(&body[end..]);
    Some(Split { rest, tasks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn a_reconcile_is_split_into_its_list_and_the_rest() {
        let body = br#"{"type": "RECONCILE", "framework_id": {"value": "F"},
            "reconcile": {"tasks": [{"task_id": {"value": "a"}},
                {"task_id": {"value": "b\u00e9"}, "agent_id": {"value": "S1"}}]}}"#;
        let s = split(body).expect("split");
        let rest: Value = serde_json::from_slice(&s.rest).unwrap();
        assert_eq!(
            rest,
            json!({"type": "RECONCILE", "framework_id": {"value": "F"}, "reconcile": {"tasks": []}})
        );
        assert_eq!(s.tasks.len(), 2);
        assert_eq!(s.tasks[1].task_id.as_str(), "b\u{e9}");
        assert_eq!(s.tasks[1].agent_id.as_ref().unwrap().as_str(), "S1");
        assert!(s.tasks[0].agent_id.is_none());
    }

    #[test]
    fn anything_else_is_read_the_usual_way() {
        for body in [
            r#"{"type": "KILL", "kill": {"task_id": {"value": "a"}}}"#,
            r#"{"type": "RECONCILE", "reconcile": {}}"#,
            r#"{"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": 1}}]}}"#,
            r#"{"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "a"}, "x": 1}]}}"#,
            r#"{"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "a", "x": 1}}]}}"#,
            r#"{"type": "RECONCILE", "reconcile": {"tasks": [{"agent_id": {"value": "a"}}]}}"#,
            r#"{"type": "RECONCILE", "type": "RECONCILE", "reconcile": {"tasks": []}}"#,
            r#"{"type": "RECONCILE", "reconcile": {"tasks": []}"#,
            "not json",
        ] {
            assert!(split(body.as_bytes()).is_none(), "{body}");
        }
    }
}
