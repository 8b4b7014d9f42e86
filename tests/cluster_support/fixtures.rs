//! The recorded answers of real Mesos in `../shared/fixtures/real-mesos/`, and which request
//! each answers, read from the table of its `SOURCES.md` (the `answers` and `counted`
//! columns). A fixture may answer several requests (a `/containers` answer is also read as
//! `/monitor/statistics`, keeping the keys both write), and an operator event recording
//! answers one request per event type it holds (its SUBSCRIBED snapshot also as GET_STATE).
#![allow(dead_code)]

use serde_json::{json, Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// Master or agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Process {
    Master,
    Agent,
}

/// A request whose answer can be compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET path`, with the name of the query parameter it was asked with, if any.
    Get {
        process: Process,
        path: String,
        query: Option<String>,
    },
    /// A v1 operator API call by type.
    Call { process: Process, call: String },
    /// An event of the master's operator SUBSCRIBE stream, by type.
    Event(String),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = |p: &Process| match p {
            Process::Master => "master",
            Process::Agent => "agent",
        };
        match self {
            Endpoint::Get {
                process,
                path,
                query,
            } => {
                write!(f, "{} GET {path}", who(process))?;
                if let Some(q) = query {
                    write!(f, "?{q}=")?;
                }
                Ok(())
            }
            Endpoint::Call { process, call } => write!(f, "{} v1 {call}", who(process)),
            Endpoint::Event(kind) => write!(f, "master v1 SUBSCRIBE event {kind}"),
        }
    }
}

/// One recorded answer: the JSON real Mesos gave for one endpoint.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub file: String,
    pub endpoint: Endpoint,
    /// Made part of the headline figure (Mesos 1.x recordings; see SOURCES.md).
    pub counted: bool,
    /// The answers (several for an event type the recording holds several times).
    pub answers: Vec<Value>,
}

/// A fixture whose `answers` column this test cannot read: counted as wholly missed.
#[derive(Debug, Clone)]
pub struct Unread {
    pub file: String,
    pub answers: String,
    pub counted: bool,
}

/// The folder named by `REAL_MESOS_FIXTURES`, else
/// `CARGO_MANIFEST_DIR/../shared/fixtures/real-mesos`, when it is there.
pub fn folder() -> Option<PathBuf> {
    let dir = match std::env::var_os("REAL_MESOS_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real-mesos"),
    };
    dir.join("SOURCES.md").is_file().then_some(dir)
}

/// Every recorded answer of the folder, and the fixtures it could not place.
pub fn load(dir: &Path) -> (Vec<Recorded>, Vec<Unread>) {
    let sources = std::fs::read_to_string(dir.join("SOURCES.md"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("SOURCES.md").display()));
    let mut recorded = Vec::new();
    let mut unread = Vec::new();
    for row in table_rows(&sources) {
        let path = dir.join(&row.file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match answers_of(&row.answers, &json) {
            Some(list) => {
                for (endpoint, answers) in list {
                    recorded.push(Recorded {
                        file: row.file.clone(),
                        endpoint,
                        counted: row.counted,
                        answers,
                    });
                }
            }
            None => unread.push(Unread {
                file: row.file.clone(),
                answers: row.answers.clone(),
                counted: row.counted,
            }),
        }
    }
    (recorded, unread)
}

struct Row {
    file: String,
    answers: String,
    counted: bool,
}

/// The rows of the table: `| `file` | answers | version | kind | counted | source |`.
fn table_rows(markdown: &str) -> Vec<Row> {
    markdown
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // ["", file, answers, version, kind, counted, source, ""]
            let file = cells.get(1)?.trim_matches('`').to_string();
            Some(Row {
                file,
                answers: cells.get(2)?.to_string(),
                counted: *cells.get(5)? == "yes",
            })
        })
        .collect()
}

/// The endpoints a fixture answers, with its answer for each; `None` when the `answers`
/// text names something this test does not know how to ask.
fn answers_of(answers: &str, json: &Value) -> Option<Vec<(Endpoint, Vec<Value>)>> {
    let answers = answers.trim();
    // "5 operator event types (FRAMEWORK_ADDED, GET_STATE, SUBSCRIBED, ...)"
    if let Some(list) = answers
        .split_once("operator event types (")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
    {
        return list
            .split(',')
            .map(|kind| events_of(kind.trim(), json))
            .collect();
    }
    // "master v1 SUBSCRIBE event TASK_UPDATED"
    if let Some(kind) = answers.strip_prefix("master v1 SUBSCRIBE event ") {
        return events_of(kind.trim(), json).map(|e| vec![e]);
    }
    let endpoints: Vec<Endpoint> = answers
        .split(';')
        .map(|part| endpoint_of(part.trim()))
        .collect::<Option<_>>()?;
    // The file is the answer of the endpoint every other one can be derived from (the
    // column lists them in no fixed order).
    endpoints.iter().find_map(|primary| {
        endpoints
            .iter()
            .map(|wanted| {
                let answer = if wanted == primary {
                    Some(json.clone())
                } else {
                    derived(primary, wanted, json)
                };
                answer.map(|a| (wanted.clone(), vec![a]))
            })
            .collect::<Option<Vec<_>>>()
    })
}

