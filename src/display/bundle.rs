//! The JSON rendering every result without a table shape becomes, with its size cap.

use serde_json::{json, Value};

/// Beyond this many bytes of pretty JSON, the application/json part is cut and says so.
pub const JSON_CAP_BYTES: usize = 256 * 1024;

pub use crate::jupyter::bundle::Bundle;

// The type is the Jupyter core's (`jupyter::bundle`); the JSON tree every result without a
// table shape becomes is display's, so its constructor is written here.
impl Bundle {
    /// application/json (a collapsible tree in JupyterLab) with a text/plain fallback.
    /// Oversized values keep their first entries and a visible note of what was cut.
    pub fn json(value: &Value) -> Self {
        let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
        if pretty.len() <= JSON_CAP_BYTES {
            return Bundle::new()
                .with("application/json", wrap_scalar(value))
                .with("text/plain", pretty);
        }
        let (cut, note) = cap_value(value, JSON_CAP_BYTES);
        let mut text = serde_json::to_string_pretty(&cut).unwrap_or_default();
        text.push_str(&format!("\n... {note}"));
        Bundle::new()
            .with("application/json", wrap_scalar(&cut))
            .with("text/plain", text)
            .with_meta("mesos-kernel", json!({ "truncated": note }))
    }
}

/// JupyterLab's JSON renderer wants an object or array; scalars are shown as text only.
fn wrap_scalar(value: &Value) -> Value {
    match value {
        Value::Object(_) | Value::Array(_) => value.clone(),
        other => json!({ "value": other }),
    }
}

/// Keeps as many leading array items or object entries as fit in `cap` bytes, recursively
/// on the largest member, and describes what was left out.
fn cap_value(value: &Value, cap: usize) -> (Value, String) {
    match value {
        Value::Array(items) => {
            let mut kept = Vec::new();
            let mut used = 2;
            for item in items {
                let size = serde_json::to_string(item).map(|s| s.len()).unwrap_or(0) + 1;
                if used + size > cap {
                    break;
                }
                used += size;
                kept.push(item.clone());
            }
            let note = format!(
                "showing {} of {} items ({} bytes cap); the whole value is in $_",
                kept.len(),
                items.len(),
                cap
            );
            (Value::Array(kept), note)
        }
        Value::Object(map) => {
            // Cut the biggest member, keep the rest whole when they fit.
            let mut sizes: Vec<(String, usize)> = map
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        serde_json::to_string(v).map(|s| s.len()).unwrap_or(0),
                    )
                })
                .collect();
            sizes.sort_by_key(|b| std::cmp::Reverse(b.1));
            let others: usize = sizes.iter().skip(1).map(|(_, s)| *s).sum();
            let mut out = map.clone();
            let mut note =
                String::from("value cut to fit the display cap; the whole value is in $_");
            if let Some((biggest, _)) = sizes.first() {
                if let Some(inner) = map.get(biggest) {
                    let budget = cap.saturating_sub(others).max(1024);
                    let (cut, inner_note) = cap_value(inner, budget);
                    out.insert(biggest.clone(), cut);
                    note = format!("{biggest}: {inner_note}");
                }
            }
            (Value::Object(out), note)
        }
        Value::String(s) => {
            let mut end = cap.min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            (
                Value::String(s[..end].to_string()),
                format!("string cut at {end} of {} bytes", s.len()),
            )
        }
        other => (other.clone(), String::from("value shown whole")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_whole() {
        let b = Bundle::json(&json!({"a": 1}));
        assert_eq!(b.data["application/json"], json!({"a": 1}));
        assert!(b.plain().unwrap().contains("\"a\": 1"));
    }

    #[test]
    fn big_arrays_are_cut_with_a_note() {
        let big: Vec<Value> = (0..100_000)
            .map(|i| json!({"id": i, "pad": "xxxxxxxxxx"}))
            .collect();
        let b = Bundle::json(&json!({"tasks": big, "count": 100000}));
        let text = b.plain().unwrap();
        assert!(text.len() < JSON_CAP_BYTES * 2);
        assert!(
            text.contains("of 100000 items"),
            "{}",
            &text[text.len() - 200..]
        );
        assert_eq!(b.data["application/json"]["count"], json!(100000));
    }
}
