//! Resource arithmetic for offers and tasks (cpus, mem, disk, gpus scalars and port ranges),
//! and their JSON forms: the v1 list of `Resource` messages and the legacy flat object.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use std::fmt;

/// Unreserved resources of one agent, offer or task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub cpus: f64,
    pub mem: f64,
    pub disk: f64,
    pub gpus: f64,
    /// Sorted, disjoint, inclusive ranges.
    pub ports: Vec<(u64, u64)>,
}

/// Mesos keeps scalars in fixed point with three decimals; so do we, so 0.1 + 0.2 fits 0.3.
fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn normalize(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.retain(|(b, e)| b <= e);
    ranges.sort();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (b, e) in ranges {
        match out.last_mut() {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

fn ranges_contain(outer: &[(u64, u64)], inner: &[(u64, u64)]) -> bool {
    inner
        .iter()
        .all(|(b, e)| outer.iter().any(|(ob, oe)| ob <= b && e <= oe))
}

fn ranges_minus(from: &[(u64, u64)], minus: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = from.to_vec();
    for &(mb, me) in minus {
        let mut next = Vec::new();
        for (b, e) in out {
            if me < b || mb > e {
                next.push((b, e));
                continue;
            }
            if b < mb {
                next.push((b, mb - 1));
            }
            if me < e {
                next.push((me + 1, e));
            }
        }
        out = next;
    }
    normalize(out)
}

/// Renders ranges as Mesos does in legacy JSON: `[9000-10000, 12000-12001]`.
pub fn ranges_text(ranges: &[(u64, u64)]) -> String {
    let parts: Vec<String> = ranges.iter().map(|(b, e)| format!("{b}-{e}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Parses `[9000-10000]` or `[1-2, 5-6]` (the agent flag form).
pub fn parse_ranges(text: &str) -> Result<Vec<(u64, u64)>, String> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (b, e) = part
            .split_once('-')
            .ok_or_else(|| format!("invalid range '{part}'"))?;
        let b: u64 = b
            .trim()
            .parse()
            .map_err(|_| format!("invalid range '{part}'"))?;
        let e: u64 = e
            .trim()
            .parse()
            .map_err(|_| format!("invalid range '{part}'"))?;
        if b > e {
            return Err(format!("invalid range '{part}'"));
        }
        out.push((b, e));
    }
    Ok(normalize(out))
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        self.cpus <= 0.0
            && self.mem <= 0.0
            && self.disk <= 0.0
            && self.gpus <= 0.0
            && self.ports.is_empty()
    }

    pub fn contains(&self, other: &Resources) -> bool {
        other.cpus <= self.cpus
            && other.mem <= self.mem
            && other.disk <= self.disk
            && other.gpus <= self.gpus
            && ranges_contain(&self.ports, &other.ports)
    }

    pub fn plus(&self, other: &Resources) -> Resources {
        let mut ports = self.ports.clone();
        ports.extend(other.ports.iter().copied());
        Resources {
            cpus: round(self.cpus + other.cpus),
            mem: round(self.mem + other.mem),
            disk: round(self.disk + other.disk),
            gpus: round(self.gpus + other.gpus),
            ports: normalize(ports),
        }
    }

    pub fn minus(&self, other: &Resources) -> Resources {
        Resources {
            cpus: round((self.cpus - other.cpus).max(0.0)),
            mem: round((self.mem - other.mem).max(0.0)),
            disk: round((self.disk - other.disk).max(0.0)),
            gpus: round((self.gpus - other.gpus).max(0.0)),
            ports: ranges_minus(&self.ports, &other.ports),
        }
    }

    /// Reads a v1 `resources` array. Unknown names and reserved roles are refused with a
    /// message, since the cluster only has unreserved cpus, mem, disk, gpus and ports.
    pub fn from_v1(list: &Value) -> Result<Resources, String> {
        let mut r = Resources::default();
        let Some(items) = list.as_array() else {
            if list.is_null() {
                return Ok(r);
            }
            return Err("'resources' must be an array".into());
        };
        for item in items {
            let name = item.get("name").and_then(Value::as_str).unwrap_or("");
            let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
            match (name, kind) {
                ("cpus" | "mem" | "disk" | "gpus", "SCALAR") => {
                    let v = item
                        .pointer("/scalar/value")
                        .and_then(Value::as_f64)
                        .ok_or_else(|| format!("Resource '{name}' has no scalar value"))?;
                    if v < 0.0 || !v.is_finite() {
                        return Err(format!("Invalid scalar resource {name}:{v}"));
                    }
                    let slot = match name {
                        "cpus" => &mut r.cpus,
                        "mem" => &mut r.mem,
                        "disk" => &mut r.disk,
                        _ => &mut r.gpus,
                    };
                    *slot = round(*slot + v);
                }
                ("ports", "RANGES") => {
                    let ranges = item
                        .pointer("/ranges/range")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for range in ranges {
                        let b = range.get("begin").and_then(Value::as_u64);
                        let e = range.get("end").and_then(Value::as_u64);
                        match (b, e) {
                            (Some(b), Some(e)) if b <= e => r.ports.push((b, e)),
                            _ => return Err(format!("Invalid ranges resource 'ports': {range}")),
                        }
                    }
                    r.ports = normalize(std::mem::take(&mut r.ports));
                }
                _ => {
                    return Err(format!(
                        "Resource '{name}' of type '{kind}' is not offered by this cluster"
                    ))
                }
            }
        }
        Ok(r)
    }

    /// The v1 form: a list of unreserved `Resource` messages.
    pub fn to_v1(&self) -> Value {
        serde_json::to_value(self.v1()).unwrap_or(Value::Null)
    }

    /// The v1 form as a view that serializes straight from these resources.
    pub fn v1(&self) -> V1<'_> {
        V1(self)
    }

    /// Whether the v1 form is an empty list (Mesos leaves such lists out).
    pub fn v1_is_empty(&self) -> bool {
        !self.scalars().any(|(_, v)| v > 0.0) && self.ports.is_empty()
    }

    /// The legacy form of `/master/state`: `{cpus, mem, disk, gpus, ports: "[a-b]"}`.
    pub fn to_legacy(&self) -> Value {
        serde_json::to_value(self.legacy()).unwrap_or(Value::Null)
    }

    pub fn legacy(&self) -> Legacy<'_> {
        Legacy(self)
    }

    fn scalars(&self) -> impl Iterator<Item = (&'static str, f64)> {
        [
            ("cpus", self.cpus),
            ("mem", self.mem),
            ("disk", self.disk),
            ("gpus", self.gpus),
        ]
        .into_iter()
    }
}

/// `Resources` as the v1 list of `Resource` messages, written without building `Value`s
/// (a big cluster's state has one per task, agent and executor).
pub struct V1<'a>(&'a Resources);

