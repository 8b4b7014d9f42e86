//! Session variables: every name a cell bound, `$_` (the last result), and the values the
//! kernel maintains (later `$master`, `$agent`, `$offers` ...). All are jq variables.

use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Variables {
    values: BTreeMap<String, Value>,
    /// Bumped on every assignment: the jq worker keeps converted copies of the variables
    /// and is sent a value again only when its generation changed.
    generations: BTreeMap<String, u64>,
    assignments: u64,
}

impl Variables {
    pub fn set(&mut self, name: &str, value: Value) {
        self.assignments += 1;
        self.values.insert(name.to_string(), value);
        self.generations.insert(name.to_string(), self.assignments);
    }

    /// Changes each time `name` is assigned; `None` when it is not set.
    pub fn generation(&self, name: &str) -> Option<u64> {
        self.generations.get(name).copied()
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.values.iter()
    }

    /// The variables `code` mentions, cloned for an evaluation. Only those are converted,
    /// so a large `$state` costs nothing to expressions that do not use it.
    pub fn referenced(&self, code: &str) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = Vec::new();
        for name in referenced_names(code) {
            if out.iter().any(|(n, _)| n == name) {
                continue;
            }
            if let Some(v) = self.values.get(name) {
                out.push((name.to_string(), v.clone()));
            }
        }
        out
    }
}

/// `$name` occurrences in jq code (outside strings is not checked: an extra variable is
/// harmless).
pub fn referenced_names(code: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end > start {
                out.push(&code[start..end]);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// One line saying what a value is, for `%vars` and inspection.
pub fn summarize(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let shown: String = s.chars().take(60).collect();
            if shown.len() < s.len() {
                format!("string ({} chars): {:?}…", s.chars().count(), shown)
            } else {
                format!("{s:?}")
            }
        }
        Value::Array(items) => format!("array of {} items", items.len()),
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().take(6).map(String::as_str).collect();
            let more = if map.len() > 6 { ", …" } else { "" };
            format!(
                "object with {} keys: {}{}",
                map.len(),
                keys.join(", "),
                more
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_referenced_variables_are_passed() {
        let mut v = Variables::default();
        v.set("state", json!({"big": [1, 2, 3]}));
        v.set("x", json!(1));
        v.set("_", json!(2));
        let got = v.referenced("$x + $_ + $x + $missing");
        assert_eq!(
            got,
            vec![("x".to_string(), json!(1)), ("_".to_string(), json!(2))]
        );
    }

    #[test]
    fn summaries() {
        assert_eq!(summarize(&json!([1, 2])), "array of 2 items");
        assert!(summarize(&json!({"a": 1})).starts_with("object with 1 keys: a"));
    }
}
