//! A collection of resources with Mesos's arithmetic (`Resources` in `src/common/resources.cpp`):
//! resources that are the same but for their value are kept as one (scalars summed in fixed
//! point, ranges merged, sets joined; shared ones counted), `-` takes away what it can,
//! `contains` says whether one collection holds another. Plus the filters an allocator needs
//! and the agent's `--resources` flag in its two forms: `cpus:2;mem:496;cpus(ops):1;ports:[9000-10000]`
//! and a JSON list of `Resource`.

use super::resource::{Resource, ResourceError};
use super::values::{self, Parsed, Ranges, ValueType};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::collections::BTreeSet;
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

/// One resource of the collection; a shared resource with how many copies of it there are.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    resource: Resource,
    shared_count: Option<i64>,
}

impl Entry {
    fn new(resource: Resource) -> Entry {
        let shared_count = resource.is_shared().then_some(1);
        Entry {
            resource,
            shared_count,
        }
    }

    fn is_empty(&self) -> bool {
        match self.shared_count {
            Some(n) => n == 0,
            None => self.resource.is_empty(),
        }
    }

    fn contains(&self, other: &Entry) -> bool {
        match (self.shared_count, other.shared_count) {
            (Some(a), Some(b)) => a >= b && self.resource.same(&other.resource),
            (None, None) => self.resource.contains(&other.resource),
            _ => false,
        }
    }
}

/// Resources combined as Mesos combines them; every resource in the `reservations` format.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    entries: Vec<Entry>,
}

/// Why the text of a `--resources` flag does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourcesError {
    #[error("Bad value for resources, missing or extra ':' in {0}")]
    Colon(String),
    #[error("Bad value for resources, mismatched parentheses in {0}")]
    Parentheses(String),
    #[error("Failed to parse resource {name} value {value} error {why}")]
    Value {
        name: String,
        value: String,
        why: String,
    },
    #[error("Bad type for resource {name} value {value} type TEXT")]
    Text { name: String, value: String },
    #[error("Some JSON resources were not formatted properly: {0}")]
    Json(String),
    #[error("{0}")]
    Invalid(#[from] ResourceError),
    #[error("{0}")]
    CommandLine(String),
}

impl Resources {
    pub fn new() -> Resources {
        Resources::default()
    }

