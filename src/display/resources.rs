//! Reading Mesos values for display: resources in both their shapes (legacy `{cpus, mem,
//! ports: "[9000-10000]"}` and v1 lists of `Resource`, read and summed with the vocabulary's
//! arithmetic), attributes, ids, times, numbers. Every reader is tolerant: a missing field, a
//! null or a number sent as a string never fails (a v1 item that does not read is left out).

use crate::mesos::v1::message::read_lenient;
use crate::mesos::v1::{self, Attribute, TimeInfo};
use serde::Deserialize;
use serde_json::Value;

/// The resources of an agent, framework, offer or task, summed by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub cpus: Option<f64>,
    pub mem: Option<f64>,
    pub disk: Option<f64>,
    pub gpus: Option<f64>,
    /// Ranges written as Mesos writes them: "[9000-10000, 31000-32000]".
    pub ports: Option<String>,
}

impl Resources {
    /// Reads a legacy resources object or a v1 Resource list; anything else is empty.
    pub fn parse(value: &Value) -> Resources {
        match value {
            Value::Object(map) => Resources {
                cpus: map.get("cpus").and_then(number),
                mem: map.get("mem").and_then(number),
                disk: map.get("disk").and_then(number),
                gpus: map.get("gpus").and_then(number),
                ports: map.get("ports").map(text).filter(|s| !s.is_empty()),
            },
            Value::Array(list) => {
                Resources::from_v1(list.iter().filter_map(read_lenient::<v1::Resource>))
            }
            _ => Resources::default(),
        }
    }

    /// Sums v1 resources by name, across roles and allocations.
    pub fn from_v1(list: impl IntoIterator<Item = v1::Resource>) -> Resources {
        let all = v1::Resources::from_resources(list);
        Resources {
            cpus: all.cpus(),
            mem: all.mem(),
            disk: all.disk(),
            gpus: all.gpus(),
            ports: all.ports().map(|p| p.to_string()),
        }
    }

    pub fn scalar(&self, name: &str) -> Option<f64> {
        match name {
            "cpus" => self.cpus,
            "mem" => self.mem,
            "disk" => self.disk,
            "gpus" => self.gpus,
            _ => None,
        }
    }
}

/// v1 attributes as the agent flag writes them: "rack:r2d2;pod:demo,dev".
pub fn attribute_list(list: &[Attribute]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

/// Attributes as the agent flag writes them: "rack:r2d2;pod:demo,dev". Reads the legacy
/// object and the v1 list of TEXT / SCALAR / RANGES / SET attributes.
pub fn attributes(value: &Value) -> String {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}:{}", text(v)))
            .collect::<Vec<_>>()
            .join(";"),
        Value::Array(list) => {
            let typed: Vec<Attribute> = list.iter().filter_map(read_lenient).collect();
            attribute_list(&typed)
        }
        Value::Null => String::new(),
        other => text(other),
    }
}

/// A number, or a string that holds one (some proxies and older masters send "2").
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// 2 -> "2", 0.30000000000000004 -> "0.3", 496.5 -> "496.5", 0.0123 -> "0.0123" (metrics
/// keep their small values): six decimals at most, float noise gone.
pub fn format_number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    if f.abs() < 1e-6 || f.abs() >= 1e15 {
        return format!("{f:e}");
    }
    let s = format!("{f:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub fn format_opt(f: Option<f64>) -> String {
    f.map(format_number).unwrap_or_default()
}

/// "0.2 / 2": used over total, each side blank when unknown.
pub fn used_of(used: Option<f64>, total: Option<f64>) -> String {
    match (used, total) {
        (None, None) => String::new(),
        (u, t) => format!("{} / {}", format_number(u.unwrap_or(0.0)), format_opt(t)),
    }
}

/// A value as one readable line: ids `{"value": "x"}` become `x`, strings lose their quotes,
/// numbers are tidy, other objects and arrays are compact JSON.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => n
            .as_f64()
            .map(format_number)
            .unwrap_or_else(|| n.to_string()),
        Value::Object(map) if map.len() == 1 && map.contains_key("value") => {
            map.get("value").map(text).unwrap_or_default()
        }
        other => {
            let s = serde_json::to_string(other).unwrap_or_default();
            super::table::truncate(&s, 1000)
        }
    }
}

/// The text of the field `key`, blank when absent.
pub fn field(value: &Value, key: &str) -> String {
    value.get(key).map(text).unwrap_or_default()
}

