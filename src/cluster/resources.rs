//! The cluster's resources: the vocabulary's `mesos::v1::Resources` (Mesos's arithmetic,
//! reservations, disks), held without `allocation_info` (what is offered or allocated carries
//! its role beside the resources: an offer's, a task's), and their JSON forms: the v1 list of
//! `Resource` messages (in Mesos's endpoint format, with `role`) and the legacy flat object.

use crate::mesos::v1::resource::{AllocationInfo, Resource};
use crate::mesos::v1::values::{self, Ranges, ValueType};
use crate::mesos::v1::Resources as V1Resources;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use std::fmt;

/// Resources of one agent, offer or task, in the `reservations` format, unallocated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources(V1Resources);

/// Renders ranges as Mesos does in legacy JSON: `[9000-10000, 12000-12001]`.
pub fn ranges_text(ranges: &[(u64, u64)]) -> String {
    Ranges::from_pairs(ranges.iter().copied()).to_string()
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
    Ok(Ranges::from_pairs(out).pairs())
}

impl Resources {
    /// Unreserved scalars (those above 0) and ports.
    pub fn flat(cpus: f64, mem: f64, disk: f64, gpus: f64, ports: &[(u64, u64)]) -> Resources {
        let mut r = V1Resources::new();
        for (name, v) in [("cpus", cpus), ("mem", mem), ("disk", disk), ("gpus", gpus)] {
            if v > 0.0 {
                r.add_resource(Resource::scalar(name, v));
            }
        }
        if !ports.is_empty() {
            r.add_resource(Resource::ranges(
                "ports",
                Ranges::from_pairs(ports.iter().copied()),
            ));
        }
        Resources(r)
    }

    /// The vocabulary's resources, their allocations dropped.
    pub fn from_vocabulary(mut r: V1Resources) -> Resources {
        r.unallocate();
        Resources(r)
    }

    pub fn vocabulary(&self) -> &V1Resources {
        &self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Resource> {
        self.0.iter()
    }

    pub fn cpus(&self) -> f64 {
        self.0.cpus().unwrap_or(0.0)
    }

    pub fn mem(&self) -> f64 {
        self.0.mem().unwrap_or(0.0)
    }

    pub fn disk(&self) -> f64 {
        self.0.disk().unwrap_or(0.0)
    }

    pub fn gpus(&self) -> f64 {
        self.0.gpus().unwrap_or(0.0)
    }

    pub fn ports(&self) -> Vec<(u64, u64)> {
        self.0.ports().map(|p| p.pairs()).unwrap_or_default()
    }

    /// The scalar named `name`, summed over reservations (0 when there is none).
    pub fn scalar(&self, name: &str) -> f64 {
        self.0.scalar(name).unwrap_or(0.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, other: &Resources) -> bool {
        self.0.contains(&other.0)
    }

    pub fn plus(&self, other: &Resources) -> Resources {
        Resources(&self.0 + &other.0)
    }

    /// Adds `other` in place (no copy of what is there already).
    pub fn add(&mut self, other: &Resources) {
        self.0 += &other.0;
    }

    /// What is left when `other` is taken away (what would go below zero goes).
    pub fn minus(&self, other: &Resources) -> Resources {
        Resources(&self.0 - &other.0)
    }

    pub fn filter(&self, keep: impl Fn(&Resource) -> bool) -> Resources {
        Resources(self.0.filter(keep))
    }

    pub fn unreserved(&self) -> Resources {
        Resources(self.0.unreserved())
    }

    /// Reserved resources, to `role` (innermost reservation) when one is given.
    pub fn reserved(&self, role: Option<&str>) -> Resources {
        Resources(self.0.reserved(role))
    }

    /// Reserved to `role` or a role below it (Mesos's `reservedToRoleSubtree`).
    pub fn reserved_to_subtree(&self, role: &str) -> Resources {
        self.filter(|r| {
            r.reservation_role().is_some_and(|own| {
                own == role || crate::mesos::v1::roles::is_strict_subrole_of(own, role)
            })
        })
    }

    /// What a framework of `role` may be offered: unreserved, or reserved to `role` or
    /// one of its ancestors.
    pub fn allocatable_to(&self, role: &str) -> Resources {
        Resources(self.0.allocatable_to(role))
    }

    pub fn persistent_volumes(&self) -> Resources {
        Resources(self.0.persistent_volumes())
    }

    /// The roles something is reserved to (innermost), sorted.
    pub fn reservation_roles(&self) -> std::collections::BTreeSet<&str> {
        self.iter().filter_map(Resource::reservation_role).collect()
    }

    /// The reserved resources by their (innermost) role (Mesos's `reservations()`).
    pub fn by_reservation_role(&self) -> std::collections::BTreeMap<String, Resources> {
        self.reservation_roles()
            .into_iter()
            .map(|role| (role.to_string(), self.reserved(Some(role))))
            .collect()
    }

    /// `reserved_resources` of the legacy views: each role's in the flat form.
    pub fn reserved_legacy(&self) -> Value {
        Value::Object(
            self.by_reservation_role()
                .into_iter()
                .map(|(role, r)| (role, r.to_legacy()))
                .collect(),
        )
    }

    /// `reserved_resources_full`: each role's as a list of Resource messages.
    pub fn reserved_full(&self) -> Value {
        Value::Object(
            self.by_reservation_role()
                .into_iter()
                .map(|(role, r)| (role, r.to_v1()))
                .collect(),
        )
    }

    /// Reads a v1 `resources` array as Mesos's `resource::validate` checks it: each
    /// resource valid (`Invalid resources: ...`), disks and dynamic reservations as Mesos
    /// allows them. `allocation_info` is dropped: the caller checks it against the offer.
    pub fn from_v1(list: &Value) -> Result<Resources, String> {
        Ok(Resources::from_vocabulary(V1Resources::from_resources(
            parse_list(list)?,
        )))
    }

    /// A v1 `resources` array as messages, checked as `from_v1` checks them.
    pub fn parse_list(list: &Value) -> Result<Vec<Resource>, String> {
        parse_list(list)
    }

    /// The v1 form: a list of `Resource` messages.
    pub fn to_v1(&self) -> Value {
        serde_json::to_value(self.v1()).unwrap_or(Value::Null)
    }

    /// The v1 form as a view that serializes straight from these resources.
    pub fn v1(&self) -> V1<'_> {
        V1(self, None)
    }

    /// The v1 form of resources allocated to a role: each carries its `allocation_info`.
    pub fn v1_allocated<'a>(&'a self, role: &'a str) -> V1<'a> {
        V1(self, Some(role))
    }

    /// Whether the v1 form is an empty list (Mesos leaves such lists out).
    pub fn v1_is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The legacy form of `/master/state`: `{cpus, mem, disk, gpus, ports: "[a-b]"}`.
    pub fn to_legacy(&self) -> Value {
        serde_json::to_value(self.legacy()).unwrap_or(Value::Null)
    }

    pub fn legacy(&self) -> Legacy<'_> {
        Legacy(self)
    }