/// The events of one type in a recorded event stream; `GET_STATE` is the SUBSCRIBED
/// event's snapshot, as a GET_STATE answer.
fn events_of(kind: &str, json: &Value) -> Option<(Endpoint, Vec<Value>)> {
    let events = json.as_array()?;
    if kind == "GET_STATE" {
        let states: Vec<Value> = events
            .iter()
            .filter(|e| e["type"] == "SUBSCRIBED")
            .filter_map(|e| e.pointer("/subscribed/get_state"))
            .map(|s| json!({"type": "GET_STATE", "get_state": s}))
            .collect();
        let endpoint = Endpoint::Call {
            process: Process::Master,
            call: "GET_STATE".into(),
        };
        return (!states.is_empty()).then_some((endpoint, states));
    }
    let of_kind: Vec<Value> = events
        .iter()
        .filter(|e| e["type"] == kind)
        .cloned()
        .collect();
    (!of_kind.is_empty()).then(|| (Endpoint::Event(kind.to_string()), of_kind))
}

/// `master GET /master/slaves (`slave_id=` query)`, `agent v1 GET_FLAGS`, ...
fn endpoint_of(text: &str) -> Option<Endpoint> {
    let (who, rest) = text.split_once(' ')?;
    let process = match who {
        "master" => Process::Master,
        "agent" => Process::Agent,
        _ => return None,
    };
    if let Some(call) = rest.strip_prefix("v1 ") {
        let call = call.trim();
        let known = call.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        return known.then(|| Endpoint::Call {
            process,
            call: call.to_string(),
        });
    }
    let rest = rest.strip_prefix("GET ")?;
    let (path, query) = match rest.split_once(" (`") {
        Some((path, q)) => (path, Some(q.split('=').next()?.to_string())),
        None => (rest, None),
    };
    Some(Endpoint::Get {
        process,
        path: path.trim().to_string(),
        query,
    })
}

/// A fixture's answer read as a sibling endpoint's (SOURCES.md's "derived" kinds).
fn derived(primary: &Endpoint, wanted: &Endpoint, json: &Value) -> Option<Value> {
    let get = |e: &Endpoint| match e {
        Endpoint::Get { path, .. } => Some(path.clone()),
        Endpoint::Call { call, .. } => Some(call.clone()),
        Endpoint::Event(_) => None,
    };
    match (get(primary)?.as_str(), get(wanted)?.as_str()) {
        // `/containers` less what `/monitor/statistics` does not write (src/slave/http.cpp).
        ("/containers", "/monitor/statistics") => Some(Value::Array(
            json.as_array()?
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    if let Some(o) = c.as_object_mut() {
                        o.remove("container_id");
                        o.remove("status");
                    }
                    c
                })
                .collect(),
        )),
        // The same metrics registry as a flat map.
        ("GET_METRICS", "/metrics/snapshot") => {
            let mut flat = Map::new();
            for m in json.pointer("/get_metrics/metrics")?.as_array()? {
                flat.insert(m["name"].as_str()?.to_string(), m["value"].clone());
            }
            Some(Value::Object(flat))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_column_forms() {
        assert_eq!(
            endpoint_of("master GET /master/slaves (`slave_id=` query)"),
            Some(Endpoint::Get {
                process: Process::Master,
                path: "/master/slaves".into(),
                query: Some("slave_id".into())
            })
        );
        assert_eq!(
            endpoint_of("agent v1 GET_FLAGS"),
            Some(Endpoint::Call {
                process: Process::Agent,
                call: "GET_FLAGS".into()
            })
        );
        assert_eq!(endpoint_of("4 operator event types"), None);
        let events = json!([
            {"type": "SUBSCRIBED", "subscribed": {"get_state": {"get_tasks": {}}}},
            {"type": "HEARTBEAT"}
        ]);
        let list = answers_of("2 operator event types (GET_STATE, HEARTBEAT)", &events)
            .unwrap_or_default();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].1[0]["get_state"]["get_tasks"], json!({}));
        let metrics = json!({"type": "GET_METRICS",
            "get_metrics": {"metrics": [{"name": "a/b", "value": 1.0}]}});
        let list = answers_of(
            "master GET /metrics/snapshot; master v1 GET_METRICS",
            &metrics,
        )
        .unwrap_or_default();
        assert_eq!(list[1].1[0], metrics);
        assert_eq!(list[0].1[0], json!({"a/b": 1.0}));
    }
}
