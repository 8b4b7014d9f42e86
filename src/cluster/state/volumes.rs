//! Persistent volumes: CREATE, DESTROY, GROW_VOLUME and SHRINK_VOLUME (ACCEPT's, and the
//! operator's CREATE_VOLUMES, DESTROY_VOLUMES, GROW_VOLUME, SHRINK_VOLUME, `/create-volumes`,
//! `/destroy-volumes`), checked as `src/master/validation.cpp` checks them and converted as
//! `getResourceConversions` converts them. A volume is a directory of its agent,
//! `<work_dir>/slaves/<agent>/volumes/roles/<role>/<id>` (a Mesos agent's
//! `<work_dir>/volumes/roles/<role>/<id>`; here the agents share one work dir), made when the
//! volume is created and deleted when it is destroyed; a task that uses the volume finds it
//! linked into its sandbox at the volume's `container_path`, as Mesos's
//! `filesystem/posix` isolator links it.

use super::super::resources::Resources;
use super::reservations::Conversion;
use super::{Effect, Master};
use crate::mesos::v1::container::VolumeMode;
use crate::mesos::v1::resource::Resource;
use crate::mesos::v1::values::Scalar;
use crate::mesos::v1::Resources as V1Resources;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn unallocated(list: impl IntoIterator<Item = Resource>) -> Resources {
    Resources::from_vocabulary(V1Resources::from_resources(list))
}

/// The disk a volume is made of: without its persistence and mount (a PATH or MOUNT disk
/// keeps its source).
pub fn strip(volume: &Resource) -> Resource {
    let mut r = volume.clone();
    match r.disk.as_mut() {
        Some(d) if d.source.is_some() => {
            d.persistence = None;
            d.volume = None;
        }
        _ => r.disk = None,
    }
    r.shared = None;
    r
}

pub fn create_conversion(volumes: &[Resource]) -> Conversion {
    Conversion {
        consumed: unallocated(volumes.iter().map(strip)),
        converted: unallocated(volumes.iter().cloned()),
    }
}

pub fn destroy_conversion(volumes: &[Resource]) -> Conversion {
    Conversion {
        consumed: unallocated(volumes.iter().cloned()),
        converted: unallocated(volumes.iter().map(strip)),
    }
}

pub fn grow_conversion(volume: &Resource, addition: &Resource) -> Conversion {
    let mut grown = volume.clone();
    let mut size = volume.scalar.clone().unwrap_or_default();
    size.add(&addition.scalar.clone().unwrap_or_default());
    grown.scalar = Some(size);
    Conversion {
        consumed: unallocated([volume.clone(), addition.clone()]),
        converted: unallocated([grown]),
    }
}

pub fn shrink_conversion(volume: &Resource, subtract: &Scalar) -> Conversion {
    let mut shrunk = volume.clone();
    let mut size = volume.scalar.clone().unwrap_or_default();
    size.subtract(subtract);
    shrunk.scalar = Some(size);
    let mut freed = strip(volume);
    freed.scalar = Some(subtract.clone());
    Conversion {
        consumed: unallocated([volume.clone()]),
        converted: unallocated([shrunk, freed]),
    }
}