    /// Mesos's text form of these resources allocated to `role` (what validation
    /// messages show: `cpus(allocated: *):1; mem(allocated: *):64`).
    pub fn display_allocated(&self, role: &str) -> String {
        let mut r = self.0.clone();
        r.allocate(role);
        r.to_string()
    }
}

fn parse_list(list: &Value) -> Result<Vec<Resource>, String> {
    let items = match list {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err("'resources' must be an array".into()),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut r: Resource =
            serde_json::from_value(item.clone()).map_err(|e| format!("Invalid resources: {e}"))?;
        r.upgrade();
        out.push(r);
    }
    Resources::validate_operation_resources(&out)?;
    Ok(out)
}

impl Resources {
    /// Mesos's `resource::validate` of an operation's resources (`src/master/validation.cpp`):
    /// each valid, disks and dynamic reservations as Mesos allows them.
    pub fn validate_operation_resources(list: &[Resource]) -> Result<(), String> {
        for r in list {
            r.validate()
                .map_err(|e| format!("Invalid resources: Resource '{r}' is invalid: {}", e.0))?;
        }
        for r in list {
            validate_disk(r).map_err(|e| format!("Invalid DiskInfo: {e}"))?;
        }
        for r in list {
            if r.is_dynamically_reserved() && r.is_revocable() {
                return Err(format!(
                    "Invalid ReservationInfo: Dynamically reserved resource {r} cannot be \
                     created from revocable resources"
                ));
            }
        }
        Ok(())
    }
}

/// Mesos's `validateDiskInfo` (`src/master/validation.cpp`).
fn validate_disk(r: &Resource) -> Result<(), String> {
    let Some(disk) = &r.disk else {
        return Ok(());
    };
    if let Some(p) = &disk.persistence {
        if r.is_revocable() {
            return Err("Persistent volumes cannot be created from revocable resources".into());
        }
        if r.is_unreserved() {
            return Err("Persistent volumes cannot be created from unreserved resources".into());
        }
        let Some(volume) = &disk.volume else {
            return Err("Expecting 'volume' to be set for persistent volume".into());
        };
        if volume.host_path.is_some() {
            return Err("Expecting 'host_path' to be unset for persistent volume".into());
        }
        super::state::validate_id(&p.id)
            .map_err(|e| format!("Invalid persistence ID for persistent volume: {e}"))?;
    } else if disk.volume.is_some() {
        return Err("Non-persistent volume not supported".into());
    } else if disk.source.is_none() {
        return Err("DiskInfo is set but empty".into());
    }
    Ok(())
}

