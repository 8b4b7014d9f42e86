//! Every recorded answer of real Mesos in `../shared/fixtures/real-mesos/` read through the
//! types that describe it and written back, compared as JSON values: nothing lost, no value
//! changed, and (written Mesos's way) the only additions are defaults. v1 answers and events
//! go through whole (`operator::master::Response`, `operator::agent::Response`,
//! `operator::master::Event`); the legacy endpoints' JSON is not v1, so there the v1
//! messages Mesos embeds in it go through (a task's `container`, `discovery`,
//! `health_check`, `labels`, `container_status`; an agent's `*_resources_full`; a
//! container's `statistics`). Skipped, with a message, when the folder is absent.
//!
//! Two allowances, both printed: an empty list may be left out (Mesos never writes one:
//! stout leaves out empty repeated fields, in 1.4.1 as now; the ones in these files come from
//! the tools that recorded them), and a fixture that `SOURCES.md` calls hand-assembled,
//! hand-written, trimmed or derived may lack required fields, so it is read leniently.

use super::message::{known_only, sparse};
use super::operator::{agent, master};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;

/// The shared folder of recorded answers, when this checkout has it.
pub(crate) fn real_mesos_dir() -> Option<PathBuf> {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("MESOS_KERNEL_FIXTURES").map(PathBuf::from),
        Some(here.join("../shared/fixtures/real-mesos")),
        Some(PathBuf::from("/work/shared/fixtures/real-mesos")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.is_dir())
}

/// Numbers compare by value: Mesos writes `5` where a double field reads `5.0` back.
fn same_number(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

/// Where `written` differs from `original`. With `additions` set, keys only in `written` are
/// collected there instead of being differences. An empty list left out is not a difference.
fn diff(
    original: &Value,
    written: &Value,
    path: &str,
    out: &mut Vec<String>,
    mut additions: Option<&mut Vec<String>>,
) {
    match (original, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}/{k}");
                match b.get(k) {
                    Some(w) => diff(v, w, &p, out, additions.as_deref_mut()),
                    None if v.as_array().is_some_and(Vec::is_empty) => {}
                    None => out.push(format!("{p}: lost")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                match additions.as_deref_mut() {
                    Some(add) => add.push(format!("{path}/{k}")),
                    None => out.push(format!("{path}/{k}: added")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                diff(v, w, &format!("{path}/{i}"), out, additions.as_deref_mut());
            }
        }
        (Value::Number(a), Value::Number(b)) if same_number(a, b) => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: {a} became {b}")),
    }
}

thread_local! {
    /// Whether the fixture being read may be incomplete (see the module's notes).
    static INCOMPLETE_OK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The places of fields the types did not know.
    static UNKNOWN: std::cell::RefCell<std::collections::BTreeSet<String>> = Default::default();
}

/// Mesos fields these types leave to pass through on purpose (as `extra`): the detailed
/// sub-reports of container statistics.
const UNTYPED: &[&str] = &[
    "perf",
    "blkio_statistics",
    "disk_statistics",
    "net_snmp_statistics",
    "net_traffic_control_statistics",
    "net_rate_statistics",
    "net_ephemeral_ports",
    "net_tx_rate_limit",
    "net_tx_burst_rate_limit",
    "net_tx_burst_size",
    "net_rx_rate_limit",
    "net_rx_burst_rate_limit",
    "net_rx_burst_size",
];

/// Reads `value` as `T` and writes it back both ways; the differences and the additions.
/// A fixture that may be incomplete and does not read strictly is read leniently, and then
/// only what it has is compared.
fn round_trip<T: DeserializeOwned + Serialize>(
    value: &Value,
    path: &str,
) -> (Vec<String>, Vec<String>) {
    let typed: T = match T::deserialize(value) {
        Ok(t) => t,
        Err(e) if INCOMPLETE_OK.with(std::cell::Cell::get) => {
            println!("read leniently: {path}: {e}");
            let Some(t) = super::message::read_lenient::<T>(value) else {
                return (
                    vec![format!("{path}: does not read even leniently: {e}")],
                    Vec::new(),
                );
            };
            let mut problems = Vec::new();
            let written = serde_json::to_value(&t).unwrap_or(Value::Null);
            diff(value, &written, path, &mut problems, Some(&mut Vec::new()));
            return (problems, Vec::new());
        }
        Err(e) => return (vec![format!("{path}: does not read: {e}")], Vec::new()),
    };
    let mut problems = Vec::new();
    // Fields the types do not know: what a written-without-them copy loses.
    let known = known_only(|| sparse(|| serde_json::to_value(&typed))).unwrap_or(Value::Null);
    let mut unknown = Vec::new();
    diff(value, &known, path, &mut unknown, None);
    UNKNOWN.with(|u| {
        u.borrow_mut().extend(
            unknown
                .iter()
                .map(|p| strip_indices(p.trim_end_matches(": lost"))),
        )
    });
    let exact = sparse(|| serde_json::to_value(&typed)).unwrap_or(Value::Null);
    diff(value, &exact, path, &mut problems, None);
    let mesos = serde_json::to_value(&typed).unwrap_or(Value::Null);
    let mut added = Vec::new();
    diff(value, &mesos, path, &mut problems, Some(&mut added));
    (problems, added)
}

type Check = fn(&Value, &str) -> (Vec<String>, Vec<String>);

/// The v1 message each key of legacy JSON holds, where it holds one.
fn legacy_check(key: &str, file: &str) -> Option<Check> {
    Some(match key {
        "discovery" => round_trip::<super::DiscoveryInfo>,
        "container" => round_trip::<super::ContainerInfo>,
        "health_check" => round_trip::<super::checks::HealthCheck>,
        "container_status" => round_trip::<super::ContainerStatus>,
        "statistics" => round_trip::<super::statistics::ResourceStatistics>,
        "domain" => round_trip::<super::master::DomainInfo>,
        "status" if file.contains("containers") => round_trip::<super::ContainerStatus>,
        _ => return None,
    })
}

/// Walks legacy JSON and checks the v1 messages in it; returns how many it checked.
fn walk_legacy(
    v: &Value,
    path: &str,
    file: &str,
    problems: &mut Vec<String>,
    added: &mut Vec<String>,
) -> usize {
    let mut checked = 0;
    let check =
        |f: Check, v: &Value, p: &str, problems: &mut Vec<String>, added: &mut Vec<String>| {
            let (p, a) = f(v, p);
            problems.extend(p);
            added.extend(a);
            1
        };
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{path}/{k}");
                if let (Some(f), true) = (legacy_check(k, file), child.is_object()) {
                    checked += check(f, child, &p, problems, added);
                } else if k == "labels" && child.is_array() {
                    for (i, l) in child.as_array().into_iter().flatten().enumerate() {
                        checked += check(
                            round_trip::<super::Label>,
                            l,
                            &format!("{p}/{i}"),
                            problems,
                            added,
                        );
                    }
                } else if k.ends_with("_resources_full") || k.ends_with("_resources_allocated") {
                    let lists: Vec<(String, &Value)> = match child {
                        Value::Array(_) => vec![(p.clone(), child)],
                        Value::Object(m) => {
                            m.iter().map(|(r, l)| (format!("{p}/{r}"), l)).collect()
                        }
                        _ => Vec::new(),
                    };
                    for (lp, list) in lists {
                        for (i, r) in list.as_array().into_iter().flatten().enumerate() {
                            checked += check(
                                round_trip::<super::Resource>,
                                r,
                                &format!("{lp}/{i}"),
                                problems,
                                added,
                            );
                        }
                    }
                } else {
                    checked += walk_legacy(child, &p, file, problems, added);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                checked += walk_legacy(item, &format!("{path}/{i}"), file, problems, added);
            }
        }
        _ => {}
    }
    checked
}

