//! One resource (`Resource`): a named scalar, ranges or set, with who it is reserved to, who
//! it is allocated to, and what disk it is. Its rules are Mesos's (`src/common/resources.cpp`):
//! when two resources are the same but for their value, how they are checked, and the two
//! formats of reservations (the old `role`/`reservation` fields and the `reservations` stack).

use super::container::Volume;
use super::ids::ResourceProviderId;
use super::labels::Labels;
use super::roles;
use super::values::{Ranges, Scalar, Set, ValueType};
use std::fmt;

crate::message! {
    /// The role a resource is allocated to (offered or used).
    pub struct AllocationInfo {
        opt role: String,
    }
}

crate::enumeration! {
    /// A static reservation comes from the agent's flags, a dynamic one from an operator or a
    /// framework.
    pub enum ReservationType {
        Unknown = "UNKNOWN",
        Static = "STATIC",
        Dynamic = "DYNAMIC",
    }
}

crate::message! {
    /// One reservation of a resource to a role.
    pub struct ReservationInfo {
        opt kind "type": ReservationType,
        opt role: String,
        opt principal: String,
        opt labels: Labels,
    }
}

crate::message! {
    /// A persistent volume's id.
    pub struct Persistence {
        req id: String,
        opt principal: String,
    }
}

crate::enumeration! {
    /// The kind of disk a disk resource is.
    pub enum DiskSourceType {
        Unknown = "UNKNOWN",
        Path = "PATH",
        Mount = "MOUNT",
        Block = "BLOCK",
        Raw = "RAW",
    }
}

crate::message! {
    /// The root of a PATH or MOUNT disk.
    pub struct DiskRoot {
        opt root: String,
    }
}

crate::message! {
    /// Where a disk resource's space lives.
    pub struct DiskSource {
        req kind "type": DiskSourceType,
        opt path: DiskRoot,
        opt mount: DiskRoot,
        opt vendor: String,
        opt id: String,
        opt metadata: Labels,
        opt profile: String,
    }
}

crate::message! {
    /// What a disk resource is: a persistent volume, its mount, its source.
    pub struct DiskInfo {
        opt persistence: Persistence,
        opt volume: Volume,
        opt source: DiskSource,
    }
}

crate::message! {
    /// Marks a resource revocable.
    pub struct RevocableInfo {}
}

crate::message! {
    /// Marks a resource shared.
    pub struct SharedInfo {}
}

crate::message! {
    /// A resource.
    pub struct Resource {
        opt provider_id: ResourceProviderId,
        req name: String,
        req kind "type": ValueType,
        opt scalar: Scalar,
        opt ranges: Ranges,
        opt set: Set,
        /// The old single-reservation format (and Mesos's endpoint format); deprecated in Mesos,
        /// so never written as a default.
        opt role: String,
        opt allocation_info: AllocationInfo,
        /// The old single-reservation format's dynamic reservation.
        opt reservation: Box<ReservationInfo>,
        /// The reservations, outermost role first.
        rep reservations: ReservationInfo,
        /// Boxed, as `reservation` is: a DiskInfo is over a kilobyte inline, and every
        /// task, offer and agent keeps its resources for its life (the cluster's memory
        /// per task was mostly this; few resources are disks).
        opt disk: Box<DiskInfo>,
        opt revocable: RevocableInfo,
        opt shared: SharedInfo,
    }
}

/// Why a resource is refused (the messages are Mesos's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ResourceError(pub String);

impl AllocationInfo {
    pub fn new(role: impl Into<String>) -> AllocationInfo {
        AllocationInfo {
            role: Some(role.into()),
            ..Default::default()
        }
    }
}

impl ReservationInfo {
    pub fn new(kind: ReservationType, role: impl Into<String>) -> ReservationInfo {
        ReservationInfo {
            kind: Some(kind),
            role: Some(role.into()),
            ..Default::default()
        }
    }

    pub fn role(&self) -> &str {
        self.role.as_deref().unwrap_or("")
    }

    /// Equal as Mesos compares reservations: type, role, principal and labels.
    pub fn same(&self, other: &ReservationInfo) -> bool {
        self.kind.clone().unwrap_or_default() == other.kind.clone().unwrap_or_default()
            && self.role() == other.role()
            && self.principal == other.principal
            && labels_same(self.labels.as_ref(), other.labels.as_ref())
    }
}