/// `Resources` as the v1 list of `Resource` messages in Mesos's endpoint format (`role`
/// beside `reservations`), with an `allocation_info` when allocated.
pub struct V1<'a>(&'a Resources, Option<&'a str>);

impl Serialize for V1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut list = s.serialize_seq(Some(self.0 .0.len()))?;
        for r in self.0.iter() {
            let mut e = r.to_endpoint_format();
            if let Some(role) = self.1 {
                e.allocation_info = Some(AllocationInfo::new(role));
            }
            list.serialize_element(&e)?;
        }
        list.end()
    }
}

/// `Resources` in the flat legacy form (Mesos's `model(Resources)`): `cpus`, `gpus`, `mem`
/// and `disk` always, each scalar summed over its reservations, ranges and sets as text;
/// revocable resources left out.
pub struct Legacy<'a>(&'a Resources);

impl Serialize for Legacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0.filter(|r| !r.is_revocable());
        let mut o = s.serialize_map(None)?;
        for name in ["cpus", "mem", "disk", "gpus"] {
            o.serialize_entry(name, &r.scalar(name))?;
        }
        let mut names: Vec<&str> = r.0.names().into_iter().collect();
        names.retain(|n| !["cpus", "mem", "disk", "gpus"].contains(n));
        for name in names {
            let of = r.filter(|x| x.name == name);
            let kind = of.iter().next().map(|x| x.kind.clone());
            match kind {
                Some(ValueType::Scalar) => o.serialize_entry(name, &of.scalar(name))?,
                Some(ValueType::Ranges) => o.serialize_entry(
                    name,
                    &of.0.ranges(name).map(|x| x.to_string()).unwrap_or_default(),
                )?,
                Some(ValueType::Set) => {
                    let mut set = values::Set::default();
                    for x in of.iter() {
                        if let Some(s) = &x.set {
                            set.add(s);
                        }
                    }
                    o.serialize_entry(name, &set.to_string())?
                }
                _ => {}
            }
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

/// Mesos's text form: `cpus:0.2; mem(reservations: [(STATIC,ops)]):100`, `{}` when empty.
impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arithmetic_and_forms() {
        let total = Resources::flat(2.0, 496.0, 4930.0, 0.0, &[(9000, 10000)]);
        let task = Resources::from_v1(&json!([
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.2}},
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 9000, "end": 9000}]}}
        ]))
        .unwrap_or_default();
        assert_eq!(task.cpus(), 0.3);
        assert!(total.contains(&task));
        let left = total.minus(&task);
        assert_eq!(left.ports(), vec![(9001, 10000)]);
        assert_eq!(left.plus(&task), total);
        assert_eq!(total.to_legacy()["ports"], "[9000-10000]");
        assert_eq!(total.to_legacy()["gpus"], 0.0);
        assert_eq!(parse_ranges("[9000-10000]"), Ok(vec![(9000, 10000)]));
        assert_eq!(task.to_string(), "cpus:0.3; ports:[9000-9000]");
        assert_eq!(
            task.display_allocated("*"),
            "cpus(allocated: *):0.3; ports(allocated: *):[9000-9000]"
        );
    }

    #[test]
    fn reserved_resources_keep_their_role_in_every_form() {
        let r = Resources::from_vocabulary(
            V1Resources::parse("cpus:1;cpus(ops):2;mem(ops/dev):64", "*").unwrap_or_default(),
        );
        assert_eq!(r.cpus(), 3.0);
        assert_eq!(r.reserved_to_subtree("ops").scalar("mem"), 64.0);
        assert_eq!(r.allocatable_to("web").cpus(), 1.0);
        let v1 = serde_json::to_value(r.v1_allocated("ops")).unwrap_or_default();
        let reserved = v1
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["name"] == "cpus" && x["role"] == "ops");
        assert_eq!(
            reserved.map(|x| (
                x["reservations"][0]["type"].clone(),
                x["allocation_info"]["role"].clone()
            )),
            Some((json!("STATIC"), json!("ops")))
        );
        // The legacy form sums over reservations.
        assert_eq!(r.to_legacy()["cpus"], 3.0);
        assert!(
            Resources::from_v1(&json!([{"name": "disk", "type": "SCALAR",
            "scalar": {"value": 1}, "disk": {"persistence": {"id": "v"}}}]))
            .is_err_and(|e| e.starts_with(
                "Invalid DiskInfo: Persistent volumes cannot be created from unreserved"
            ))
        );
    }
}
