//! Dynamic reservations: RESERVE and UNRESERVE, by an operator (RESERVE_RESOURCES,
//! UNRESERVE_RESOURCES, `/reserve`, `/unreserve`) on an agent's unallocated resources, and
//! by a framework in ACCEPT on its offers. As Mesos 1.11 checks and applies them
//! (`validation::operation::validate` in `src/master/validation.cpp`, `getResourceConversions`
//! in `src/common/resources_utils.cpp`): a reservation pushes a `DYNAMIC` reservation onto the
//! resources' stack (a refinement when the stack is not empty), an unreservation pops it.

use super::super::resources::Resources;
use crate::mesos::v1::resource::{AllocationInfo, Resource};
use crate::mesos::v1::Resources as V1Resources;

/// What an operation takes from an agent's (or an offer's) resources and what it gives
/// back in their place (Mesos's `ResourceConversion`).
#[derive(Debug, Clone, Default)]
pub struct Conversion {
    pub consumed: Resources,
    pub converted: Resources,
}

impl Conversion {
    /// Applies it to `to`, or Mesos's `X does not contain Y`.
    pub fn apply(&self, to: &Resources) -> Result<Resources, String> {
        if !to.contains(&self.consumed) {
            return Err(format!("{to} does not contain {}", self.consumed));
        }
        Ok(to.minus(&self.consumed).plus(&self.converted))
    }
}

fn unallocated(list: &[Resource]) -> Resources {
    Resources::from_vocabulary(V1Resources::from_resources(list.iter().cloned()))
}

/// The resources with their innermost reservation popped.
fn popped(list: &[Resource]) -> Vec<Resource> {
    list.iter()
        .cloned()
        .map(|mut r| {
            r.reservations.pop();
            r
        })
        .collect()
}

/// RESERVE's conversion: the source (by default, the resources less their innermost
/// reservation) becomes the resources.
pub fn reserve_conversion(resources: &[Resource], source: &[Resource]) -> Conversion {
    let consumed = if source.is_empty() {
        popped(resources)
    } else {
        source.to_vec()
    };
    Conversion {
        consumed: unallocated(&consumed),
        converted: unallocated(resources),
    }
}

/// UNRESERVE's conversion: the resources lose their innermost reservation.
pub fn unreserve_conversion(resources: &[Resource]) -> Conversion {
    Conversion {
        consumed: unallocated(resources),
        converted: unallocated(&popped(resources)),
    }
}

/// Who asks: an operator (with the principal it authenticated as), or a framework (its
/// principal and roles).
pub enum Requester<'a> {
    Operator {
        principal: Option<&'a str>,
    },
    Framework {
        principal: Option<&'a str>,
        roles: &'a [String],
    },
}

/// Mesos's `Resources::validate` of a list, as the master's call validation words it.
pub fn validate_each(list: &[Resource]) -> Result<(), String> {
    for r in list {
        r.validate()
            .map_err(|e| format!("Resource '{r}' is invalid: {}", e.0))?;
    }
    Ok(())
}

fn same_reservations(list: &[Resource]) -> bool {
    list.first().is_none_or(|first| {
        list.iter().all(|r| {
            r.reservations.len() == first.reservations.len()
                && r.reservations
                    .iter()
                    .zip(&first.reservations)
                    .all(|(a, b)| a.same(b))
        })
    })
}

/// `validate(Offer::Operation::Reserve, principal, capabilities, frameworkInfo)`; every
/// agent here has HIERARCHICAL_ROLE and RESERVATION_REFINEMENT.
pub fn validate_reserve(
    resources: &[Resource],
    source: &[Resource],
    who: &Requester,
) -> Result<(), String> {
    if !source.is_empty() {
        if resources.is_empty() {
            return Err("Invalid resources: Resource cannot be empty".into());
        }
        if !same_reservations(source) {
            return Err(format!(
                "Invalid source: Mixed reservations are not supported{}",
                unallocated(source)
            ));
        }
        if !same_reservations(resources) {
            return Err(format!(
                "Invalid resources: Mixed reservations are not supported{}",
                unallocated(resources)
            ));
        }
        let (s, t) = (
            unallocated(source).vocabulary().to_unreserved(),
            unallocated(resources).vocabulary().to_unreserved(),
        );
        if s != t {
            return Err(format!(
                "Source and target resources should refer to identical resource quantities: \
                 {s} vs. {t}"
            ));
        }
    }
    for r in resources {
        if !r.is_dynamically_reserved() {
            return Err(format!("Resource {r} is not dynamically reserved"));
        }
        let principal = match who {
            Requester::Operator { principal } | Requester::Framework { principal, .. } => {
                *principal
            }
        };
        if let Some(p) = principal {
            let reservation = r.reservations.last();
            match reservation.and_then(|x| x.principal.as_deref()) {
                None => {
                    return Err(format!(
                        "A reserve operation was attempted by principal '{p}', but there is a \
                         reserved resource in the request with no principal set"
                    ))
                }
                Some(given) if given != p => {
                    return Err(format!(
                        "A reserve operation was attempted by authenticated principal '{p}', \
                         which does not match a reserved resource in the request with \
                         principal '{given}'"
                    ))
                }
                Some(_) => {}
            }
        }
        let role = r.reservation_role().unwrap_or("");
        match who {
            Requester::Framework { roles, .. } => {
                let Some(allocated) = r.allocation_info.as_ref().and_then(|a| a.role.as_deref())
                else {
                    return Err(format!(
                        "A reserve operation was attempted on unallocated resource {r}, but \
                         frameworks can only perform reservations on allocated resources"
                    ));
                };
                if allocated != role {
                    return Err(format!(
                        "A reserve operation was attempted for a resource with role '{role}', \
                         but the resource was allocated to role '{allocated}'"
                    ));
                }
                if !roles.iter().any(|x| x == allocated) {
                    return Err(format!(
                        "A reserve operation was attempted for a resource allocated to role \
                         '{allocated}', but the framework only has roles '{}'",
                        role_set(roles)
                    ));
                }
            }
            Requester::Operator { .. } => {
                if r.allocation_info.is_some() {
                    return Err(
                        "A reserve operation was attempted with an allocated resource, \
                                but the operator API only allows reservations to be made to \
                                unallocated resources"
                            .into(),
                    );
                }
            }
        }
    }
    Ok(())
}