    /// The resources, upgraded to the `reservations` format and combined.
    pub fn from_resources(resources: impl IntoIterator<Item = Resource>) -> Resources {
        let mut out = Resources::new();
        for mut r in resources {
            r.upgrade();
            out.add_resource(r);
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many distinct resources there are (a shared one counts once).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The resources, each once.
    pub fn iter(&self) -> impl Iterator<Item = &Resource> {
        self.entries.iter().map(|e| &e.resource)
    }

    pub fn to_vec(&self) -> Vec<Resource> {
        self.iter().cloned().collect()
    }

    pub fn into_vec(self) -> Vec<Resource> {
        self.entries.into_iter().map(|e| e.resource).collect()
    }

    /// How many copies of `resource` there are (1 for a non-shared one that is here).
    pub fn count(&self, resource: &Resource) -> i64 {
        self.entries
            .iter()
            .find(|e| e.resource.same(resource))
            .map_or(0, |e| e.shared_count.unwrap_or(1))
    }

    /// Adds one resource, into the one it combines with when there is one. Empty ones are
    /// ignored.
    pub fn add_resource(&mut self, resource: Resource) {
        self.add_entry(Entry::new(resource));
    }

    fn add_entry(&mut self, that: Entry) {
        if that.is_empty() {
            return;
        }
        match self
            .entries
            .iter_mut()
            .find(|e| e.resource.addable(&that.resource))
        {
            Some(e) => match (&mut e.shared_count, that.shared_count) {
                (Some(n), Some(m)) => *n += m,
                _ => e.resource.add_value(&that.resource),
            },
            None => self.entries.push(that),
        }
    }

    /// Takes one resource away from the one it can be taken from; what becomes empty (or
    /// negative: more was taken than there was) goes.
    pub fn subtract_resource(&mut self, resource: &Resource) {
        self.subtract_entry(&Entry::new(resource.clone()));
    }

    fn subtract_entry(&mut self, that: &Entry) {
        if that.is_empty() {
            return;
        }
        let Some(i) = self
            .entries
            .iter()
            .position(|e| e.resource.subtractable(&that.resource))
        else {
            return;
        };
        let e = &mut self.entries[i];
        match (&mut e.shared_count, that.shared_count) {
            (Some(n), Some(m)) => *n -= m,
            _ => e.resource.subtract_value(&that.resource),
        }
        let negative = e.shared_count.is_some_and(|n| n < 0)
            || (e.resource.kind == ValueType::Scalar && e.resource.scalar_value() < 0.0);
        if negative || e.is_empty() {
            self.entries.swap_remove(i);
        }
    }

    /// Whether these resources hold all of `other`.
    pub fn contains(&self, other: &Resources) -> bool {
        let mut remaining = self.clone();
        for that in &other.entries {
            if !remaining.entries.iter().any(|e| e.contains(that)) {
                return false;
            }
            // A persistent volume is taken away, so it cannot stand for two.
            if that.resource.is_persistent_volume() {
                remaining.subtract_entry(that);
            }
        }
        true
    }

    /// Whether these resources hold `resource` (which must itself be valid).
    pub fn contains_resource(&self, resource: &Resource) -> bool {
        let that = Entry::new(resource.clone());
        resource.validate().is_ok() && self.entries.iter().any(|e| e.contains(&that))
    }

    /// The resources for which `keep` holds.
    pub fn filter(&self, keep: impl Fn(&Resource) -> bool) -> Resources {
        Resources {
            entries: self
                .entries
                .iter()
                .filter(|e| keep(&e.resource))
                .cloned()
                .collect(),
        }
    }

    pub fn unreserved(&self) -> Resources {
        self.filter(Resource::is_unreserved)
    }

    /// Reserved resources, only those reserved to `role` when one is given.
    pub fn reserved(&self, role: Option<&str>) -> Resources {
        self.filter(|r| r.is_reserved(role))
    }

    /// What a framework of `role` may be offered: unreserved resources and those reserved to
    /// `role` or to one of its ancestors.
    pub fn allocatable_to(&self, role: &str) -> Resources {
        self.filter(|r| r.is_allocatable_to(role))
    }

    pub fn revocable(&self) -> Resources {
        self.filter(Resource::is_revocable)
    }

    pub fn non_revocable(&self) -> Resources {
        self.filter(|r| !r.is_revocable())
    }

    pub fn shared(&self) -> Resources {
        self.filter(Resource::is_shared)
    }

    pub fn non_shared(&self) -> Resources {
        self.filter(|r| !r.is_shared())
    }

    pub fn persistent_volumes(&self) -> Resources {
        self.filter(Resource::is_persistent_volume)
    }

    /// The resources with `allocation_info` set to `role` (as offered to a framework of it).
    pub fn allocate(&mut self, role: &str) {
        for e in &mut self.entries {
            e.resource.allocation_info = Some(super::resource::AllocationInfo::new(role));
        }
    }

    /// The resources with their `allocation_info` cleared.
    pub fn unallocate(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        // Sized to what is there: a task keeps its resources for its whole life, and a
        // grown Vec of entries (hundreds of bytes each) is kilobytes per task.
        self.entries = Vec::with_capacity(entries.len());
        for mut e in entries {
            e.resource.allocation_info = None;
            self.add_entry(e);
        }
        self.entries.shrink_to_fit();
    }

    /// The same resources with every reservation dropped.
    pub fn to_unreserved(&self) -> Resources {
        let mut out = Resources::new();
        for e in &self.entries {
            let mut e = e.clone();
            e.resource.reservations.clear();
            out.add_entry(e);
        }
        out
    }

    /// The sum of the scalar resources named `name`, across reservations and allocations.
    pub fn scalar(&self, name: &str) -> Option<f64> {
        let mut sum: Option<values::Scalar> = None;
        for r in self
            .iter()
            .filter(|r| r.name == name && r.kind == ValueType::Scalar)
        {
            sum.get_or_insert_with(Default::default)
                .add(r.scalar.as_ref().unwrap_or(&Default::default()));
        }
        sum.map(|s| s.value)
    }

    /// The ranges of the resources named `name`, merged.
    pub fn ranges(&self, name: &str) -> Option<Ranges> {
        let mut out: Option<Ranges> = None;
        for r in self
            .iter()
            .filter(|r| r.name == name && r.kind == ValueType::Ranges)
        {
            out.get_or_insert_with(Default::default)
                .add(r.ranges.as_ref().unwrap_or(&Default::default()));
        }
        out
    }

    pub fn cpus(&self) -> Option<f64> {
        self.scalar("cpus")
    }

    pub fn mem(&self) -> Option<f64> {
        self.scalar("mem")
    }

    pub fn disk(&self) -> Option<f64> {
        self.scalar("disk")
    }

    pub fn gpus(&self) -> Option<f64> {
        self.scalar("gpus")
    }

    pub fn ports(&self) -> Option<Ranges> {
        self.ranges("ports")
    }

    /// The names of the resources, sorted.
    pub fn names(&self) -> BTreeSet<&str> {
        self.iter().map(|r| r.name.as_str()).collect()
    }

    /// Reads the agent's `--resources` flag: a JSON list of resources, or the text form
    /// `name[(role)]:value;...` where a value is a scalar, `[a-b,...]` ranges or `{x,...}` a
    /// set. Resources without a role get `default_role`. Each resource is validated, and the
    /// whole as Mesos validates the flag (no two types for a name, no persistent volumes,
    /// revocable resources or dynamic reservations).
    pub fn parse(text: &str, default_role: &str) -> Result<Resources, ResourcesError> {
        let list = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(items)) => from_json(items, default_role)?,
            _ => from_simple_text(text, default_role)?,
        };
        let mut out = Resources::new();
        for r in list {
            r.validate()?;
            out.add_resource(r);
        }
        out.validate_command_line()?;
        Ok(out)
    }