#[test]
fn every_recorded_answer_goes_through_the_types_and_back() {
    let Some(dir) = real_mesos_dir() else {
        println!("skipped: no ../shared/fixtures/real-mesos (set MESOS_KERNEL_FIXTURES to run)");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let sources = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap_or_default();
    let mut problems = Vec::new();
    let mut whole = 0;
    let mut embedded = 0;
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{name}: not JSON: {e}"));
                continue;
            }
        };
        let kind = kind_of(&sources, &name);
        let incomplete_ok = sources.is_empty()
            || ["hand", "trimmed", "derived"]
                .iter()
                .any(|w| kind.contains(w));
        INCOMPLETE_OK.with(|c| c.set(incomplete_ok));
        let mut added = Vec::new();
        let v1 = value.get("type").is_some()
            || value
                .as_array()
                .and_then(|a| a.first())
                .is_some_and(|e| e.get("type").is_some());
        if v1 {
            let items: Vec<&Value> = match &value {
                Value::Array(events) => events.iter().collect(),
                one => vec![one],
            };
            for (i, item) in items.into_iter().enumerate() {
                let at = format!("{name}#{i}");
                let (p, a) = if value.is_array() {
                    round_trip::<master::Event>(item, &at)
                } else if name.contains(".agent.") {
                    round_trip::<agent::Response>(item, &at)
                } else {
                    round_trip::<master::Response>(item, &at)
                };
                problems.extend(p);
                added.extend(a);
                whole += 1;
            }
        } else {
            embedded += walk_legacy(&value, &name, &name, &mut problems, &mut added);
        }
        let places: std::collections::BTreeSet<String> =
            added.iter().map(|a| strip_indices(a)).collect();
        for place in places {
            println!("default added: {place}");
        }
    }
    println!(
        "{} fixture files: {whole} v1 answers and events whole, {embedded} v1 messages inside legacy JSON",
        files.len()
    );
    // A field of a fixture that lands in `extra` is a field the types miss (or misspell),
    // unless it is one left untyped on purpose.
    let unknown = UNKNOWN.with(|u| u.take());
    for place in &unknown {
        println!("passed through untyped: {place}");
        let field = place.rsplit('/').next().unwrap_or("");
        if !UNTYPED.contains(&field) {
            problems.push(format!("{place}: a field the types do not know"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(whole > 0 && embedded > 0);
}

/// The "kind" column of a fixture's row in `SOURCES.md`.
fn kind_of(sources: &str, file: &str) -> String {
    let cell = format!("| `{file}` |");
    sources
        .lines()
        .find(|l| l.starts_with(&cell))
        .and_then(|l| l.split('|').nth(4))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A path without its array indices, to list an addition once per place.
fn strip_indices(p: &str) -> String {
    p.split('/')
        .map(|s| s.split('#').next().unwrap_or(s))
        .filter(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join("/")
}