fn labels_same(a: Option<&Labels>, b: Option<&Labels>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let key = |l: &super::labels::Label| (l.key.clone(), l.value.clone());
            a.labels.len() == b.labels.len()
                && a.labels
                    .iter()
                    .all(|l| b.labels.iter().any(|m| key(m) == key(l)))
        }
        _ => false,
    }
}

impl DiskSource {
    /// Equal as Mesos compares disk sources (every field but unknown ones).
    fn same(&self, other: &DiskSource) -> bool {
        self.kind == other.kind
            && self.path.as_ref().map(|p| &p.root) == other.path.as_ref().map(|p| &p.root)
            && self.mount.as_ref().map(|p| &p.root) == other.mount.as_ref().map(|p| &p.root)
            && self.vendor == other.vendor
            && self.id == other.id
            && labels_same(self.metadata.as_ref(), other.metadata.as_ref())
            && self.profile == other.profile
    }
}

impl DiskInfo {
    /// Equal as Mesos compares disks: source and persistence id; the volume (how a task
    /// mounts it) does not count.
    pub fn same(&self, other: &DiskInfo) -> bool {
        let source = match (&self.source, &other.source) {
            (None, None) => true,
            (Some(a), Some(b)) => a.same(b),
            _ => false,
        };
        source
            && self.persistence.as_ref().map(|p| &p.id) == other.persistence.as_ref().map(|p| &p.id)
    }
}

impl Resource {
    /// An unreserved scalar resource (`cpus`, `mem`, `disk`, `gpus`).
    pub fn scalar(name: impl Into<String>, value: f64) -> Resource {
        Resource {
            name: name.into(),
            kind: ValueType::Scalar,
            scalar: Some(Scalar::new(value)),
            ..Default::default()
        }
    }

    /// An unreserved ranges resource (`ports`).
    pub fn ranges(name: impl Into<String>, ranges: Ranges) -> Resource {
        Resource {
            name: name.into(),
            kind: ValueType::Ranges,
            ranges: Some(ranges),
            ..Default::default()
        }
    }

    /// An unreserved set resource.
    pub fn set(name: impl Into<String>, set: Set) -> Resource {
        Resource {
            name: name.into(),
            kind: ValueType::Set,
            set: Some(set),
            ..Default::default()
        }
    }

    /// Reserved to `role` (the innermost reservation of the stack), as `STATIC`.
    pub fn reserved_to(mut self, role: impl Into<String>) -> Resource {
        self.reservations
            .push(ReservationInfo::new(ReservationType::Static, role));
        self
    }

    /// The scalar value, 0 when there is none.
    pub fn scalar_value(&self) -> f64 {
        self.scalar.as_ref().map_or(0.0, |s| s.value)
    }

    /// The role of the innermost reservation, if reserved.
    pub fn reservation_role(&self) -> Option<&str> {
        self.reservations.last().map(ReservationInfo::role)
    }

    pub fn is_unreserved(&self) -> bool {
        self.reservations.is_empty()
    }

    /// Reserved, and to `role` when one is given.
    pub fn is_reserved(&self, role: Option<&str>) -> bool {
        match self.reservation_role() {
            None => false,
            Some(r) => role.is_none_or(|want| want == r),
        }
    }

    /// Whether a framework of `role` may be offered it: unreserved, or reserved to `role` or
    /// to one of its ancestors.
    pub fn is_allocatable_to(&self, role: &str) -> bool {
        match self.reservation_role() {
            None => true,
            Some(r) => r == role || roles::is_strict_subrole_of(role, r),
        }
    }

    pub fn is_dynamically_reserved(&self) -> bool {
        self.reservations
            .last()
            .is_some_and(|r| r.kind == Some(ReservationType::Dynamic))
    }

    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    pub fn is_revocable(&self) -> bool {
        self.revocable.is_some()
    }

    pub fn is_persistent_volume(&self) -> bool {
        self.disk.as_ref().is_some_and(|d| d.persistence.is_some())
    }

    /// A zero scalar, or no ranges or items.
    pub fn is_empty(&self) -> bool {
        match self.kind {
            ValueType::Scalar => self
                .scalar
                .as_ref()
                .is_none_or(|s| s.same(&Scalar::new(0.0))),
            ValueType::Ranges => self.ranges.as_ref().is_none_or(|r| r.range.is_empty()),
            ValueType::Set => self.set.as_ref().is_none_or(|s| s.item.is_empty()),
            _ => false,
        }
    }

