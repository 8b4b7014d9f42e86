//! What LAUNCH takes of its offer: scalars as pieces of the offer's own resources
//! (reserved ones first, so a role's reservations are used before shared capacity, each
//! keeping its reservations and allocation), and a persistent volume: the offer's own, or
//! one made (a CREATE before the LAUNCH) from the offer's reserved disk.

use crate::mesos::v1::container::{Volume, VolumeMode};
use crate::mesos::v1::resource::{DiskInfo, Persistence};
use crate::mesos::v1::values::Scalar;
use crate::mesos::v1::{Offer, Resource};

/// A persistent volume a task wants: its id, where it goes in the sandbox, and (to make
/// it when the offer has none) its size.
#[derive(Debug, Clone)]
pub struct WantedVolume {
    pub id: String,
    pub path: String,
    pub size: Option<f64>,
}

fn volume_id(r: &Resource) -> Option<&str> {
    r.disk
        .as_ref()
        .and_then(|d| d.persistence.as_ref())
        .map(|p| p.id.as_str())
}

/// Takes `amount` of scalar `name` from the resources (reserved ones first), as pieces of
/// them; `None` when there is not enough. Volumes and disk set aside are not taken.
pub fn take(resources: &[Resource], name: &str, amount: f64) -> Option<Vec<Resource>> {
    let mut candidates: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.name == name && r.scalar.is_some() && r.disk.is_none() && !r.is_shared())
        .collect();
    // Reserved first, the most refined first.
    candidates.sort_by_key(|r| std::cmp::Reverse(r.reservations.len()));
    let mut left = amount;
    let mut out = Vec::new();
    for r in candidates {
        if left <= 1e-9 {
            break;
        }
        let have = r.scalar_value();
        let piece = have.min(left);
        if piece <= 0.0 {
            continue;
        }
        let mut p = r.clone();
        p.scalar = Some(Scalar::new(piece));
        out.push(p);
        left -= piece;
    }
    (left <= 1e-9).then_some(out)
}

/// What is left of the resources once `taken` is set aside (scalars only).
pub fn without(resources: &[Resource], taken: &[Resource]) -> Vec<Resource> {
    let mut rest: crate::mesos::v1::Resources = resources.iter().cloned().collect();
    for t in taken {
        rest.subtract_resource(t);
    }
    rest.into_vec()
}

/// The volume for the task and, when it must be made first, the volume to CREATE.
pub fn volume(offer: &Offer, want: &WantedVolume) -> Option<(Resource, Option<Resource>)> {
    let mount = Volume {
        mode: VolumeMode::Rw,
        container_path: want.path.clone(),
        ..Default::default()
    };
    if let Some(v) = offer
        .resources
        .iter()
        .find(|r| volume_id(r) == Some(want.id.as_str()))
    {
        let mut v = v.clone();
        if let Some(d) = v.disk.as_mut() {
            d.volume = Some(mount);
        }
        return Some((v, None));
    }
    // Made from reserved disk: the size asked for, else all the reserved disk of one kind.
    let reserved: Vec<&Resource> = offer
        .resources
        .iter()
        .filter(|r| r.name == "disk" && !r.reservations.is_empty() && r.disk.is_none())
        .collect();
    let base = reserved
        .iter()
        .find(|r| want.size.is_none_or(|s| r.scalar_value() + 1e-9 >= s))?;
    let mut v = (*base).clone();
    v.scalar = Some(Scalar::new(want.size.unwrap_or(base.scalar_value())));
    v.disk = Some(Box::new(DiskInfo {
        persistence: Some(Persistence {
            id: want.id.clone(),
            ..Default::default()
        }),
        volume: Some(mount),
        ..Default::default()
    }));
    Some((v.clone(), Some(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn offer(resources: serde_json::Value) -> Offer {
        serde_json::from_value(json!({"id": {"value": "o"}, "framework_id": {"value": "f"},
            "agent_id": {"value": "a"}, "hostname": "h", "resources": resources}))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn reserved_pieces_first_then_unreserved() {
        let o = offer(json!([
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}, "allocation_info": {"role": "ops"}},
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}, "allocation_info": {"role": "ops"},
             "reservations": [{"type": "STATIC", "role": "ops"}]}]));
        let got = take(&o.resources, "cpus", 1.0).unwrap_or_default();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].reservation_role(), Some("ops"));
        assert_eq!(got[0].scalar_value(), 0.5);
        assert_eq!(got[1].scalar_value(), 0.5);
        assert!(got.iter().all(|r| r.allocation_info.is_some()));
        assert!(take(&o.resources, "cpus", 3.0).is_none());
    }

    #[test]
    fn a_volume_is_the_offers_or_made_from_reserved_disk() {
        let want = WantedVolume {
            id: "data".into(),
            path: "data".into(),
            size: Some(64.0),
        };
        let o = offer(
            json!([{"name": "disk", "type": "SCALAR", "scalar": {"value": 100},
            "reservations": [{"type": "DYNAMIC", "role": "ops"}]}]),
        );
        let (v, create) = volume(&o, &want).unwrap_or_else(|| panic!("no volume"));
        assert_eq!(v.scalar_value(), 64.0);
        assert!(create.is_some());
        let unreserved =
            offer(json!([{"name": "disk", "type": "SCALAR", "scalar": {"value": 100}}]));
        assert!(volume(&unreserved, &want).is_none());
        let has = offer(
            json!([{"name": "disk", "type": "SCALAR", "scalar": {"value": 10},
            "reservations": [{"type": "DYNAMIC", "role": "ops"}],
            "disk": {"persistence": {"id": "data"}, "volume": {"mode": "RW", "container_path": "x"}}}]),
        );
        let (v, create) = volume(&has, &want).unwrap_or_else(|| panic!("no volume"));
        assert!(create.is_none());
        assert_eq!(
            v.disk
                .and_then(|d| d.volume)
                .map(|m| m.container_path)
                .as_deref(),
            Some("data")
        );
    }
}
