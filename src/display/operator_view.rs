//! The live view of the operator event stream: where the stream is (master, connected or
//! reconnecting and why, the last heartbeat), the cluster it describes (a summary, agents,
//! frameworks, tasks and their states) and its latest events, one line each. It is drawn
//! from borrowed parts of the stream's state, so redrawing it ten times a second over a
//! big cluster copies nothing but the rows it shows.

use super::mesos_tables::{agents, count_states, frameworks, state_rows, tasks};
use super::resources::field;
use super::table::{tables_bundle, truncate, Cell, Table, Tone};
use super::Bundle;
use crate::mesos::v1::operator::master::EventType;
use serde_json::Value;
use std::collections::HashMap;

/// Events shown; `$operator.events` has them all.
pub const SHOWN_EVENTS: usize = 10;

/// What the view shows, borrowed from the stream's state.
pub struct OperatorView<'a> {
    /// `connected`, `connecting`, `reconnecting` or `closed`.
    pub status: &'a str,
    pub problem: Option<&'a str>,
    pub master: &'a str,
    pub last_heartbeat: Option<&'a str>,
    pub events_received: u64,
    pub agents: Vec<&'a Value>,
    pub frameworks: Vec<&'a Value>,
    /// In the order to show them (live tasks first).
    pub tasks: Vec<&'a Value>,
    /// Live (not ended) tasks per framework id.
    pub live_tasks: HashMap<String, usize>,
    /// The latest events, oldest first (HEARTBEATs left out).
    pub events: Vec<&'a Value>,
}

fn status_cell(status: &str, problem: Option<&str>) -> Cell {
    let tone = match status {
        "connected" => Tone::Good,
        "closed" => Tone::Muted,
        _ => Tone::Warn,
    };
    let text = match problem {
        Some(p) => format!("{status}: {p}"),
        None => status.to_string(),
    };
    Cell::toned(text, tone)
}

/// One line saying what an event was about.
pub fn event_detail(event: &Value) -> String {
    let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
    let body = event.get(kind.to_ascii_lowercase()).unwrap_or(&Value::Null);
    let kind = EventType::from_name(kind);
    let or_blank = |s: String, f: &dyn Fn(String) -> String| {
        if s.is_empty() {
            String::new()
        } else {
            f(s)
        }
    };
    match kind {
        EventType::Subscribed => format!(
            "{} agents, {} frameworks, {} tasks",
            body["agents"], body["frameworks"], body["tasks"]
        ),
        EventType::TaskAdded => {
            let t = &body["task"];
            format!(
                "task {} ({}) of {} on {}: {}",
                field(t, "task_id"),
                field(t, "name"),
                field(t, "framework_id"),
                field(t, "agent_id"),
                field(t, "state")
            )
        }
        EventType::TaskUpdated => {
            let s = &body["status"];
            let why = [field(s, "reason"), field(s, "message")]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            format!(
                "task {} of {}: {}{}",
                field(s, "task_id"),
                field(body, "framework_id"),
                field(body, "state"),
                or_blank(why, &|w| format!(" ({w})"))
            )
        }
        EventType::AgentAdded => {
            let info = &body["agent"]["agent_info"];
            format!(
                "agent {}{}",
                field(info, "id"),
                or_blank(field(info, "hostname"), &|h| format!(" ({h})"))
            )
        }
        EventType::AgentRemoved => format!("agent {}", field(body, "agent_id")),
        EventType::FrameworkAdded | EventType::FrameworkUpdated | EventType::FrameworkRemoved => {
            let info = body
                .get("framework")
                .and_then(|f| f.get("framework_info"))
                .or_else(|| body.get("framework_info"))
                .unwrap_or(&Value::Null);
            format!(
                "framework {}{}",
                field(info, "id"),
                or_blank(field(info, "name"), &|n| format!(" ({n})"))
            )
        }
        _ if body.is_null() => String::new(),
        _ => truncate(&body.to_string(), 160),
    }
}