    fn validate_command_line(&self) -> Result<(), ResourcesError> {
        let bad = |why: &str| Err(ResourcesError::CommandLine(why.to_string()));
        let mut types: Vec<(&str, &ValueType)> = Vec::new();
        for r in self.iter() {
            if r.is_persistent_volume() {
                return bad("Persistent volumes cannot be specified at the command line");
            }
            if r.is_revocable() {
                return bad(
                    "Revocable resources cannot be specified at the command line; do not \
                     include a 'revocable' key in the resources JSON",
                );
            }
            if r.is_dynamically_reserved() {
                return bad(
                    "Dynamic reservations cannot be specified at the command line; do not \
                     include a reservation with DYNAMIC type in the resources JSON",
                );
            }
            match types.iter().find(|(n, _)| *n == r.name) {
                Some((_, t)) if **t != r.kind => {
                    return Err(ResourcesError::CommandLine(format!(
                        "Resources with the same name ('{}') but different types are not allowed",
                        r.name
                    )))
                }
                Some(_) => {}
                None => types.push((&r.name, &r.kind)),
            }
        }
        Ok(())
    }
}

/// The JSON form: each resource without a role or reservations gets the default role.
fn from_json(
    items: Vec<serde_json::Value>,
    default_role: &str,
) -> Result<Vec<Resource>, ResourcesError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut r: Resource =
            serde_json::from_value(item).map_err(|e| ResourcesError::Json(e.to_string()))?;
        if r.role.is_none() && r.reservations.is_empty() {
            r.role = Some(default_role.to_string());
        }
        r.upgrade();
        out.push(r);
    }
    Ok(out)
}

/// The text form `name[(role)]:value` separated by `;`.
fn from_simple_text(text: &str, default_role: &str) -> Result<Vec<Resource>, ResourcesError> {
    let mut out = Vec::new();
    for token in text.split(';').filter(|t| !t.is_empty()) {
        let parts: Vec<&str> = token.split(':').filter(|p| !p.is_empty()).collect();
        let [head, value] = parts.as_slice() else {
            return Err(ResourcesError::Colon(token.to_string()));
        };
        let (name, role) = match head.find('(') {
            None => (head.trim(), default_role.trim()),
            Some(open) => match head.find(')') {
                Some(close) if close > open => (head[..open].trim(), head[open + 1..close].trim()),
                _ => return Err(ResourcesError::Parentheses(token.to_string())),
            },
        };
        let value_error = |why: String| ResourcesError::Value {
            name: name.to_string(),
            value: value.to_string(),
            why,
        };
        let mut r = match values::parse_value(value).map_err(|e| value_error(e.to_string()))? {
            Parsed::Scalar(s) => Resource::scalar(name, s.value),
            Parsed::Ranges(rg) => Resource::ranges(name, rg),
            Parsed::Set(s) => Resource::set(name, s),
            Parsed::Text(_) => {
                return Err(ResourcesError::Text {
                    name: name.to_string(),
                    value: value.to_string(),
                })
            }
        };
        if role != "*" {
            r = r.reserved_to(role);
        }
        out.push(r);
    }
    Ok(out)
}