/// A set of roles as stout writes a `hashset<string>`: `{ a, b }`.
fn role_set(roles: &[String]) -> String {
    format!("{{ {} }}", roles.join(", "))
}

/// `validate(Offer::Operation::Unreserve)`.
pub fn validate_unreserve(resources: &[Resource]) -> Result<(), String> {
    for r in resources {
        if !r.is_dynamically_reserved() {
            return Err(format!("Resource {r} is not dynamically reserved"));
        }
        if r.is_persistent_volume() {
            return Err(format!(
                "A dynamically reserved persistent volume {r} cannot be unreserved directly. \
                 Please destroy the persistent volume first then unreserve the resource"
            ));
        }
    }
    Ok(())
}

/// A framework's resources as Mesos's master has them in `_accept`: allocated to the offer's
/// role when the framework is not MULTI_ROLE (`injectAllocationInfo`).
pub fn inject_allocation(list: &mut [Resource], role: &str, multi_role: bool) {
    if multi_role {
        return;
    }
    for r in list {
        if r.allocation_info.is_none() {
            r.allocation_info = Some(AllocationInfo::new(role));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(v: serde_json::Value) -> Vec<Resource> {
        let mut list: Vec<Resource> = serde_json::from_value(v).unwrap_or_default();
        for r in &mut list {
            r.upgrade();
        }
        list
    }

    #[test]
    fn reserve_and_unreserve_convert_as_mesos_does() {
        let reserved = res(
            json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
            "reservations": [{"type": "DYNAMIC", "role": "ops", "principal": "p"}]}]),
        );
        let total = Resources::flat(2.0, 10.0, 0.0, 0.0, &[]);
        let c = reserve_conversion(&reserved, &[]);
        let after = c.apply(&total).unwrap_or_default();
        assert_eq!(after.reserved(Some("ops")).cpus(), 1.0);
        assert_eq!(after.unreserved().cpus(), 1.0);
        let back = unreserve_conversion(&reserved)
            .apply(&after)
            .unwrap_or_default();
        assert_eq!(back, total);
        let err = reserve_conversion(&reserved, &[])
            .apply(&Resources::flat(0.5, 0.0, 0.0, 0.0, &[]))
            .unwrap_err();
        assert_eq!(err, "cpus:0.5 does not contain cpus:1");
        // A refinement takes from the parent's reservation.
        let refined = res(
            json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
            "reservations": [{"type": "DYNAMIC", "role": "ops", "principal": "p"}, {"type": "DYNAMIC", "role": "ops/dev"}]}]),
        );
        let c = reserve_conversion(&refined, &[]);
        assert!(c.apply(&after).is_ok());
        assert!(c.apply(&total).is_err());
    }

    #[test]
    fn reservations_are_checked_as_mesos_checks_them() {
        let op = Requester::Operator {
            principal: Some("ops"),
        };
        let plain = res(json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}]));
        assert_eq!(
            validate_reserve(&plain, &[], &op),
            Err("Resource cpus:1 is not dynamically reserved".into())
        );
        let nobody = res(
            json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
            "reservations": [{"type": "DYNAMIC", "role": "ops"}]}]),
        );
        assert!(
            validate_reserve(&nobody, &[], &op).is_err_and(|e| e.contains("with no principal set"))
        );
        assert!(validate_reserve(&nobody, &[], &Requester::Operator { principal: None }).is_ok());
        let roles = vec!["web".to_string()];
        let fw = Requester::Framework {
            principal: None,
            roles: &roles,
        };
        let mut allocated = nobody.clone();
        inject_allocation(&mut allocated, "web", false);
        assert_eq!(
            validate_reserve(&allocated, &[], &fw),
            Err(
                "A reserve operation was attempted for a resource with role 'ops', but the \
                 resource was allocated to role 'web'"
                    .into()
            )
        );
        assert!(validate_unreserve(&plain).is_err());
        assert!(validate_unreserve(&nobody).is_ok());
    }
}
