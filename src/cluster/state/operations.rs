//! Operation feedback for operations on an agent's default resources, as Mesos 1.11 gives
//! it (`Master::_apply`, `updateOperationStatus`, `acknowledgeOperationStatus`,
//! `reconcileOperations`, `drop`): an ACCEPT operation with an `id` (RESERVE, UNRESERVE,
//! CREATE, DESTROY, GROW_VOLUME, SHRINK_VOLUME) is applied at once and its agent reports
//! `OPERATION_FINISHED` with the converted resources in an `UPDATE_OPERATION_STATUS` event
//! carrying a uuid; the master keeps the operation (GET_OPERATIONS) until the framework
//! acknowledges that terminal status (ACKNOWLEDGE_OPERATION_STATUS). A dropped operation with
//! an id gets `OPERATION_ERROR` and its message, without a uuid. RECONCILE_OPERATIONS answers
//! each operation with its latest status, or what Mesos says of an unknown one.

use super::super::resources::Resources;
use super::Master;
use base64::Engine as _;
use serde_json::{json, Value};

/// An operation the master keeps: a framework's, with an id, not yet acknowledged.
#[derive(Debug, Clone)]
pub struct Operation {
    pub framework_id: String,
    pub agent_id: String,
    pub operation_id: String,
    /// The Offer.Operation as the framework gave it (with the allocation the master put on
    /// its resources).
    pub info: Value,
    /// Statuses the agent sent, the last one latest.
    pub statuses: Vec<Value>,
    /// The operation's own uuid (`Operation.uuid`).
    pub uuid: String,
}

fn uuid_value(bytes: &[u8]) -> Value {
    json!({ "value": base64::engine::general_purpose::STANDARD.encode(bytes) })
}

