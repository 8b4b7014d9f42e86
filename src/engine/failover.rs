//! The framework session across failovers, as cells see it: the ids of a re-subscription,
//! names for the tasks a reconciliation found, the session's notices (a lost stream, a
//! re-subscription, a framework taken over by another client) shown in the running cell as
//! they come, and the error of a statement that needs a session which has ended.

use crate::engine::errors::Kind;
use crate::engine::framework::urlencode;
use crate::engine::session::referenced_names;
use crate::engine::Engine;
use crate::jupyter::publisher::Publisher;
use crate::jupyter::{CellError, ExecuteContext};
use crate::mesos::scheduler::RECONCILE_WAIT;
use crate::mesos::scheduler::{taken_over, Session, FAILED_OVER};
use crate::mesos::v1::ids::id_text;
use crate::mesos::v1::TaskState;
use serde_json::Value;
use std::convert::Infallible;
use std::future::Future;
use tracing::debug;

/// Mesos wants a re-subscribing framework's id twice, as the call's `framework_id` and as
/// `framework_info.id` (`'framework_id' differs from 'subscribe.framework_info.id'`
/// otherwise): either given alone is copied to the other. Two different ids are left for
/// the master to refuse. Returns the framework id the call names, if any.
pub(crate) fn align_framework_ids(body: &mut Value) -> Option<String> {
    let top = body.get("framework_id").filter(|v| !v.is_null()).cloned();
    let info = body
        .pointer("/subscribe/framework_info/id")
        .filter(|v| !v.is_null())
        .cloned();
    match (&top, &info) {
        (Some(id), None) => {
            if let Some(Value::Object(fi)) = body.pointer_mut("/subscribe/framework_info") {
                fi.insert("id".into(), id.clone());
            }
        }
        (None, Some(id)) => {
            if let Value::Object(call) = body {
                call.insert("framework_id".into(), id.clone());
            }
        }
        _ => {}
    }
    top.or(info)
        .as_ref()
        .and_then(id_text)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

/// The variables that follow the framework session.
const SESSION_VARS: &[&str] = &[
    "framework_id",
    "stream_id",
    "offers",
    "tasks",
    "events",
    "last_heartbeat",
];

/// The error of a statement that needs a session which has ended, saying how it ended and
/// how to go on.
pub(crate) fn ended_error(session: &Session) -> CellError {
    let s = session.state();
    let why = s.ended.unwrap_or_else(|| "closed".into());
    let next = match &s.framework_id {
        Some(fid) if why == taken_over(&fid.value, FAILED_OVER) => {
            format!("SUBSCRIBE name=... id={fid} takes it back")
        }
        _ => "SUBSCRIBE again".to_string(),
    };
    CellError::new(
        Kind::InvalidCall.name(),
        format!("the framework session ended ({why}); {next}"),
    )
}

/// The most tasks of the framework the master is asked to list after a re-subscription.
const LISTED_TASKS: usize = 1000;

impl Engine {
    /// Names for the tasks a reconciliation found: Mesos's task statuses carry none, the
    /// master's task list does. That list also says which live tasks the reconciliation
    /// answers for: their answers are waited for (a bounded while), so `$tasks` holds them
    /// when SUBSCRIBE ends. Best effort: a master that does not answer (or does not let
    /// this principal see its tasks) leaves the names empty.
    pub(crate) async fn name_reconciled_tasks(
        &self,
        session: &Session,
        master: &str,
        ctx: &ExecuteContext,
    ) {
        let fid = session.state().framework_id.unwrap_or_default();
        let url = format!(
            "{master}/master/tasks?framework_id={}&limit={LISTED_TASKS}",
            urlencode(&fid.value)
        );
        let listed = match self.client.get_json(&url, self.timeout, &ctx.cancel).await {
            Ok(v) => v,
            Err(e) => {
                debug!("no task names from {url}: {e}");
                return;
            }
        };
        let tasks = listed.get("tasks").and_then(Value::as_array);
        let live: Vec<String> = tasks
            .into_iter()
            .flatten()
            .filter(|t| {
                t.get("state")
                    .and_then(Value::as_str)
                    .is_some_and(|st| !TaskState::from_loose(st).is_terminal())
            })
            .filter_map(|t| Some(t.get("id")?.as_str()?.to_string()))
            .collect();
        // An interrupt ends the wait; the cell's next statement reports it.
        let _ = session.has_tasks(&live, RECONCILE_WAIT, &ctx.cancel).await;
        let names: Vec<(String, String)> = tasks
            .into_iter()
            .flatten()
            .filter_map(|t| {
                let name = t.get("name")?.as_str()?.to_string();
                Some((t.get("id")?.as_str()?.to_string(), name))
            })
            .collect();
        session.with_state(|s| {
            for (id, name) in names {
                if let Some(t) = s.tasks.get_mut(&id) {
                    t.name_if_absent(&name);
                }
            }
        });
    }

    /// Shows the session's notices in the running cell's output as they come: a statement
    /// may wait long (OFFERS wait=, LAUNCH wait=, EVENTS follow=) while, say, another client
    /// takes the framework over. Never completes; the statement it runs beside does.
    pub(crate) fn forward_notices(
        &self,
        publisher: &Publisher,
    ) -> impl Future<Output = Infallible> + Send + 'static {
        let watched = self
            .session
            .as_ref()
            .map(|s| (s.changes(), s.state_handle()));
        let publisher = publisher.clone();
        async move {
            if let Some((mut rx, shared)) = watched {
                while rx.changed().await.is_ok() {
                    let notices = shared
                        .lock()
                        .map(|mut s| std::mem::take(&mut s.notices))
                        .unwrap_or_default();
                    for n in notices {
                        publisher.stream("stderr", &format!("{n}\n"));
                    }
                }
            }
            std::future::pending().await
        }
    }

    /// Shows the session's pending notices (reconnections, errors from the master).
    pub(crate) fn show_notices(&self, publisher: &Publisher) {
        if let Some(session) = &self.session {
            for n in session.take_notices() {
                publisher.stream("stderr", &format!("{n}\n"));
            }
        }
    }

    /// For WAIT: the error to end with when `code` waits on session variables of a session
    /// that has ended (they cannot change any more).
    pub(crate) fn ended_session_for(&self, code: &str) -> Option<CellError> {
        let session = self.session.as_ref().filter(|s| !s.is_active())?;
        let names = referenced_names(code);
        SESSION_VARS
            .iter()
            .any(|v| names.contains(v))
            .then(|| ended_error(session))
    }
}