/// `resource::validatePersistentVolume`.
fn validate_persistent(volumes: &[Resource]) -> Result<(), String> {
    for v in volumes {
        let Some(disk) = &v.disk else {
            return Err(format!("Resource {v} does not have DiskInfo"));
        };
        if disk.persistence.is_none() {
            return Err("'persistence' is not set in DiskInfo".into());
        }
        match &disk.volume {
            None => return Err("Expecting 'volume' to be set for persistent volume".into()),
            Some(m) if m.mode == VolumeMode::Ro => {
                return Err("Read-only persistent volume not supported".into())
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn persistence_id(r: &Resource) -> Option<&str> {
    r.disk
        .as_ref()
        .and_then(|d| d.persistence.as_ref())
        .map(|p| p.id.as_str())
}

/// `validate(Offer::Operation::Create, ...)`: `checkpointed` is what the agent has.
pub fn validate_create(
    volumes: &[Resource],
    checkpointed: &Resources,
    principal: Option<&str>,
    framework: Option<(&Value, &str)>,
) -> Result<(), String> {
    Resources::validate_operation_resources(volumes)
        .map_err(|e| format!("Invalid resources: {e}"))?;
    validate_persistent(volumes).map_err(|e| format!("Not a persistent volume: {e}"))?;
    let mut seen: Vec<(String, String)> = checkpointed
        .persistent_volumes()
        .iter()
        .map(|v| {
            (
                v.reservation_role().unwrap_or("").to_string(),
                persistence_id(v).unwrap_or("").to_string(),
            )
        })
        .collect();
    for v in volumes {
        let key = (
            v.reservation_role().unwrap_or("").to_string(),
            persistence_id(v).unwrap_or("").to_string(),
        );
        if seen.contains(&key) {
            return Err(format!("Persistence ID '{}' is not unique", key.1));
        }
        seen.push(key);
    }
    for v in volumes {
        if let Some((info, framework_id)) = framework {
            let shared_ok = info
                .get("capabilities")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|x| x["type"] == "SHARED_RESOURCES"));
            if v.shared.is_some() && !shared_ok {
                return Err(format!(
                    "Create volume operation for '{v}' has been attempted by framework \
                     '{framework_id}' with no SHARED_RESOURCES capability"
                ));
            }
        }
        if let Some(p) = principal {
            let given = v
                .disk
                .as_ref()
                .and_then(|d| d.persistence.as_ref())
                .and_then(|x| x.principal.as_deref());
            match given {
                None => {
                    return Err(format!(
                        "Create volume operation attempted by principal '{p}', but there is a \
                         volume in the operation with no principal set in 'disk.persistence'"
                    ))
                }
                Some(g) if g != p => {
                    return Err(format!(
                        "Create volume operation attempted by authenticated principal '{p}', \
                         which does not match a volume in the operation with principal '{g}' \
                         set in 'disk.persistence'"
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// `validate(Offer::Operation::Destroy, ...)`: the volumes must be the agent's and unused.
pub fn validate_destroy(
    volumes: &[Resource],
    checkpointed: &Resources,
    used: &Resources,
) -> Result<(), String> {
    let volumes: Vec<Resource> = volumes
        .iter()
        .cloned()
        .map(|mut v| {
            v.allocation_info = None;
            v
        })
        .collect();
    Resources::validate_operation_resources(&volumes)
        .map_err(|e| format!("Invalid resources: {e}"))?;
    validate_persistent(&volumes).map_err(|e| format!("Not a persistent volume: {e}"))?;
    for v in &volumes {
        if !checkpointed.vocabulary().contains_resource(v) {
            return Err("Persistent volumes not found".into());
        }
    }
    for v in &volumes {
        if used.vocabulary().contains_resource(v) {
            return Err("Persistent volumes in use".into());
        }
    }
    Ok(())
}

/// `validate(Offer::Operation::GrowVolume, ...)`.
pub fn validate_grow(volume: &Resource, addition: &Resource) -> Result<(), String> {
    volume.validate().map_err(|e| {
        format!(
            "Invalid resource in the 'GrowVolume.volume' field: Resource '{volume}' is invalid: {}",
            e.0
        )
    })?;
    addition.validate().map_err(|e| {
        format!("Invalid resource in the 'GrowVolume.addition' field: Resource '{addition}' is invalid: {}", e.0)
    })?;
    if addition
        .scalar
        .clone()
        .unwrap_or_default()
        .le(&Scalar::new(0.0))
    {
        return Err("The size of 'GrowVolume.addition' field must be greater than zero".into());
    }
    validate_persistent(std::slice::from_ref(volume))
        .map_err(|e| format!("Invalid persistent volume in the 'GrowVolume.volume' field: {e}"))?;
    if volume.shared.is_some() {
        return Err("Growing a shared persistent volume is not supported".into());
    }
    let mut sum = V1Resources::new();
    sum.add_resource(strip(volume));
    sum.add_resource(addition.clone());
    if sum.len() != 1 {
        return Err(
            "Incompatible resources in the 'GrowVolume.volume' and 'GrowVolume.addition' fields"
                .into(),
        );
    }
    Ok(())
}

/// `validate(Offer::Operation::ShrinkVolume, ...)`.
pub fn validate_shrink(volume: &Resource, subtract: &Scalar) -> Result<(), String> {
    volume.validate().map_err(|e| {
        format!("Invalid resource in the 'ShrinkVolume.volume' field: Resource '{volume}' is invalid: {}", e.0)
    })?;
    if subtract.le(&Scalar::new(0.0)) {
        return Err("Value of 'ShrinkVolume.subtract' must be greater than zero".into());
    }
    if volume.scalar.clone().unwrap_or_default().le(subtract) {
        return Err(
            "Value of 'ShrinkVolume.subtract' must be smaller than the size of \
             'ShrinkVolume.volume'"
                .into(),
        );
    }
    let mount = volume
        .disk
        .as_ref()
        .and_then(|d| d.source.as_ref())
        .is_some_and(|s| s.kind == crate::mesos::v1::resource::DiskSourceType::Mount);
    if mount {
        return Err("Shrinking a volume on a MOUNT disk is not supported".into());
    }
    validate_persistent(std::slice::from_ref(volume)).map_err(|e| {
        format!("Invalid persistent volume in the 'ShrinkVolume.volume' field: {e}")
    })?;
    if volume.shared.is_some() {
        return Err("Shrinking a shared persistent volume is not supported".into());
    }
    Ok(())
}

/// Where a volume of an agent lives.
pub fn volume_dir(work_dir: &Path, agent_id: &str, volume: &Resource) -> PathBuf {
    let mut dir = work_dir
        .join("slaves")
        .join(agent_id)
        .join("volumes")
        .join("roles");
    for part in volume.reservation_role().unwrap_or("*").split('/') {
        dir = dir.join(part);
    }
    dir.join(persistence_id(volume).unwrap_or("_"))
}

/// The volumes a task's resources use: each one's directory and where it goes in the
/// sandbox.
pub fn task_links(
    work_dir: &Path,
    agent_id: &str,
    resources: &Resources,
) -> Vec<(PathBuf, String)> {
    resources
        .persistent_volumes()
        .iter()
        .filter_map(|v| {
            let path = v.disk.as_ref()?.volume.as_ref()?.container_path.clone();
            Some((volume_dir(work_dir, agent_id, v), path))
        })
        .collect()
}

/// The persistent volumes of a list of resources, by persistence id.
fn ids(r: &Resources) -> Vec<(&str, &Resource)> {
    r.iter()
        .filter(|x| x.is_persistent_volume())
        .filter_map(|x| Some((persistence_id(x)?, x)))
        .collect()
}

impl Master {
    /// The directories a conversion makes (new volumes) and removes (destroyed ones).
    pub(super) fn volume_effects(
        &self,
        agent_id: &str,
        conversion: &Conversion,
        fx: &mut Vec<Effect>,
    ) {
        let before = ids(&conversion.consumed);
        let after = ids(&conversion.converted);
        for (id, v) in &after {
            if !before.iter().any(|(b, _)| b == id) {
                fx.push(Effect::Volume {
                    path: volume_dir(&self.settings.work_dir, agent_id, v),
                    create: true,
                });
            }
        }
        for (id, v) in &before {
            if !after.iter().any(|(a, _)| a == id) {
                fx.push(Effect::Volume {
                    path: volume_dir(&self.settings.work_dir, agent_id, v),
                    create: false,
                });
            }
        }
    }

    /// ACCEPT's CREATE, DESTROY, GROW_VOLUME or SHRINK_VOLUME, checked; its conversion.
    pub(super) fn accept_volume_operation(
        &self,
        framework_id: &str,
        offer: (&str, &str),
        op: &Value,
    ) -> Result<Conversion, String> {
        use super::offer_operations::resource_list;
        use super::reservations::inject_allocation;
        let (agent_id, role) = offer;
        let Some(f) = self.framework(framework_id) else {
            return Err("Framework cannot be found".into());
        };
        let Some(agent) = self.agent(agent_id) else {
            return Err("Agent cannot be found".into());
        };
        let multi = f.has_capability("MULTI_ROLE");
        let on_agent = |e: String| format!("{e}; on agent {}", self.agent_text(agent_id));
        let invalid = |e: String| format!("Operation attempted with invalid resources: {e}");
        let kind = op.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "CREATE" | "DESTROY" => {
                let field = kind.to_ascii_lowercase();
                let mut volumes =
                    resource_list(op.pointer(&format!("/{field}/volumes"))).map_err(invalid)?;
                inject_allocation(&mut volumes, role, multi);
                if kind == "CREATE" {
                    let principal = f.info.get("principal").and_then(Value::as_str);
                    validate_create(&volumes, &agent.total, principal, Some((&f.info, &f.id)))
                        .map_err(on_agent)?;
                    if let Some(e) = single_role(&volumes) {
                        return Err(on_agent(format!("Invalid volume resources: {e}")));
                    }
                    Ok(create_conversion(&volumes))
                } else {
                    validate_destroy(&volumes, &agent.total, &agent.used).map_err(on_agent)?;
                    Ok(destroy_conversion(&volumes))
                }
            }
            "GROW_VOLUME" => {
                let volume = one(op.pointer("/grow_volume/volume")).map_err(invalid)?;
                let addition = one(op.pointer("/grow_volume/addition")).map_err(invalid)?;
                validate_grow(&volume, &addition).map_err(on_agent)?;
                Ok(grow_conversion(&volume, &addition))
            }
            "SHRINK_VOLUME" => {
                let volume = one(op.pointer("/shrink_volume/volume")).map_err(invalid)?;
                let subtract = scalar(op.pointer("/shrink_volume/subtract"));
                validate_shrink(&volume, &subtract).map_err(on_agent)?;
                Ok(shrink_conversion(&volume, &subtract))
            }
            other => Err(format!("Unsupported operation {other}")),
        }
    }
}

/// `validateAllocatedToSingleRole`'s message, if the volumes have more than one role.
fn single_role(volumes: &[Resource]) -> Option<String> {
    let mut first: Option<&str> = None;
    for v in volumes {
        let Some(role) = v.allocation_info.as_ref().and_then(|a| a.role.as_deref()) else {
            return Some("The resources are not allocated to a role".into());
        };
        match first {
            None => first = Some(role),
            Some(f) if f != role => {
                return Some(format!(
                    "The resources have multiple allocation roles ('{role}' and '{f}') but \
                     only one allocation role is allowed"
                ))
            }
            Some(_) => {}
        }
    }
    None
}

/// One Resource message of a call.
pub fn one(v: Option<&Value>) -> Result<Resource, String> {
    let v = v.ok_or("Missing required fields: resource")?;
    let mut r: Resource = serde_json::from_value(v.clone())
        .map_err(|e| format!("Failed to convert JSON into Call protobuf: {e}"))?;
    r.upgrade();
    r.allocation_info = None;
    Ok(r)
}

/// A `Value.Scalar` of a call (0 when missing).
pub fn scalar(v: Option<&Value>) -> Scalar {
    v.and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn volume(size: f64) -> Resource {
        let mut r: Resource = serde_json::from_value(json!({
            "name": "disk", "type": "SCALAR", "scalar": {"value": size},
            "reservations": [{"type": "DYNAMIC", "role": "ops"}],
            "disk": {"persistence": {"id": "data"}, "volume": {"mode": "RW", "container_path": "data"}}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        r.upgrade();
        r
    }

    #[test]
    fn volumes_convert_and_are_checked_as_mesos_does() {
        let reserved: Resource = strip(&volume(64.0));
        let agent = unallocated([reserved.clone(), Resource::scalar("disk", 100.0)]);
        let created = create_conversion(&[volume(64.0)])
            .apply(&agent)
            .unwrap_or_default();
        assert_eq!(created.persistent_volumes().disk(), 64.0);
        assert!(validate_create(&[volume(64.0)], &created, None, None)
            .is_err_and(|e| e == "Persistence ID 'data' is not unique"));
        assert_eq!(
            validate_destroy(&[volume(64.0)], &agent, &Resources::default()),
            Err("Persistent volumes not found".into())
        );
        assert_eq!(
            validate_destroy(&[volume(64.0)], &created, &created),
            Err("Persistent volumes in use".into())
        );
        let destroyed = destroy_conversion(&[volume(64.0)])
            .apply(&created)
            .unwrap_or_default();
        assert_eq!(destroyed, agent);
        // Growing takes more of the same reserved disk; shrinking gives it back.
        let mut more = reserved.clone();
        more.scalar = Some(Scalar::new(16.0));
        let agent = unallocated([strip(&volume(80.0))]);
        let created = create_conversion(&[volume(64.0)])
            .apply(&agent)
            .unwrap_or_default();
        assert!(validate_grow(&volume(64.0), &more).is_ok());
        let grown = grow_conversion(&volume(64.0), &more)
            .apply(&created)
            .unwrap_or_default();
        assert_eq!(grown.persistent_volumes().disk(), 80.0);
        assert!(validate_shrink(&volume(80.0), &Scalar::new(80.0)).is_err());
        let shrunk = shrink_conversion(&volume(80.0), &Scalar::new(30.0))
            .apply(&grown)
            .unwrap_or_default();
        assert_eq!(shrunk.persistent_volumes().disk(), 50.0);
        assert_eq!(shrunk.disk(), 80.0);
        assert_eq!(
            volume_dir(Path::new("/w"), "S0", &volume(1.0)),
            PathBuf::from("/w/slaves/S0/volumes/roles/ops/data")
        );
    }
}