/// A boolean field; "true"/"false" strings count too.
pub fn flag(value: &Value, key: &str) -> Option<bool> {
    match value.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// A time as a UTC date: float seconds (legacy, TaskStatus.timestamp), a numeric string,
/// or a v1 TimeInfo `{"nanoseconds": N}`. Unreadable values are shown as they are.
pub fn time(value: &Value) -> String {
    let secs = match value {
        Value::Object(_) => TimeInfo::deserialize(value).ok().map(|t| t.as_secs()),
        other => number(other),
    };
    let Some(secs) = secs else {
        return text(value);
    };
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9) as u32;
    if whole.abs() > 1e13 {
        return format_number(secs);
    }
    match chrono::DateTime::from_timestamp(whole as i64, nanos.min(999_999_999)) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format_number(secs),
    }
}

/// A file mode as `ls` shows it: the legacy string as is, the v1 number (33188) as "-rw-r--r--".
pub fn file_mode(value: &Value) -> String {
    let Some(mode) = value.as_u64() else {
        return text(value);
    };
    let kind = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        0o060000 => 'b',
        0o020000 => 'c',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '-',
    };
    let mut out = String::with_capacity(10);
    out.push(kind);
    for shift in [6u32, 3, 0] {
        let bits = (mode >> shift) & 0o7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        out.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn legacy_resources() {
        let r = Resources::parse(
            &json!({"cpus": 2, "mem": 496.0, "disk": "4930", "ports": "[9000-10000]"}),
        );
        assert_eq!(r.cpus, Some(2.0));
        assert_eq!(r.mem, Some(496.0));
        assert_eq!(r.disk, Some(4930.0));
        assert_eq!(r.ports.as_deref(), Some("[9000-10000]"));
    }

    #[test]
    fn v1_resources_are_summed_and_ranges_written() {
        let r = Resources::parse(&json!([
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.5}, "role": "*"},
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "role": "web"},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 496}},
            {"name": "ports", "type": "RANGES", "ranges": {"range": [
                {"begin": 31000, "end": 32000}, {"begin": 9000, "end": 10000}]}},
            {"name": "weird"}, 7, null
        ]));
        assert_eq!(r.cpus, Some(2.0));
        assert_eq!(r.mem, Some(496.0));
        assert_eq!(r.disk, None);
        assert_eq!(r.ports.as_deref(), Some("[9000-10000, 31000-32000]"));
    }

    #[test]
    fn attributes_in_both_shapes() {
        assert_eq!(
            attributes(&json!({"rack": "r2d2", "pod": "demo,dev"})),
            "rack:r2d2;pod:demo,dev"
        );
        assert_eq!(
            attributes(&json!([
                {"name": "rack", "type": "TEXT", "text": {"value": "r2d2"}},
                {"name": "level", "type": "SCALAR", "scalar": {"value": 3}},
                {"name": "p", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 2}]}},
                {"name": "s", "type": "SET", "set": {"item": ["a", "b"]}}
            ])),
            "rack:r2d2;level:3;p:[1-2];s:{a, b}"
        );
    }

    #[test]
    fn numbers_and_texts() {
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(496.5), "496.5");
        assert_eq!(format_number(0.0123), "0.0123");
        assert_eq!(format_number(1.0 / 3.0), "0.333333");
        assert_eq!(format_number(1e-9), "1e-9");
        assert_eq!(text(&json!({"value": "abc-S0"})), "abc-S0");
        assert_eq!(text(&json!(null)), "");
        assert_eq!(text(&json!(1764081618000000000i64)), "1764081618000000000");
        assert_eq!(text(&json!(2.0)), "2");
        assert_eq!(used_of(Some(0.2), Some(2.0)), "0.2 / 2");
        assert_eq!(used_of(None, Some(2.0)), "0 / 2");
        assert_eq!(used_of(None, None), "");
    }

    #[test]
    fn times_and_modes() {
        assert_eq!(time(&json!(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(time(&json!(1764081618.5)), "2025-11-25 14:40:18 UTC");
        assert_eq!(
            time(&json!({"nanoseconds": 1764081618000000000i64})),
            "2025-11-25 14:40:18 UTC"
        );
        assert_eq!(time(&json!("soon")), "soon");
        assert_eq!(time(&json!(1e300)), format_number(1e300));
        assert_eq!(file_mode(&json!(33188)), "-rw-r--r--");
        assert_eq!(file_mode(&json!(16877)), "drwxr-xr-x");
        assert_eq!(file_mode(&json!("-rw-r--r--")), "-rw-r--r--");
    }
}