    /// The same resource but for its value: name, type, allocation, reservations, disk,
    /// revocability and provider (Mesos's `compareResourceMetadata`, sharedness aside).
    fn same_kind(&self, other: &Resource) -> bool {
        self.name == other.name
            && self.kind == other.kind
            && self.allocation_info.as_ref().map(|a| &a.role)
                == other.allocation_info.as_ref().map(|a| &a.role)
            && self.reservations.len() == other.reservations.len()
            && self
                .reservations
                .iter()
                .zip(&other.reservations)
                .all(|(a, b)| a.same(b))
            && match (&self.disk, &other.disk) {
                (None, None) => true,
                (Some(a), Some(b)) => a.same(b),
                _ => false,
            }
            && self.revocable.is_some() == other.revocable.is_some()
            && self.provider_id.as_ref().map(|p| &p.value)
                == other.provider_id.as_ref().map(|p| &p.value)
    }

    /// Equal as Mesos compares resources: the same kind and an equal value (scalars in fixed
    /// point, ranges and sets as sets).
    pub fn same(&self, other: &Resource) -> bool {
        self.same_kind(other)
            && self.shared.is_some() == other.shared.is_some()
            && match self.kind {
                ValueType::Scalar => scalar_of(self).same(&scalar_of(other)),
                ValueType::Ranges => ranges_of(self).same(&ranges_of(other)),
                ValueType::Set => set_of(self).same(&set_of(other)),
                _ => false,
            }
    }

    /// Whether `other` can be added into this one, giving one resource (Mesos's `addable`).
    pub fn addable(&self, other: &Resource) -> bool {
        self.combinable(other, false)
    }

    /// Whether `other` can be taken out of this one (Mesos's `subtractable`).
    pub fn subtractable(&self, other: &Resource) -> bool {
        self.combinable(other, true)
    }

    /// Shared resources combine only with themselves; others when of the same kind. A disk
    /// that stands alone (MOUNT, BLOCK, RAW with an id, a persistent volume) is never added
    /// to, and only taken from itself.
    fn combinable(&self, other: &Resource, subtracting: bool) -> bool {
        if self.is_shared() != other.is_shared() {
            return false;
        }
        if self.is_shared() {
            return self.same(other);
        }
        if !self.same_kind(other) {
            return false;
        }
        let alone = self.disk.as_ref().is_some_and(|d| {
            d.persistence.is_some()
                || d.source.as_ref().is_some_and(|s| match s.kind {
                    DiskSourceType::Mount | DiskSourceType::Block => true,
                    DiskSourceType::Raw => s.id.is_some(),
                    _ => false,
                })
        });
        !alone || (subtracting && self.same(other))
    }

    /// Whether this resource holds all of `other` (Mesos's `contains` of two resources).
    pub fn contains(&self, other: &Resource) -> bool {
        if !self.subtractable(other) {
            return false;
        }
        match self.kind {
            ValueType::Scalar => scalar_of(other).le(&scalar_of(self)),
            ValueType::Ranges => ranges_of(self).contains(&ranges_of(other)),
            ValueType::Set => set_of(self).contains(&set_of(other)),
            _ => false,
        }
    }

    /// Adds `other`'s value into this one (they must be addable).
    pub(crate) fn add_value(&mut self, other: &Resource) {
        self.combine_value(other, Scalar::add, Ranges::add, Set::add);
    }

    /// Takes `other`'s value out of this one (they must be subtractable).
    pub(crate) fn subtract_value(&mut self, other: &Resource) {
        self.combine_value(other, Scalar::subtract, Ranges::subtract, Set::subtract);
    }

    fn combine_value(
        &mut self,
        other: &Resource,
        scalar: fn(&mut Scalar, &Scalar),
        ranges: fn(&mut Ranges, &Ranges),
        set: fn(&mut Set, &Set),
    ) {
        match self.kind {
            ValueType::Scalar => scalar(
                self.scalar.get_or_insert_with(Default::default),
                &scalar_of(other),
            ),
            ValueType::Ranges => ranges(
                self.ranges.get_or_insert_with(Default::default),
                &ranges_of(other),
            ),
            ValueType::Set => set(
                self.set.get_or_insert_with(Default::default),
                &set_of(other),
            ),
            _ => {}
        }
    }