impl PartialEq for Resources {
    /// Equal as Mesos compares collections: each contains the other.
    fn eq(&self, other: &Resources) -> bool {
        self.contains(other) && other.contains(self)
    }
}

impl From<Vec<Resource>> for Resources {
    fn from(list: Vec<Resource>) -> Resources {
        Resources::from_resources(list)
    }
}

impl FromIterator<Resource> for Resources {
    fn from_iter<I: IntoIterator<Item = Resource>>(iter: I) -> Resources {
        Resources::from_resources(iter)
    }
}

impl AddAssign<&Resources> for Resources {
    fn add_assign(&mut self, other: &Resources) {
        for e in &other.entries {
            self.add_entry(e.clone());
        }
    }
}

impl AddAssign<Resource> for Resources {
    fn add_assign(&mut self, other: Resource) {
        self.add_resource(other);
    }
}

impl SubAssign<&Resources> for Resources {
    fn sub_assign(&mut self, other: &Resources) {
        for e in &other.entries {
            self.subtract_entry(e);
        }
    }
}

impl SubAssign<&Resource> for Resources {
    fn sub_assign(&mut self, other: &Resource) {
        self.subtract_resource(other);
    }
}

impl Add<&Resources> for &Resources {
    type Output = Resources;
    fn add(self, other: &Resources) -> Resources {
        let mut out = self.clone();
        out += other;
        out
    }
}

impl Sub<&Resources> for &Resources {
    type Output = Resources;
    fn sub(self, other: &Resources) -> Resources {
        let mut out = self.clone();
        out -= other;
        out
    }
}

impl Add<&Resources> for Resources {
    type Output = Resources;
    fn add(mut self, other: &Resources) -> Resources {
        self += other;
        self
    }
}

impl Sub<&Resources> for Resources {
    type Output = Resources;
    fn sub(mut self, other: &Resources) -> Resources {
        self -= other;
        self
    }
}

/// As a JSON list of `Resource`, each once (as Mesos converts a collection back to a list).
impl Serialize for Resources {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.entries.len()))?;
        for e in &self.entries {
            seq.serialize_element(&e.resource)?;
        }
        seq.end()
    }
}

