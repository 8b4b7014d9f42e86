//! Operations other than launches on an agent's resources, applied as Mesos 1.11's master
//! applies them (speculatively: the agent's resources change at once):
//!
//! - by an operator (`Master::Http::_operation` in `src/master/http.cpp`): outstanding
//!   offers on the agent are rescinded, one at a time, until they free what the operation
//!   needs (their frameworks refuse the agent for 5 s, as `Filters()` does); then the
//!   operation applies to the agent's unallocated resources, or is refused with `409`
//!   (`X does not contain Y`);
//! - by a framework in ACCEPT (`Master::_accept`): checked, applied to what its offers
//!   hold (so a later LAUNCH of the same ACCEPT may use the result), and to the agent; an
//!   operation that fails is dropped (`operations.rs` tells the framework when it gave an
//!   operation id).

use super::super::resources::Resources;
use super::reservations::{self, Conversion, Requester};
use super::{CallError, Effect, Master};
use crate::mesos::v1::resource::Resource;
use serde_json::Value;

/// ACCEPT's operations handled here.
pub const SUPPORTED: &[&str] = &[
    "RESERVE",
    "UNRESERVE",
    "CREATE",
    "DESTROY",
    "GROW_VOLUME",
    "SHRINK_VOLUME",
];

/// The refusal Mesos's master puts on rescinded offers' resources (`Filters()`).
const RESCIND_REFUSE_SECONDS: f64 = 5.0;

/// A list of resources from a call, upgraded, with what `validateAndUpgradeResources`
/// refuses.
pub fn resource_list(list: Option<&Value>) -> Result<Vec<Resource>, String> {
    let items = list.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut r: Resource = serde_json::from_value(item)
            .map_err(|e| format!("Failed to convert JSON into Call protobuf: {e}"))?;
        r.upgrade();
        out.push(r);
    }
    reservations::validate_each(&out)?;
    Ok(out)
}

impl Master {
    /// How Mesos names an agent in messages: `<id> at slave(1)@<ip>:<port> (<hostname>)`.
    pub fn agent_text(&self, agent_id: &str) -> String {
        match self.agent(agent_id) {
            Some(a) => format!("{} at {} ({})", a.id, a.pid(self.settings.ip), a.hostname),
            None => agent_id.to_string(),
        }
    }

    /// What an agent has that is neither used nor offered.
    pub(super) fn unallocated_on(&self, agent_id: &str) -> Resources {
        match self.agent(agent_id) {
            Some(a) => a.total.minus(&a.used).minus(&self.offered_on(agent_id)),
            None => Resources::default(),
        }
    }

    /// An operator's operation on an agent's unallocated resources (`_operation`).
    pub fn operator_conversion(
        &mut self,
        agent_id: &str,
        conversion: &Conversion,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        if !self.agents.iter().any(|a| a.id == agent_id) {
            return Err(CallError::new(400, "No agent found with specified ID"));
        }
        let mut required = conversion.consumed.clone();
        let mut recovered = Resources::default();
        let offers: Vec<(String, String, String, Resources)> = self
            .offers
            .iter()
            .filter(|o| o.agent_id == agent_id)
            .map(|o| {
                (
                    o.id.clone(),
                    o.framework_id.clone(),
                    o.role.clone(),
                    o.resources.clone(),
                )
            })
            .collect();
        for (offer_id, framework_id, role, resources) in offers {
            if required.minus(&resources) == required {
                continue;
            }
            required = required.minus(&resources);
            recovered = recovered.plus(&resources);
            self.rescind(&offer_id);
            self.add_filter(
                &framework_id,
                (agent_id, &role),
                resources,
                RESCIND_REFUSE_SECONDS,
                fx,
            );
            if conversion.apply(&recovered).is_ok() {
                break;
            }
        }
        let free = self.unallocated_on(agent_id);
        let result = conversion.apply(&free).map(|_| ());
        if let Err(e) = result {
            self.allocate(fx);
            return Err(CallError::new(409, e));
        }
        self.convert_agent(agent_id, conversion, fx);
        self.allocate(fx);
        Ok(())
    }