    /// Into the `reservations` format: a `role` other than `*` becomes a STATIC reservation
    /// (DYNAMIC, with its principal and labels, when `reservation` is set), and the old
    /// fields are cleared (Mesos's `upgradeResource`).
    pub fn upgrade(&mut self) {
        if !self.reservations.is_empty() {
            self.role = None;
            self.reservation = None;
            return;
        }
        let Some(role) = self.role.take() else {
            return;
        };
        if role == "*" {
            self.reservation = None;
            return;
        }
        let mut info = match self.reservation.take() {
            Some(mut r) => {
                r.kind = Some(ReservationType::Dynamic);
                *r
            }
            None => ReservationInfo::new(ReservationType::Static, ""),
        };
        info.role = Some(role);
        if info.kind.is_none() {
            info.kind = Some(ReservationType::Static);
        }
        self.reservations.push(info);
    }

    /// As the operator endpoints write resources (Mesos's ENDPOINT format): the
    /// `reservations` stack kept, and `role` (`*` when unreserved) with a dynamic single
    /// reservation's `reservation` beside it.
    pub fn to_endpoint_format(&self) -> Resource {
        let mut r = self.clone();
        match r.reservations.as_slice() {
            [] => r.role = Some("*".into()),
            [only] => {
                if only.kind == Some(ReservationType::Dynamic) {
                    r.reservation = Some(Box::new(ReservationInfo {
                        principal: only.principal.clone(),
                        labels: only.labels.clone(),
                        ..Default::default()
                    }));
                }
                r.role = only.role.clone();
            }
            _ => {}
        }
        r
    }

    /// Checks the resource as Mesos's `Resources::validate` does.
    pub fn validate(&self) -> Result<(), ResourceError> {
        let bad = |why: String| Err(ResourceError(why));
        if self.name.is_empty() {
            return bad("Empty resource name".into());
        }
        let (s, r, t) = (
            self.scalar.is_some(),
            self.ranges.is_some(),
            self.set.is_some(),
        );
        match self.kind {
            ValueType::Scalar => {
                if !s || r || t {
                    return bad("Invalid scalar resource".into());
                }
                let v = scalar_of(self);
                if v.value != 0.0 && v.le(&Scalar::new(0.0)) {
                    return bad("Invalid scalar resource: value <= 0".into());
                }
            }
            ValueType::Ranges => {
                if s || !r || t {
                    return bad("Invalid ranges resource".into());
                }
                let list = &ranges_of(self).range;
                for (i, a) in list.iter().enumerate() {
                    if a.begin > a.end {
                        return bad("Invalid ranges resource: begin > end".into());
                    }
                    if list[i + 1..]
                        .iter()
                        .any(|b| a.begin <= b.begin && b.begin <= a.end)
                    {
                        return bad("Invalid ranges resource: overlapping ranges".into());
                    }
                }
            }
            ValueType::Set => {
                if s || r || !t {
                    return bad("Invalid set resource".into());
                }
                let items = &set_of(self).item;
                if items
                    .iter()
                    .enumerate()
                    .any(|(i, x)| items[i + 1..].contains(x))
                {
                    return bad("Invalid set resource: duplicated elements".into());
                }
            }
            _ => return bad("Unsupported resource type".into()),
        }
        if let Some(disk) = &self.disk {
            if self.name != "disk" {
                return bad(format!(
                    "DiskInfo should not be set for {} resource",
                    self.name
                ));
            }
            if let Some(source) = &disk.source {
                match source.kind {
                    DiskSourceType::Block | DiskSourceType::Raw => {
                        if source.mount.is_some() {
                            return bad(format!(
                                "Mount should not be set for {} disk source",
                                source.kind
                            ));
                        }
                        if source.path.is_some() {
                            return bad(format!(
                                "Path should not be set for {} disk source",
                                source.kind
                            ));
                        }
                    }
                    DiskSourceType::Path | DiskSourceType::Mount => {}
                    _ => return bad("Unsupported 'DiskInfo.Source.Type'".into()),
                }
            }
        }
        self.validate_reservations()?;
        if self.shared.is_some() {
            if self.name != "disk" {
                return bad(format!("Resource {} cannot be shared", self.name));
            }
            if !self.is_persistent_volume() {
                return bad("Only persistent volumes can be shared".into());
            }
        }
        Ok(())
    }