/// Mesos's text form: `cpus:2; mem:496`, `{}` when empty; a shared resource shows its count.
impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("{}");
        }
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}", e.resource)?;
            if let Some(n) = e.shared_count {
                write!(f, "<{n}>")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::resource::{DiskInfo, Persistence, SharedInfo};
    use super::super::values::Set;
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Resources {
        Resources::parse(text, "*").unwrap()
    }

    #[test]
    fn the_flag_text_form() {
        let r = parse("cpus:2;mem:496;cpus(ops):1;ports:[9000-10000];disks:{a,b}");
        assert_eq!(r.len(), 5);
        assert_eq!(r.cpus(), Some(3.0));
        assert_eq!(r.unreserved().cpus(), Some(2.0));
        assert_eq!(r.reserved(Some("ops")).cpus(), Some(1.0));
        assert_eq!(
            r.ports().map(|p| p.to_string()).as_deref(),
            Some("[9000-10000]")
        );
        assert_eq!(
            r.to_string(),
            "cpus:2; mem:496; cpus(reservations: [(STATIC,ops)]):1; ports:[9000-10000]; disks:{a, b}"
        );
        // Same name, same kind: combined.
        assert_eq!(
            parse("cpus:1;cpus:0.5").to_vec(),
            vec![Resource::scalar("cpus", 1.5)]
        );
        // A default role reserves every resource without one.
        let web = Resources::parse("cpus:1;mem(*):2", "web").unwrap();
        assert_eq!(web.reserved(Some("web")).cpus(), Some(1.0));
        assert_eq!(web.unreserved().mem(), Some(2.0));
    }

    #[test]
    fn the_flag_refuses_what_mesos_refuses() {
        let err = |t: &str| Resources::parse(t, "*").unwrap_err().to_string();
        assert_eq!(
            err("cpus"),
            "Bad value for resources, missing or extra ':' in cpus"
        );
        assert_eq!(
            err("cpus(ops:1"),
            "Bad value for resources, mismatched parentheses in cpus(ops:1"
        );
        assert_eq!(
            err("cpus:-1"),
            "Bad type for resource cpus value -1 type TEXT"
        );
        assert!(err("ports:[1-2,3]").starts_with("Failed to parse resource ports value"));
        assert_eq!(
            err("cpus:1;cpus:[1-2]"),
            "Resources with the same name ('cpus') but different types are not allowed"
        );
        assert_eq!(
            err("cpus(*/x):1"),
            "Role '*/x' cannot include '*' as a component"
        );
        assert!(err(r#"[{"name": "cpus", "type": "SCALAR"}]"#).contains("Invalid scalar resource"));
    }

    #[test]
    fn the_flag_json_form() {
        let r = Resources::parse(
            r#"[{"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}, "role": "ops"}]"#,
            "*",
        )
        .unwrap();
        assert_eq!(r.unreserved().cpus(), Some(2.0));
        assert_eq!(r.reserved(Some("ops")).mem(), Some(64.0));
        let dynamic = r#"[{"name": "cpus", "type": "SCALAR", "scalar": {"value": 2},
                           "reservations": [{"type": "DYNAMIC", "role": "a"}]}]"#;
        assert!(Resources::parse(dynamic, "*").is_err());
    }

    #[test]
    fn arithmetic() {
        let total = parse("cpus:2;mem:496;ports:[9000-10000]");
        let task = parse("cpus:0.1;cpus:0.2;ports:[9000-9000]");
        assert_eq!(task.cpus(), Some(0.3));
        assert!(total.contains(&task));
        assert!(!task.contains(&total));
        let left = &total - &task;
        assert_eq!(left.ports().map(|p| p.pairs()), Some(vec![(9001, 10000)]));
        assert_eq!(left.cpus(), Some(1.7));
        assert_eq!(&left + &task, total);
        // Taking everything leaves nothing; taking more than there is drops the resource.
        assert!((&task - &task).is_empty());
        assert_eq!((&parse("cpus:1") - &parse("cpus:2")).cpus(), None);
        // Reserved and unreserved cpus are kept apart and do not stand for each other.
        let mixed = parse("cpus:1;cpus(ops):1");
        assert_eq!(mixed.len(), 2);
        assert!(!parse("cpus:2").contains(&parse("cpus(ops):1")));
        // Allocation keeps resources apart too.
        let mut offered = parse("cpus:1");
        offered.allocate("web");
        assert!(!parse("cpus:1").contains(&offered));
        offered.unallocate();
        assert_eq!(offered, parse("cpus:1"));
        assert_eq!(mixed.to_unreserved().cpus(), Some(2.0));
        assert_eq!(mixed.to_unreserved().len(), 1);
        assert_eq!(
            serde_json::to_value(parse("cpus:1")).unwrap(),
            json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}])
        );
    }

    #[test]
    fn sets_ranges_and_filters() {
        let a = parse("disks:{a,b};ports:[1-10]");
        let b = parse("disks:{b,c};ports:[5-20]");
        let sum = &a + &b;
        assert_eq!(
            sum.iter()
                .find(|r| r.name == "disks")
                .and_then(|r| r.set.clone()),
            Some(Set::from_items(["a".to_string(), "b".into(), "c".into()]))
        );
        assert_eq!(sum.ports().map(|p| p.pairs()), Some(vec![(1, 20)]));
        let r = parse("cpus(eng):1;cpus(ops):1;cpus:1");
        assert_eq!(r.allocatable_to("eng/web").cpus(), Some(2.0));
        assert_eq!(r.allocatable_to("ops").cpus(), Some(2.0));
        assert_eq!(r.reserved(None).cpus(), Some(2.0));
        assert_eq!(r.names().into_iter().collect::<Vec<_>>(), ["cpus"]);
    }

    #[test]
    fn shared_resources_are_counted() {
        let mut volume = Resource::scalar("disk", 10.0).reserved_to("ops");
        volume.disk = Some(Box::new(DiskInfo {
            persistence: Some(Persistence {
                id: "v1".into(),
                ..Default::default()
            }),
            ..Default::default()
        }));
        volume.shared = Some(SharedInfo::default());
        let mut r = Resources::new();
        r.add_resource(volume.clone());
        r.add_resource(volume.clone());
        assert_eq!(r.len(), 1);
        assert_eq!(r.count(&volume), 2);
        r.subtract_resource(&volume);
        assert_eq!(r.count(&volume), 1);
        assert!(r.contains_resource(&volume));
        r.subtract_resource(&volume);
        assert!(r.is_empty());
        // Persistent volumes that are not shared are never combined.
        volume.shared = None;
        let mut v = Resources::new();
        v.add_resource(volume.clone());
        v.add_resource(volume.clone());
        assert_eq!(v.len(), 2);
    }
}