    /// The agent's total resources after the conversion (already checked to apply).
    pub(super) fn convert_agent(
        &mut self,
        agent_id: &str,
        conversion: &Conversion,
        fx: &mut Vec<Effect>,
    ) {
        let mut applied = false;
        if let Some(a) = self.agent_mut(agent_id) {
            if let Ok(total) = conversion.apply(&a.total) {
                a.total = total;
                applied = true;
            }
        }
        if applied {
            self.volume_effects(agent_id, conversion, fx);
        }
    }

    /// One of ACCEPT's operations other than launches, on what the offers hold
    /// (`available`, allocated to `role`).
    pub(super) fn offer_operation(
        &mut self,
        framework_id: &str,
        offer: (&str, &str),
        op: &Value,
        available: &mut Resources,
        fx: &mut Vec<Effect>,
    ) {
        let (agent_id, role) = offer;
        let kind = op.get("type").and_then(Value::as_str).unwrap_or("");
        let result = match kind {
            "RESERVE" | "UNRESERVE" => self.accept_reservation(framework_id, offer, op),
            _ => self.accept_volume_operation(framework_id, offer, op),
        };
        let outcome = result.and_then(|conversion| {
            let after = conversion.apply(available)?;
            Ok((conversion, after))
        });
        match outcome {
            Ok((conversion, after)) => {
                *available = after;
                self.convert_agent(agent_id, &conversion, fx);
                self.operation_applied(framework_id, agent_id, role, op, &conversion.converted);
            }
            Err(message) => {
                tracing::warn!(framework_id, role, kind, "dropping operation: {message}");
                self.operation_dropped(framework_id, op, &message);
            }
        }
    }

    /// ACCEPT's RESERVE or UNRESERVE, checked; its conversion.
    fn accept_reservation(
        &self,
        framework_id: &str,
        offer: (&str, &str),
        op: &Value,
    ) -> Result<Conversion, String> {
        let (agent_id, role) = offer;
        let kind = op.get("type").and_then(Value::as_str).unwrap_or("");
        let field = kind.to_ascii_lowercase();
        let invalid = |e: String| format!("Operation attempted with invalid resources: {e}");
        let mut resources =
            resource_list(op.pointer(&format!("/{field}/resources"))).map_err(invalid)?;
        let source = resource_list(op.pointer(&format!("/{field}/source"))).map_err(invalid)?;
        if !source.is_empty() {
            return Err(invalid(
                "Reservation updates are not yet implemented for the scheduler API.".into(),
            ));
        }
        let Some(f) = self.framework(framework_id) else {
            return Err("Framework cannot be found".into());
        };
        reservations::inject_allocation(&mut resources, role, f.has_capability("MULTI_ROLE"));
        let on_agent = |e: String| format!("{e}; on agent {}", self.agent_text(agent_id));
        let checked = Resources::validate_operation_resources(&resources)
            .map_err(|e| format!("Invalid resources: {e}"));
        checked.map_err(on_agent)?;
        if kind == "RESERVE" {
            let roles = f.roles();
            let principal = f.info.get("principal").and_then(Value::as_str);
            reservations::validate_reserve(
                &resources,
                &[],
                &Requester::Framework {
                    principal,
                    roles: &roles,
                },
            )
            .map_err(on_agent)?;
            Ok(reservations::reserve_conversion(&resources, &[]))
        } else {
            reservations::validate_unreserve(&resources).map_err(on_agent)?;
            Ok(reservations::unreserve_conversion(&resources))
        }
    }
}

/// A LAUNCH or LAUNCH_GROUP with an `id`: its tasks are TASK_ERROR, as `_accept` refuses
/// operation feedback for launches.
pub(super) fn refuse_launch_with_id(m: &mut Master, framework_id: &str, op: &Value) {
    let group = op.get("type").and_then(Value::as_str) == Some("LAUNCH_GROUP");
    let (tasks, reason, message) = if group {
        (
            op.pointer("/launch_group/task_group/tasks"),
            "REASON_TASK_GROUP_INVALID",
            "The `id` field cannot be set on LAUNCH_GROUP operations",
        )
    } else {
        (
            op.pointer("/launch/task_infos"),
            "REASON_TASK_INVALID",
            "The `id` field cannot be set on LAUNCH operations",
        )
    };
    for t in tasks.and_then(Value::as_array).into_iter().flatten() {
        m.master_update(framework_id, t, "TASK_ERROR", reason, message);
    }
}