    fn validate_reservations(&self) -> Result<(), ResourceError> {
        let bad = |why: String| Err(ResourceError(why));
        let role_ok = |role: &str| roles::validate(role).map_err(|e| ResourceError(e.0));
        if self.reservations.is_empty() {
            let role = self.role.as_deref().unwrap_or("*");
            role_ok(role)?;
            if let Some(r) = &self.reservation {
                if r.kind.is_some() {
                    return bad("'Resource.ReservationInfo.type' must not be set for the \
                                'Resource.reservation' field"
                        .into());
                }
                if r.role.is_some() {
                    return bad("'Resource.ReservationInfo.role' must not be set for the \
                                'Resource.reservation' field"
                        .into());
                }
                if role == "*" {
                    return bad(
                        "Invalid reservation: role \"*\" cannot be dynamically reserved".into(),
                    );
                }
            }
            return Ok(());
        }
        for r in &self.reservations {
            if r.kind.is_none() {
                return bad(
                    "Invalid reservation: 'Resource.ReservationInfo.type' field must be set."
                        .into(),
                );
            }
            let Some(role) = r.role.as_deref() else {
                return bad(
                    "Invalid reservation: 'Resource.ReservationInfo.role' field must be set."
                        .into(),
                );
            };
            role_ok(role)?;
            if role == "*" {
                return bad("Invalid reservation: role \"*\" cannot be reserved".into());
            }
        }
        let mut ancestor = self.reservations[0].role();
        for r in &self.reservations[1..] {
            if r.kind == Some(ReservationType::Static) {
                return bad(
                    "Invalid refined reservation: A refined reservation cannot be STATIC".into(),
                );
            }
            if !roles::is_strict_subrole_of(r.role(), ancestor) {
                return bad(format!(
                    "Invalid refined reservation: role '{}' is not a refinement of '{ancestor}'",
                    r.role()
                ));
            }
            ancestor = r.role();
        }
        if let [only] = self.reservations.as_slice() {
            if let Some(role) = &self.role {
                if role != only.role() {
                    return bad(format!(
                        "Invalid resource format: 'Resource.role' field with '{role}' does not \
                         match the role '{}' in 'Resource.reservations'",
                        only.role()
                    ));
                }
            }
            match only.kind {
                Some(ReservationType::Static) if self.reservation.is_some() => {
                    return bad(
                        "Invalid resource format: 'Resource.reservation' must not be set \
                                if the single reservation in 'Resource.reservations' is STATIC"
                            .into(),
                    );
                }
                Some(ReservationType::Dynamic)
                    if self.role.is_some() != self.reservation.is_some() =>
                {
                    return bad("Invalid resource format: 'Resource.role' and \
                                'Resource.reservation' must either be both set or both not set \
                                if the single reservation in 'Resource.reservations' is DYNAMIC"
                        .into());
                }
                Some(ReservationType::Static | ReservationType::Dynamic) => {}
                _ => return bad("Unsupported 'Resource.ReservationInfo.Type'".into()),
            }
        } else {
            if self.role.is_some() {
                return bad(
                    "Invalid resource format: 'Resource.role' must not be set if there \
                            is more than one reservation in 'Resource.reservations'"
                        .into(),
                );
            }
            if self.reservation.is_some() {
                return bad(
                    "Invalid resource format: 'Resource.reservation' must not be set if \
                            there is more than one reservation in 'Resource.reservations'"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

fn scalar_of(r: &Resource) -> Scalar {
    r.scalar.clone().unwrap_or_default()
}

fn ranges_of(r: &Resource) -> Ranges {
    r.ranges.clone().unwrap_or_default()
}

fn set_of(r: &Resource) -> Set {
    r.set.clone().unwrap_or_default()
}

/// Mesos's text form of a resource: `cpus:2`, `ports(reservations: [(STATIC,ops)]):[1-2]`,
/// `cpus(allocated: web):0.5`, `disk[...]{REV}<SHARED>:10`.
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(a) = &self.allocation_info {
            write!(f, "(allocated: {})", a.role.as_deref().unwrap_or(""))?;
        }
        if !self.reservations.is_empty() {
            f.write_str("(reservations: [")?;
            for (i, r) in self.reservations.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "({},{}", r.kind.clone().unwrap_or_default(), r.role())?;
                if let Some(p) = &r.principal {
                    write!(f, ",{p}")?;
                }
                if let Some(labels) = &r.labels {
                    let parts: Vec<String> = labels
                        .labels
                        .iter()
                        .map(|l| match &l.value {
                            Some(v) => format!("{}: {v}", l.key),
                            None => l.key.clone(),
                        })
                        .collect();
                    write!(f, ",{{{}}}", parts.join(", "))?;
                }
                f.write_str(")")?;
            }
            f.write_str("])")?;
        }
        if let Some(disk) = &self.disk {
            let id = disk.persistence.as_ref().map_or("", |p| p.id.as_str());
            write!(f, "[{id}]")?;
        }
        if self.revocable.is_some() {
            f.write_str("{REV}")?;
        }
        if self.shared.is_some() {
            f.write_str("<SHARED>")?;
        }
        f.write_str(":")?;
        match self.kind {
            ValueType::Scalar => write!(f, "{}", scalar_of(self)),
            ValueType::Ranges => write!(f, "{}", ranges_of(self)),
            ValueType::Set => write!(f, "{}", set_of(self)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(v: serde_json::Value) -> Resource {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_old_format_is_upgraded_and_written_back() {
        let mut r = res(
            json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
                               "role": "ops", "reservation": {"principal": "p"}}),
        );
        r.upgrade();
        assert_eq!(r.role, None);
        assert_eq!(r.reservation, None);
        assert_eq!(r.reservation_role(), Some("ops"));
        assert!(r.is_dynamically_reserved());
        assert_eq!(r.reservations[0].principal.as_deref(), Some("p"));
        let e = r.to_endpoint_format();
        assert_eq!(e.role.as_deref(), Some("ops"));
        assert_eq!(
            e.reservation.and_then(|x| x.principal).as_deref(),
            Some("p")
        );
        let mut star = res(
            json!({"name": "mem", "type": "SCALAR", "scalar": {"value": 1},
                                  "role": "*"}),
        );
        star.upgrade();
        assert!(star.is_unreserved() && star.role.is_none());
        assert_eq!(star.to_endpoint_format().role.as_deref(), Some("*"));
        let mut fixed = res(
            json!({"name": "mem", "type": "SCALAR", "scalar": {"value": 1},
                                   "role": "web"}),
        );
        fixed.upgrade();
        assert_eq!(fixed.reservations[0].kind, Some(ReservationType::Static));
    }

    #[test]
    fn allocatable_to_a_role_and_its_descendants() {
        let r = Resource::scalar("cpus", 1.0).reserved_to("eng");
        assert!(r.is_allocatable_to("eng"));
        assert!(r.is_allocatable_to("eng/web"));
        assert!(!r.is_allocatable_to("ops"));
        assert!(r.is_reserved(Some("eng")) && r.is_reserved(None));
        assert!(!r.is_reserved(Some("ops")));
        assert!(Resource::scalar("cpus", 1.0).is_allocatable_to("anyone"));
    }

    #[test]
    fn validation_follows_mesos() {
        assert!(Resource::scalar("cpus", 1.0).validate().is_ok());
        assert!(Resource::scalar("cpus", 0.0).validate().is_ok());
        let err = |r: Resource| r.validate().unwrap_err().0;
        assert_eq!(
            err(Resource::scalar("cpus", -1.0)),
            "Invalid scalar resource: value <= 0"
        );
        assert_eq!(
            err(Resource::scalar("cpus", 0.0001)),
            "Invalid scalar resource: value <= 0"
        );
        assert_eq!(err(Resource::scalar("", 1.0)), "Empty resource name");
        assert_eq!(
            err(Resource::ranges(
                "ports",
                Ranges {
                    range: vec![
                        super::super::values::Range::new(1, 5),
                        super::super::values::Range::new(3, 9)
                    ],
                    ..Default::default()
                }
            )),
            "Invalid ranges resource: overlapping ranges"
        );
        assert_eq!(
            err(Resource::scalar("cpus", 1.0).reserved_to("*")),
            "Invalid reservation: role \"*\" cannot be reserved"
        );
        let mut refined = Resource::scalar("cpus", 1.0).reserved_to("a");
        refined
            .reservations
            .push(ReservationInfo::new(ReservationType::Dynamic, "b"));
        assert!(err(refined).contains("is not a refinement of 'a'"));
        let mut disk = Resource::scalar("cpus", 1.0);
        disk.disk = Some(Box::default());
        assert_eq!(err(disk), "DiskInfo should not be set for cpus resource");
    }

    #[test]
    fn text_form() {
        assert_eq!(Resource::scalar("cpus", 2.0).to_string(), "cpus:2");
        let mut r = Resource::ranges("ports", Ranges::from_pairs([(1, 2)])).reserved_to("ops");
        r.allocation_info = Some(AllocationInfo::new("ops"));
        assert_eq!(
            r.to_string(),
            "ports(allocated: ops)(reservations: [(STATIC,ops)]):[1-2]"
        );
    }
}
