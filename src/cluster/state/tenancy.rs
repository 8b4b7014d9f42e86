//! What the master knows of roles beyond its frameworks: their weights (Mesos's
//! `--weights`, UPDATE_WEIGHTS, `/weights`) and their quotas (`quota.rs`). As in
//! `src/master/weights_handler.cpp`: only roles given a weight are listed; every other
//! role weighs 1.

use super::super::resources::Resources;
use super::quota::Quota;
use super::{Effect, Master};
use crate::mesos::v1::roles;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Mesos's `DEFAULT_WEIGHT`.
pub const DEFAULT_WEIGHT: f64 = 1.0;

#[derive(Debug, Clone, Default)]
pub struct Tenancy {
    weights: BTreeMap<String, f64>,
    pub quotas: BTreeMap<String, Quota>,
}

impl Tenancy {
    pub fn weight(&self, role: &str) -> f64 {
        self.weights.get(role).copied().unwrap_or(DEFAULT_WEIGHT)
    }

    /// The roles given a weight, sorted.
    pub fn weights(&self) -> &BTreeMap<String, f64> {
        &self.weights
    }

    pub fn set_weights(&mut self, weights: Vec<(String, f64)>) {
        self.weights.extend(weights);
    }

    pub fn quota(&self, role: &str) -> Option<&Quota> {
        self.quotas.get(role)
    }
}

/// Mesos's `--weights`: `role=weight,role=weight` (its messages; a bad one stops Mesos's
/// master, here the cluster does not start).
pub fn parse_weights(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for token in text.split(',').filter(|t| !t.is_empty()) {
        let pair: Vec<&str> = token.split('=').filter(|p| !p.is_empty()).collect();
        let [role, weight] = pair.as_slice() else {
            return Err(format!(
                "Invalid weight: '{token}'. --weights should be of the form \
                 'role=weight,role=weight'"
            ));
        };
        roles::validate(role).map_err(|e| format!("Invalid role '{role}': {e}"))?;
        let weight: f64 = weight
            .trim()
            .parse()
            .map_err(|_| format!("Invalid weight: '{token}'"))?;
        if weight <= 0.0 || !weight.is_finite() {
            return Err(format!(
                "Invalid weight: '{token}': Weights must be positive"
            ));
        }
        out.push((role.to_string(), weight));
    }
    Ok(out)
}

/// A list of WeightInfo (`{"role": ..., "weight": ...}`), checked as
/// `WeightsHandler::_updateWeights` checks it; the error is the 400's body.
pub fn read_weight_infos(list: &Value) -> Result<Vec<(String, f64)>, String> {
    let items = list.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut out = Vec::new();
    for info in items {
        let role = info
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string();
        if let Err(e) = roles::validate(&role) {
            return Err(format!(
                "Failed to validate update weights request JSON: Invalid role '{role}': {e}"
            ));
        }
        let weight = info.get("weight").and_then(Value::as_f64).unwrap_or(0.0);
        if weight <= 0.0 {
            return Err(format!(
                "Failed to validate update weights request JSON for role '{role}': Invalid \
                 weight '{}': Weights must be positive",
                stout_double(weight)
            ));
        }
        out.push((role, weight));
    }
    Ok(out)
}

/// A double as stout's `stringify` writes it (`2`, `0.5`, `-1`).
pub fn stout_double(v: f64) -> String {
    format!("{v}")
}

/// GET_WEIGHTS's `weight_infos` and `/weights`'s array.
pub fn weight_infos(t: &Tenancy) -> Vec<Value> {
    t.weights
        .iter()
        .map(|(role, w)| json!({"role": role, "weight": w}))
        .collect()
}

impl Master {
    /// UPDATE_WEIGHTS (already checked): the weights change; when a role with frameworks
    /// changed, every outstanding offer is rescinded so the new shares can take effect.
    pub fn update_weights(&mut self, weights: Vec<(String, f64)>, fx: &mut Vec<Effect>) {
        let active = weights.iter().any(|(role, _)| {
            self.frameworks
                .iter()
                .any(|f| f.roles().iter().any(|r| r == role))
        });
        self.tenancy.set_weights(weights);
        if active {
            let ids: Vec<String> = self.offers.iter().map(|o| o.id.clone()).collect();
            for offer_id in ids {
                self.rescind(&offer_id);
            }
        }
        self.allocate(fx);
    }

    /// What the agents have reserved to each role (innermost reservation), for the views.
    pub fn reserved_by_role(&self) -> BTreeMap<String, Resources> {
        let mut out: BTreeMap<String, Resources> = BTreeMap::new();
        for a in self.agents.iter().filter(|a| a.active) {
            for role in a.total.reservation_roles() {
                let entry = out.entry(role.to_string()).or_default();
                *entry = entry.plus(&a.total.reserved(Some(role)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_flag_and_updates_are_checked_as_mesos_checks_them() {
        assert_eq!(
            parse_weights("ops=2,eng/dev=0.5"),
            Ok(vec![("ops".into(), 2.0), ("eng/dev".into(), 0.5)])
        );
        assert!(parse_weights("ops").is_err_and(|e| e.contains("--weights should be")));
        assert!(parse_weights("ops=0").is_err());
        assert_eq!(
            read_weight_infos(&json!([{"role": "ops", "weight": -1}])),
            Err(
                "Failed to validate update weights request JSON for role 'ops': Invalid \
                 weight '-1': Weights must be positive"
                    .into()
            )
        );
        assert!(read_weight_infos(&json!([{"role": "/x", "weight": 1}]))
            .is_err_and(|e| e.contains("Invalid role '/x'")));
        assert_eq!(
            read_weight_infos(&json!([{"role": " ops ", "weight": 3}])),
            Ok(vec![("ops".into(), 3.0)])
        );
    }
}
