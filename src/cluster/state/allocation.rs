//! Resources in a framework's operations, read as Mesos's master reads them in `_accept`:
//! a framework without MULTI_ROLE has its offer's `allocation_info` put on every resource
//! (`injectAllocationInfo`), a MULTI_ROLE framework must give it itself, once role per
//! operation (`validateAllocatedToSingleRole`).

use super::super::resources::Resources;
use serde_json::Value;

/// What a framework's resources are allocated to: the role each names, else the offer's
/// when the framework is not MULTI_ROLE. Errors are Mesos's (after a task's prefix).
pub fn allocation_role(list: &Value, offer_role: &str, multi_role: bool) -> Result<String, String> {
    let mut role: Option<String> = None;
    for r in list.as_array().into_iter().flatten() {
        let own = r.pointer("/allocation_info/role").and_then(Value::as_str);
        let own = match (own, multi_role) {
            (Some(own), _) => own.to_string(),
            (None, false) => offer_role.to_string(),
            (None, true) => {
                return Err(
                    "Invalid task resources: The resources are not allocated to a role".into(),
                )
            }
        };
        match &role {
            None => role = Some(own),
            Some(first) if *first != own => {
                return Err(format!(
                    "Invalid task resources: The resources have multiple allocation roles \
                     ('{own}' and '{first}') but only one allocation role is allowed"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(role.unwrap_or_else(|| offer_role.to_string()))
}

/// Mesos's message when an operation needs more than its offers have (the resources
/// shown allocated, as Mesos's master has them).
pub fn more_than_available(
    needed: &Resources,
    needed_role: &str,
    available: &Resources,
    offer_role: &str,
) -> String {
    format!(
        "Total resources {} required by task and its executor is more than available {}",
        needed.display_allocated(needed_role),
        available.display_allocated(offer_role)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn allocation_roles_as_mesos_reads_them() {
        let plain = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}]);
        assert_eq!(allocation_role(&plain, "web", false), Ok("web".into()));
        assert!(allocation_role(&plain, "web", true).is_err_and(|e| e.contains("not allocated")));
        let two = json!([
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "allocation_info": {"role": "a"}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 1}, "allocation_info": {"role": "b"}}]);
        assert!(allocation_role(&two, "a", true).is_err_and(|e| e.contains("('b' and 'a')")));
    }
}