impl Serialize for V1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Scalar(&'static str, f64);
        impl Serialize for Scalar {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut o = s.serialize_map(Some(4))?;
                o.serialize_entry("name", self.0)?;
                o.serialize_entry("type", "SCALAR")?;
                o.serialize_entry("scalar", &Value1(self.1))?;
                o.serialize_entry("role", "*")?;
                o.end()
            }
        }
        struct Value1(f64);
        impl Serialize for Value1 {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut o = s.serialize_map(Some(1))?;
                o.serialize_entry("value", &self.0)?;
                o.end()
            }
        }
        struct Ports<'a>(&'a [(u64, u64)]);
        impl Serialize for Ports<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                struct Range(u64, u64);
                impl Serialize for Range {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut o = s.serialize_map(Some(2))?;
                        o.serialize_entry("begin", &self.0)?;
                        o.serialize_entry("end", &self.1)?;
                        o.end()
                    }
                }
                struct Ranges<'a>(&'a [(u64, u64)]);
                impl Serialize for Ranges<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut o = s.serialize_map(Some(1))?;
                        o.serialize_entry(
                            "range",
                            &Seq(|| self.0.iter().map(|&(b, e)| Range(b, e))),
                        )?;
                        o.end()
                    }
                }
                let mut o = s.serialize_map(Some(4))?;
                o.serialize_entry("name", "ports")?;
                o.serialize_entry("type", "RANGES")?;
                o.serialize_entry("ranges", &Ranges(self.0))?;
                o.serialize_entry("role", "*")?;
                o.end()
            }
        }
        let r = self.0;
        let mut list = s.serialize_seq(None)?;
        for (name, v) in r.scalars() {
            if v > 0.0 {
                list.serialize_element(&Scalar(name, v))?;
            }
        }
        if !r.ports.is_empty() {
            list.serialize_element(&Ports(&r.ports))?;
        }
        list.end()
    }
}

/// `Resources` in the flat legacy form.
pub struct Legacy<'a>(&'a Resources);

impl Serialize for Legacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut o = s.serialize_map(None)?;
        for (name, v) in r.scalars() {
            o.serialize_entry(name, &v)?;
        }
        if !r.ports.is_empty() {
            o.serialize_entry("ports", &ranges_text(&r.ports))?;
        }
        o.end()
    }
}

/// A JSON list written from an iterator made on demand, so views never collect `Vec`s.
pub struct Seq<F>(pub F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: IntoIterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

/// Mesos's text form, used in validation messages: `cpus(*):0.2; mem(*):100`.
impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (name, v) in [
            ("cpus", self.cpus),
            ("mem", self.mem),
            ("disk", self.disk),
            ("gpus", self.gpus),
        ] {
            if v > 0.0 {
                parts.push(format!("{name}(*):{v}"));
            }
        }
        if !self.ports.is_empty() {
            parts.push(format!("ports(*):{}", ranges_text(&self.ports)));
        }
        write!(f, "{}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arithmetic_and_forms() {
        let total = Resources {
            cpus: 2.0,
            mem: 496.0,
            disk: 4930.0,
            gpus: 0.0,
            ports: vec![(9000, 10000)],
        };
        let task = Resources::from_v1(&json!([
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.2}},
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 9000, "end": 9000}]}}
        ]))
        .unwrap_or_default();
        assert_eq!(task.cpus, 0.3);
        assert!(total.contains(&task));
        let left = total.minus(&task);
        assert_eq!(left.ports, vec![(9001, 10000)]);
        assert_eq!(left.plus(&task), total);
        assert_eq!(total.to_legacy()["ports"], "[9000-10000]");
        assert_eq!(parse_ranges("[9000-10000]"), Ok(vec![(9000, 10000)]));
        assert_eq!(task.to_string(), "cpus(*):0.3; ports(*):[9000-9000]");
    }
}
