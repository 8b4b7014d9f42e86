//! Frameworks: `FrameworkInfo` (as a scheduler subscribes), its roles and capabilities, and
//! the per-role offer filters.

use super::ids::FrameworkId;
use super::labels::Labels;
use super::values::Scalar;

crate::enumeration! {
    /// What a framework declares it can handle.
    pub enum FrameworkCapabilityType {
        Unknown = "UNKNOWN",
        RevocableResources = "REVOCABLE_RESOURCES",
        TaskKillingState = "TASK_KILLING_STATE",
        GpuResources = "GPU_RESOURCES",
        SharedResources = "SHARED_RESOURCES",
        PartitionAware = "PARTITION_AWARE",
        MultiRole = "MULTI_ROLE",
        ReservationRefinement = "RESERVATION_REFINEMENT",
        RegionAware = "REGION_AWARE",
    }
}

crate::message! {
    /// One capability of a framework.
    pub struct FrameworkCapability {
        opt kind "type": FrameworkCapabilityType,
    }
}

crate::message! {
    /// Resource quantities by name (`{"cpus": {"value": 1}}`).
    pub struct ResourceQuantities {
        map quantities: Scalar,
    }
}

crate::message! {
    /// The smallest offers a role wants: any one of these quantities.
    pub struct MinAllocatableResources {
        rep quantities: ResourceQuantities,
    }
}

crate::message! {
    /// Offer filters of one role.
    pub struct OfferFilters {
        opt min_allocatable_resources: MinAllocatableResources,
    }
}

crate::message! {
    /// A framework as its scheduler describes it.
    pub struct FrameworkInfo {
        req user: String,
        req name: String,
        opt id: FrameworkId,
        /// Seconds the master keeps the framework's tasks after it disconnects.
        def failover_timeout: f64 = 0.0,
        def checkpoint: bool = false,
        /// The one role of a framework without MULTI_ROLE. Deprecated in Mesos, so its
        /// default (`*`) is never written; `role_or_default` reads it.
        opt role: String,
        rep roles: String,
        opt hostname: String,
        opt principal: String,
        opt webui_url: String,
        rep capabilities: FrameworkCapability,
        opt labels: Labels,
        map offer_filters: OfferFilters,
    }
}

impl FrameworkCapability {
    pub fn new(kind: FrameworkCapabilityType) -> FrameworkCapability {
        FrameworkCapability {
            kind: Some(kind),
            ..Default::default()
        }
    }
}

impl FrameworkInfo {
    pub fn has_capability(&self, kind: &FrameworkCapabilityType) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.kind.as_ref() == Some(kind))
    }

    /// `role`, or `*` when unset.
    pub fn role_or_default(&self) -> &str {
        self.role.as_deref().unwrap_or("*")
    }

    /// The roles the framework subscribes with: `roles` for a MULTI_ROLE framework, else
    /// its one `role`.
    pub fn all_roles(&self) -> Vec<&str> {
        if self.has_capability(&FrameworkCapabilityType::MultiRole) {
            self.roles.iter().map(String::as_str).collect()
        } else {
            vec![self.role_or_default()]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mesos_writes_the_defaults_but_not_the_deprecated_role() {
        let f: FrameworkInfo = serde_json::from_value(json!({"user": "u", "name": "n"})).unwrap();
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"user": "u", "name": "n", "failover_timeout": 0.0, "checkpoint": false})
        );
        assert_eq!(f.all_roles(), ["*"]);
        let multi: FrameworkInfo = serde_json::from_value(json!({
            "user": "u", "name": "n", "roles": ["a", "b"],
            "capabilities": [{"type": "MULTI_ROLE"}, {"type": "FUTURE_THING"}]
        }))
        .unwrap();
        assert_eq!(multi.all_roles(), ["a", "b"]);
        assert_eq!(
            multi.capabilities[1].kind,
            Some(FrameworkCapabilityType::Other("FUTURE_THING".into()))
        );
    }
}