fn operation_id(op: &Value) -> Option<String> {
    op.pointer("/id/value")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn update_event(status: Value) -> Value {
    json!({"type": "UPDATE_OPERATION_STATUS", "update_operation_status": {"status": status}})
}

impl Master {
    /// An operation applied on the agent: with an id, its OPERATION_FINISHED goes to the
    /// framework (reliably: it is kept until acknowledged).
    pub(super) fn operation_applied(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        role: &str,
        op: &Value,
        converted: &Resources,
    ) {
        let Some(id) = operation_id(op) else {
            return;
        };
        let status_uuid = *self.ids.uuid().as_bytes();
        let own_uuid = *self.ids.uuid().as_bytes();
        let mut status = json!({
            "operation_id": {"value": id},
            "state": "OPERATION_FINISHED",
            "uuid": uuid_value(&status_uuid),
            "agent_id": {"value": agent_id},
        });
        let converted = serde_json::to_value(converted.v1_allocated(role)).unwrap_or_default();
        if converted.as_array().is_some_and(|c| !c.is_empty()) {
            status["converted_resources"] = converted;
        }
        self.operations.push(Operation {
            framework_id: framework_id.to_string(),
            agent_id: agent_id.to_string(),
            operation_id: id,
            info: op.clone(),
            statuses: vec![status.clone()],
            uuid: base64::engine::general_purpose::STANDARD.encode(own_uuid),
        });
        self.count_operation(op, "finished");
        if let Some(f) = self.framework(framework_id) {
            f.send(&update_event(status));
        }
    }

    /// An operation dropped in validation: with an id, OPERATION_ERROR (no uuid, no agent).
    pub(super) fn operation_dropped(&mut self, framework_id: &str, op: &Value, message: &str) {
        self.count_operation(op, "error");
        let Some(id) = operation_id(op) else {
            return;
        };
        if let Some(f) = self.framework(framework_id) {
            f.send(&update_event(json!({
                "operation_id": {"value": id},
                "state": "OPERATION_ERROR",
                "message": message,
            })));
        }
    }

    /// `master/operations/<state>` and `master/operations/<type>/<state>`.
    fn count_operation(&mut self, op: &Value, state: &str) {
        let kind = op
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_ascii_lowercase();
        self.counters.count(&format!("master/operations/{state}"));
        self.counters
            .count(&format!("master/operations/{kind}/{state}"));
    }

    /// ACKNOWLEDGE_OPERATION_STATUS: the status with this uuid is acknowledged; a terminal
    /// one ends the operation. Anything else is counted as invalid, as Mesos counts it.
    pub fn acknowledge_operation(&mut self, framework_id: &str, operation_id: &str, uuid: &str) {
        let pos = self.operations.iter().position(|o| {
            o.framework_id == framework_id
                && o.operation_id == operation_id
                && o.statuses
                    .last()
                    .and_then(|s| s.pointer("/uuid/value"))
                    .and_then(Value::as_str)
                    == Some(uuid)
        });
        match pos {
            Some(i) => {
                // Every status the agent sends here is terminal (OPERATION_FINISHED).
                self.operations.remove(i);
                self.counters
                    .count("master/valid_operation_status_update_acknowledgements");
            }
            None => self
                .counters
                .count("master/invalid_operation_status_update_acknowledgements"),
        }
    }

    /// RECONCILE_OPERATIONS: each operation named (all of the framework's when none is)
    /// with its latest status, without its uuid; an unknown one as Mesos answers it.
    pub fn reconcile_operations(&mut self, framework_id: &str, asked: &[Value]) {
        let mut out = Vec::new();
        if asked.is_empty() {
            for o in self
                .operations
                .iter()
                .filter(|o| o.framework_id == framework_id)
            {
                out.push(without_uuid(o.statuses.last()));
            }
        }
        for a in asked {
            let id = a
                .pointer("/operation_id/value")
                .and_then(Value::as_str)
                .unwrap_or("");
            let agent = a.pointer("/agent_id/value").and_then(Value::as_str);
            let known = self
                .operations
                .iter()
                .find(|o| o.framework_id == framework_id && o.operation_id == id);
            if let Some(o) = known {
                out.push(without_uuid(o.statuses.last()));
                continue;
            }
            let (state, message) = match agent {
                Some(a) if self.agent(a).is_some() => {
                    ("OPERATION_UNKNOWN", "Reconciliation: Operation is unknown")
                }
                Some(a) if self.unreachable_agents.iter().any(|l| l.agent.id == a) => (
                    "OPERATION_UNREACHABLE",
                    "Reconciliation: Agent is unreachable",
                ),
                Some(a) if self.gone_agents.iter().any(|l| l.agent.id == a) => (
                    "OPERATION_GONE_BY_OPERATOR",
                    "Reconciliation: Agent marked gone by operator",
                ),
                Some(_) => (
                    "OPERATION_UNKNOWN",
                    "Reconciliation: Both operation and agent are unknown",
                ),
                None => (
                    "OPERATION_UNKNOWN",
                    "Reconciliation: Operation is unknown and no 'agent_id' was provided",
                ),
            };
            let mut status =
                json!({"operation_id": {"value": id}, "state": state, "message": message});
            if let Some(a) = agent {
                status["agent_id"] = json!({ "value": a });
            }
            out.push(status);
        }
        if let Some(f) = self.framework(framework_id) {
            for status in out {
                f.send(&update_event(status));
            }
        }
    }

    /// GET_OPERATIONS: the operations the master keeps (on one agent, for an agent's).
    pub fn operations_view(&self, agent: Option<&str>) -> Value {
        let list: Vec<Value> = self
            .operations
            .iter()
            .filter(|o| agent.is_none_or(|a| a == o.agent_id))
            .map(|o| {
                json!({
                    "framework_id": {"value": o.framework_id},
                    "agent_id": {"value": o.agent_id},
                    "info": o.info,
                    "latest_status": o.statuses.last(),
                    "statuses": o.statuses,
                    "uuid": {"value": o.uuid},
                })
            })
            .collect();
        if list.is_empty() {
            json!({})
        } else {
            json!({ "operations": list })
        }
    }
}

fn without_uuid(status: Option<&Value>) -> Value {
    let mut s = status.cloned().unwrap_or(Value::Null);
    if let Some(o) = s.as_object_mut() {
        o.remove("uuid");
    }
    s
}