/// The view as tables (`text/html` + `text/plain`).
pub fn operator_view(v: &OperatorView) -> Bundle {
    let mut head = vec![
        ("master".to_string(), Cell::new(v.master)),
        ("stream".to_string(), status_cell(v.status, v.problem)),
        (
            "last heartbeat".to_string(),
            Cell::new(v.last_heartbeat.unwrap_or("none yet")),
        ),
        (
            "events received".to_string(),
            Cell::new(v.events_received.to_string()),
        ),
        ("agents".to_string(), Cell::new(v.agents.len().to_string())),
        (
            "frameworks".to_string(),
            Cell::new(v.frameworks.len().to_string()),
        ),
    ];
    head.extend(state_rows(count_states(v.tasks.iter().copied())));
    let mut events = Table::new("latest events", &["received", "type", "detail"]);
    let skip = v.events.len().saturating_sub(SHOWN_EVENTS);
    for e in v.events.iter().skip(skip) {
        events.push(vec![
            Cell::new(e.get("received").and_then(Value::as_str).unwrap_or("")),
            Cell::new(e.get("type").and_then(Value::as_str).unwrap_or("?")),
            Cell::new(event_detail(e)),
        ]);
    }
    // The newest event on top, where the eye lands.
    events.rows.reverse();
    tables_bundle(&[
        Table::key_values("operator event stream", head),
        agents(v.agents.iter().copied()),
        frameworks(
            "frameworks",
            v.frameworks.iter().copied(),
            Some(&v.live_tasks),
        ),
        tasks(v.tasks.iter().copied()),
        events,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_view_shows_the_stream_the_cluster_and_the_latest_events() {
        let agent =
            json!({"agent_info": {"id": {"value": "S0"}, "hostname": "h0"}, "active": true});
        let fw = json!({"framework_info": {"id": {"value": "F0"}, "name": "web"}, "active": true, "connected": true});
        let running = json!({"task_id": {"value": "t1"}, "framework_id": {"value": "F0"}, "agent_id": {"value": "S0"}, "name": "t1", "state": "TASK_RUNNING"});
        let done = json!({"task_id": {"value": "t0"}, "framework_id": {"value": "F0"}, "agent_id": {"value": "S0"}, "name": "t0", "state": "TASK_FINISHED"});
        let updated = json!({"type": "TASK_UPDATED", "received": "2024-01-01T00:00:01Z", "task_updated": {
            "framework_id": {"value": "F0"}, "state": "TASK_RUNNING",
            "status": {"task_id": {"value": "t1"}, "state": "TASK_RUNNING"}}});
        let gone = json!({"type": "AGENT_REMOVED", "received": "2024-01-01T00:00:02Z", "agent_removed": {"agent_id": {"value": "S9"}}});
        let view = OperatorView {
            status: "reconnecting",
            problem: Some("the master closed the stream"),
            master: "http://127.0.0.1:5050",
            last_heartbeat: None,
            events_received: 12,
            agents: vec![&agent],
            frameworks: vec![&fw],
            tasks: vec![&running, &done],
            live_tasks: HashMap::from([("F0".to_string(), 1)]),
            events: vec![&updated, &gone],
        };
        let b = operator_view(&view);
        let text = b.data["text/plain"].as_str().unwrap();
        assert!(
            text.contains("reconnecting: the master closed the stream"),
            "{text}"
        );
        assert!(text.contains("tasks TASK_RUNNING"), "{text}");
        assert!(text.contains("task t1 of F0: TASK_RUNNING"), "{text}");
        // The newest event comes first.
        let (removed, updated) = (
            text.find("agent S9").unwrap(),
            text.find("task t1 of F0").unwrap(),
        );
        assert!(removed < updated, "{text}");
        let html = b.data["text/html"].as_str().unwrap();
        assert!(html.contains("<caption>agents: 1 row</caption>"), "{html}");
        assert!(html.contains("mk-warn"), "the status is toned: {html}");
        // The framework's live tasks are counted.
        assert!(
            text.lines()
                .any(|l| l.starts_with("F0") && l.split_whitespace().last() == Some("1")),
            "{text}"
        );
    }
}
