//! Field paths of a JSON answer and the comparison of two sets of them: what the conformance
//! test measures. A path names where a value sits (`get_tasks.tasks[].statuses[].state`)
//! together with the JSON types found there; arrays are read element by element and their
//! elements' paths united under `[]`.
//!
//! Objects whose keys are data rather than field names are read by key or as one wildcard:
//! the `flags` and `metrics` lists of the v1 API are keyed by their `name`
//! (`get_flags.flags[work_dir].value`), and the legacy JSON's maps keyed by something the
//! cluster's user chose (attribute names, role names) have `{*}` for their keys.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A JSON value's type; numbers are one type, as JSON has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn of(v: &Value) -> Kind {
        match v {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        };
        f.write_str(name)
    }
}

/// Every path of some answers, with the types seen at each.
#[derive(Debug, Clone, Default)]
pub struct Paths(pub BTreeMap<String, BTreeSet<Kind>>);

/// Objects (under these keys) whose keys are chosen by the cluster's users: the legacy
/// `attributes` map and the maps of reserved resources by role.
const DATA_KEYED_OBJECTS: &[&str] = &[
    "attributes",
    "reserved_resources",
    "reserved_resources_full",
    "reserved_resources_allocated",
];

/// Lists of `{"name": ..., "value": ...}` read as maps by name.
const NAMED_LISTS: &[&str] = &["flags", "metrics"];

impl Paths {
    pub fn of(value: &Value) -> Paths {
        let mut paths = Paths::default();
        paths.add(value);
        paths
    }

    pub fn add(&mut self, value: &Value) {
        self.walk(value, String::new(), None);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn merge(&mut self, other: &Paths) {
        for (path, kinds) in &other.0 {
            self.0
                .entry(path.clone())
                .or_default()
                .extend(kinds.iter().copied());
        }
    }

    fn note(&mut self, path: &str, kind: Kind) {
        self.0.entry(path.to_string()).or_default().insert(kind);
    }

    fn walk(&mut self, value: &Value, path: String, key: Option<&str>) {
        self.note(&path, Kind::of(value));
        let join = |name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            }
        };
        match value {
            Value::Object(o) => {
                let data_keyed = key.is_some_and(|k| DATA_KEYED_OBJECTS.contains(&k));
                for (k, child) in o {
                    let name = if data_keyed { "{*}" } else { k.as_str() };
                    self.walk(child, join(name), Some(k));
                }
            }
            Value::Array(items) => {
                let named = key.is_some_and(|k| NAMED_LISTS.contains(&k))
                    && items
                        .iter()
                        .all(|i| i.get("name").and_then(Value::as_str).is_some());
                for item in items {
                    if named {
                        let name = item["name"].as_str().unwrap_or_default();
                        let at = format!("{path}[{name}]");
                        self.note(&at, Kind::of(item));
                        if let Value::Object(fields) = item {
                            for (k, child) in fields.iter().filter(|(k, _)| *k != "name") {
                                self.walk(child, format!("{at}.{k}"), Some(k));
                            }
                        }
                    } else {
                        self.walk(item, format!("{path}[]"), key);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A path both sides have, where the cluster writes a type the recorded answers never have.
#[derive(Debug, Clone)]
pub struct Mismatch {
    pub path: String,
    pub recorded: BTreeSet<Kind>,
    pub cluster: BTreeSet<Kind>,
}

/// How the cluster's answers for one endpoint cover the recorded ones.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub recorded: usize,
    /// Recorded paths the cluster writes with a type the recording has there.
    pub covered: usize,
    pub missing: Vec<String>,
    pub mismatches: Vec<Mismatch>,
}

impl Coverage {
    pub fn compare(recorded: &Paths, cluster: &Paths) -> Coverage {
        let mut c = Coverage {
            recorded: recorded.len(),
            ..Coverage::default()
        };
        for (path, kinds) in &recorded.0 {
            match cluster.0.get(path) {
                None => c.missing.push(path.clone()),
                Some(ours) if ours.is_subset(kinds) => c.covered += 1,
                Some(ours) => c.mismatches.push(Mismatch {
                    path: path.clone(),
                    recorded: kinds.clone(),
                    cluster: ours.clone(),
                }),
            }
        }
        c
    }

    pub fn percent(&self) -> f64 {
        if self.recorded == 0 {
            return 100.0;
        }
        100.0 * self.covered as f64 / self.recorded as f64
    }
}

fn kinds(set: &BTreeSet<Kind>) -> String {
    set.iter()
        .map(Kind::to_string)
        .collect::<Vec<_>>()
        .join("|")
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: recorded {}, cluster {}",
            self.path,
            kinds(&self.recorded),
            kinds(&self.cluster)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_unite_their_elements_and_named_lists_go_by_name() {
        let p = Paths::of(&json!({
            "tasks": [{"a": 1}, {"b": "x"}],
            "flags": [{"name": "port", "value": "5050"}],
            "attributes": {"rack": "r1"}
        }));
        let keys: Vec<&str> = p.0.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "",
                "attributes",
                "attributes.{*}",
                "flags",
                "flags[port]",
                "flags[port].value",
                "tasks",
                "tasks[]",
                "tasks[].a",
                "tasks[].b"
            ]
        );
    }

    #[test]
    fn a_type_the_recording_lacks_is_a_mismatch() {
        let recorded = Paths::of(&json!({"labels": [{"key": "k"}], "n": 1}));
        let cluster = Paths::of(&json!({"labels": {"labels": []}, "n": 2.5}));
        let c = Coverage::compare(&recorded, &cluster);
        assert_eq!(c.recorded, 5);
        assert_eq!(c.covered, 2);
        assert_eq!(c.missing, ["labels[]", "labels[].key"]);
        assert_eq!(c.mismatches.len(), 1);
        assert_eq!(c.mismatches[0].path, "labels");
    }
}