#[cfg(test)]
mod tests {
    use super::align_framework_ids;
    use serde_json::json;

    fn subscribe(info_id: Option<&str>, top: Option<&str>) -> serde_json::Value {
        let mut call = json!({"type": "SUBSCRIBE",
            "subscribe": {"framework_info": {"user": "u", "name": "n"}}});
        if let Some(id) = info_id {
            call["subscribe"]["framework_info"]["id"] = json!({ "value": id });
        }
        if let Some(id) = top {
            call["framework_id"] = json!({ "value": id });
        }
        call
    }

    #[test]
    fn either_id_alone_is_copied_to_the_other() {
        for (info, top) in [
            (Some("f-1"), None),
            (None, Some("f-1")),
            (Some("f-1"), Some("f-1")),
        ] {
            let mut call = subscribe(info, top);
            assert_eq!(align_framework_ids(&mut call).as_deref(), Some("f-1"));
            assert_eq!(call, subscribe(Some("f-1"), Some("f-1")));
        }
    }

    #[test]
    fn different_ids_are_left_for_the_master_and_none_is_a_new_framework() {
        let mut call = subscribe(Some("a"), Some("b"));
        align_framework_ids(&mut call);
        assert_eq!(call, subscribe(Some("a"), Some("b")));
        let mut call = subscribe(None, None);
        assert_eq!(align_framework_ids(&mut call), None);
        assert_eq!(call, subscribe(None, None));
        // An empty id names no framework (Mesos registers a new one).
        let mut call = subscribe(Some(""), None);
        assert_eq!(align_framework_ids(&mut call), None);
    }
}
