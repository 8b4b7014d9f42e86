//! Roles' quotas: a guarantee (what the allocator gives the role first) and a limit (what it
//! never offers the role past), each a set of scalar quantities (`cpus`, `mem` ...), as
//! Mesos 1.9 and later keep them (`QuotaConfig`).

use std::collections::BTreeMap;

/// Scalar quantities by resource name (Mesos's `ResourceQuantities`).
pub type Quantities = BTreeMap<String, f64>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quota {
    pub guarantees: Quantities,
    pub limits: Quantities,
}

use super::super::resources::Resources;
use super::{Effect, Master};
use crate::mesos::v1::roles::ancestors;
use serde_json::Value;

/// The allocator's two stages: first toward roles' guarantees, then the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Guarantees,
    Rest,
}

impl Master {
    /// The stages an allocation runs: the first only when some role has a guarantee.
    pub(super) fn quota_stages(&self) -> Vec<Stage> {
        let guaranteed = self
            .tenancy
            .quotas
            .values()
            .any(|q| !q.guarantees.is_empty());
        if guaranteed {
            vec![Stage::Guarantees, Stage::Rest]
        } else {
            vec![Stage::Rest]
        }
    }

    /// What a role's quota is charged in an allocation run: the unreserved resources it
    /// and the roles below it hold (tasks and offers, this run's included) and everything
    /// reserved to them, allocated or not (Mesos's consumed quota, plus offers).
    fn charged(&self, role: &str, held: &BTreeMap<String, Resources>) -> Resources {
        let unreserved = held
            .iter()
            .filter(|(r, _)| in_subtree(r, role))
            .fold(Resources::default(), |acc, (_, r)| {
                acc.plus(&r.unreserved())
            });
        let reserved = self
            .agents
            .iter()
            .filter(|a| a.active)
            .fold(Resources::default(), |acc, a| {
                acc.plus(&a.total.reserved_to_subtree(role))
            });
        unreserved.plus(&reserved)
    }

    /// What of `chunk` (allocatable to `role`) the role may have in `stage` (Mesos 1.11's
    /// two stages in `__allocate`): reservations always; unreserved resources within the
    /// limits of the role and its ancestors; in the first stage only for a role with a
    /// guarantee, up to it; in the second, only what other roles' unmet guarantees leave.
    pub(super) fn within_quota(
        &self,
        role: &str,
        chunk: Resources,
        held: &BTreeMap<String, Resources>,
        stage: Stage,
    ) -> Resources {
        let own = self.tenancy.quota(role);
        let guaranteed = own.is_some_and(|q| !q.guarantees.is_empty());
        if stage == Stage::Guarantees && !guaranteed {
            return Resources::default();
        }
        if self.tenancy.quotas.is_empty() {
            return chunk;
        }
        let reserved = chunk.filter(|r| !r.is_unreserved());
        let mut caps: BTreeMap<String, f64> = BTreeMap::new();
        let mut cap = |name: &str, v: f64| {
            let e = caps.entry(name.to_string()).or_insert(f64::INFINITY);
            *e = e.min(v.max(0.0));
        };
        let mut limited = vec![role.to_string()];
        limited.extend(ancestors(role).map(str::to_string));
        for r in &limited {
            if let Some(q) = self.tenancy.quota(r) {
                let charged = self.charged(r, held);
                for (name, limit) in &q.limits {
                    cap(name, limit - charged.scalar(name));
                }
            }
        }
        match stage {
            Stage::Guarantees => {
                let charged = self.charged(role, held);
                if let Some(q) = own {
                    for (name, g) in &q.guarantees {
                        cap(name, g - charged.scalar(name));
                    }
                }
                // Nothing toward the guarantee is needed: only the reservations.
                let wants = own.is_some_and(|q| {
                    q.guarantees
                        .iter()
                        .any(|(name, g)| charged.scalar(name) < *g)
                });
                if !wants {
                    return reserved;
                }
            }
            Stage::Rest => {
                for (name, surplus) in self.surplus_headroom(role, held) {
                    cap(&name, surplus);
                }
            }
        }
        reserved.plus(&shrink(&chunk.unreserved(), &caps))
    }

    /// Unreserved resources not allocated anywhere, less what the other roles still need
    /// for their guarantees, by name (only the names guarantees name).
    fn surplus_headroom(
        &self,
        role: &str,
        held: &BTreeMap<String, Resources>,
    ) -> BTreeMap<String, f64> {
        let mut required: BTreeMap<String, f64> = BTreeMap::new();
        for (r, q) in &self.tenancy.quotas {
            if in_subtree(role, r) {
                continue;
            }
            let charged = self.charged(r, held);
            for (name, g) in &q.guarantees {
                *required.entry(name.clone()).or_default() += (g - charged.scalar(name)).max(0.0);
            }
        }
        let held_unreserved = held
            .values()
            .fold(Resources::default(), |acc, r| acc.plus(&r.unreserved()));
        let available = self.total_resources().unreserved().minus(&held_unreserved);
        required
            .into_iter()
            .map(|(name, need)| {
                let surplus = available.scalar(&name) - need;
                (name, surplus)
            })
            .collect()
    }
}

/// `role` itself or a role below it.
fn in_subtree(role: &str, of: &str) -> bool {
    role == of || crate::mesos::v1::roles::is_strict_subrole_of(role, of)
}

/// Scalars cut down to their caps (a name without a cap is kept whole; one capped to
/// nothing goes).
fn shrink(r: &Resources, caps: &BTreeMap<String, f64>) -> Resources {
    let mut out = crate::mesos::v1::Resources::new();
    for res in r.iter() {
        let mut res = res.clone();
        if let (Some(cap), Some(s)) = (caps.get(&res.name), res.scalar.as_mut()) {
            if s.value > *cap {
                *s = crate::mesos::v1::values::Scalar::new(*cap);
            }
        }
        out.add_resource(res);
    }
    Resources::from_vocabulary(out)
}

impl Master {
    /// What a role's quota counts as consumed (`RoleResourceBreakdown::consumedQuota`):
    /// what is allocated to it or below it (tasks, executors; not offers), and what is
    /// reserved to it or below it and not allocated.
    pub fn consumed_quota(&self, role: &str) -> Resources {
        let subtree = |r: &str| r == role || crate::mesos::v1::roles::is_strict_subrole_of(r, role);
        let mut allocated = Resources::default();
        for f in &self.frameworks {
            let mut executors = std::collections::HashSet::new();
            for t in f
                .tasks
                .iter()
                .filter(|t| !t.is_terminal() && subtree(&t.role))
            {
                allocated = allocated.plus(&t.resources);
                if t.executor.is_some() && executors.insert((&t.executor_id, &t.container_id)) {
                    allocated = allocated.plus(&t.executor_resources);
                }
            }
        }
        let mut unallocated_reserved = Resources::default();
        for a in self.agents.iter().filter(|a| a.active) {
            let reserved = a.total.reserved_to_subtree(role);
            let used = a.used.reserved_to_subtree(role);
            unallocated_reserved = unallocated_reserved.plus(&reserved.minus(&used));
        }
        allocated.plus(&unallocated_reserved)
    }
}

/// ResourceQuantities as Mesos writes them in messages: `cpus:1; mem:64`, `{}` when empty.
pub fn quantities_text(q: &Quantities) -> String {
    if q.is_empty() {
        return "{}".into();
    }
    q.iter()
        .map(|(k, v)| format!("{k}:{}", crate::mesos::v1::values::Scalar::new(*v)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A map of `Value.Scalar` by name (`{"cpus": {"value": 1}}`).
fn scalar_map(v: Option<&Value>) -> Result<Quantities, String> {
    let mut out = Quantities::new();
    for (name, s) in v.and_then(Value::as_object).into_iter().flatten() {
        let value = s
            .get("value")
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("Missing required fields: {name}.value"))?;
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// A scalar is too large for Mesos's fixed point (`validateTooLarge`).
fn too_large(m: &Quantities) -> Option<String> {
    const EXABYTE_IN_MB: f64 = 1_099_511_627_776.0;
    const OTHER: f64 = 1_000_000_000_000.0;
    for (name, v) in m {
        let (limit, what) = if name == "mem" || name == "disk" {
            (EXABYTE_IN_MB, "1 exabyte (1099511627776)")
        } else {
            (OTHER, "1 trillion (1000000000000)")
        };
        if *v > limit {
            return Some(format!(
                "{{'{name}': {}}} is invalid: values greater than {what} are not supported",
                crate::mesos::v1::values::Scalar::new(*v)
            ));
        }
    }
    None
}

/// A QuotaConfig, checked as `quota::validate(QuotaConfig)` checks it.
pub fn read_config(v: &Value) -> Result<(String, Quota), String> {
    let role = v
        .get("role")
        .and_then(Value::as_str)
        .ok_or("'QuotaConfig.role' must be set")?
        .to_string();
    crate::mesos::v1::roles::validate(&role)
        .map_err(|e| format!("Invalid 'QuotaConfig.role': {e}"))?;
    let guarantees = scalar_map(v.get("guarantees"))?;
    let limits = scalar_map(v.get("limits"))?;
    if let Some(e) = too_large(&guarantees) {
        return Err(format!("Invalid 'QuotaConfig.guarantees': {e}"));
    }
    if let Some(e) = too_large(&limits) {
        return Err(format!("Invalid 'QuotaConfig.limits': {e}"));
    }
    for (kind, m) in [("guarantee", &guarantees), ("limit", &limits)] {
        for (name, v) in m {
            if *v < 0.0 {
                return Err(format!(
                    "Invalid {kind} configuration {{'{name}': {}}}: Negative values not supported",
                    crate::mesos::v1::values::Scalar::new(*v)
                ));
            }
        }
    }
    if !limits_contain(&limits, &guarantees) {
        return Err(format!(
            "'QuotaConfig.guarantees' {} is not contained within the 'QuotaConfig.limits' {}",
            quantities_text(&guarantees),
            quantities_text(&limits)
        ));
    }
    Ok((role, Quota { guarantees, limits }))
}

/// ResourceLimits' `contains`: every limited name within its limit (others unlimited).
pub fn limits_contain(limits: &Quantities, q: &Quantities) -> bool {
    limits
        .iter()
        .all(|(name, limit)| q.get(name).copied().unwrap_or(0.0) <= *limit + 1e-9)
}

/// A role's scalars as quantities.
pub fn quantities_of(r: &Resources) -> Quantities {
    r.iter()
        .filter(|x| x.scalar.is_some())
        .map(|x| (x.name.clone(), r.scalar(&x.name)))
        .collect()
}

fn contains(big: &Quantities, small: &Quantities) -> bool {
    small
        .iter()
        .all(|(name, v)| big.get(name).copied().unwrap_or(0.0) + 1e-9 >= *v)
}

impl Master {
    /// UPDATE_QUOTA (each config already read): the checks on the state (limits below
    /// what a role consumes, guarantees past the cluster's capacity, each bypassed by
    /// `force`), then the quotas, then offers rescinded as `QuotaHandler::_update` does.
    pub fn update_quota(
        &mut self,
        configs: Vec<(String, Quota)>,
        force: bool,
        fx: &mut Vec<Effect>,
    ) -> Result<(), String> {
        for (role, q) in &configs {
            if role.contains('/') {
                return Err(format!(
                    "Updating quota on nested role '{role}' is not supported yet"
                ));
            }
            let consumed = quantities_of(&self.consumed_quota(role));
            if !limits_contain(&q.limits, &consumed) && !force {
                return Err(format!(
                    "Invalid QuotaConfig: Role '{role}' is already consuming '{}'; this is more \
                     than the requested limits '{}' (use 'force' flag to bypass this check)",
                    quantities_text(&consumed),
                    quantities_text(&q.limits)
                ));
            }
        }
        let mut after = self.tenancy.quotas.clone();
        for (role, q) in &configs {
            after.insert(role.clone(), q.clone());
        }
        let mut guarantees = Quantities::new();
        for q in after.values() {
            for (name, v) in &q.guarantees {
                *guarantees.entry(name.clone()).or_default() += v;
            }
        }
        let capacity = quantities_of(&self.total_resources().filter(|r| !r.is_revocable()));
        if !contains(&capacity, &guarantees) && !force {
            return Err(format!(
                "Invalid QuotaConfig: total quota guarantees '{}' exceed cluster capacity '{}' \
                 (use 'force' flag to bypass this check)",
                quantities_text(&guarantees),
                quantities_text(&capacity)
            ));
        }
        for (role, q) in &configs {
            self.tenancy.quotas.insert(role.clone(), q.clone());
        }
        for (role, q) in &configs {
            self.rescind_for_quota(role, q);
        }
        self.allocate(fx);
        Ok(())
    }

    /// Offers of the role (and below) go until it is within its limits; then other
    /// roles' offers until its guarantees can be met.
    fn rescind_for_quota(&mut self, role: &str, q: &Quota) {
        let mine = |o: &super::Offer| in_subtree(&o.role, role);
        let offered: Resources = self
            .offers
            .iter()
            .filter(|o| mine(o))
            .fold(Resources::default(), |acc, o| acc.plus(&o.resources));
        let mut charged = quantities_of(&self.consumed_quota(role).plus(&offered));
        let ids: Vec<(String, Resources)> = self
            .offers
            .iter()
            .filter(|o| mine(o))
            .map(|o| (o.id.clone(), o.resources.clone()))
            .collect();
        for (id, res) in ids {
            if limits_contain(&q.limits, &charged) {
                break;
            }
            for (name, v) in quantities_of(&res) {
                if let Some(c) = charged.get_mut(&name) {
                    *c -= v;
                }
            }
            self.rescind(&id);
        }
        let ids: Vec<(String, Resources)> = self
            .offers
            .iter()
            .filter(|o| !mine(o))
            .map(|o| (o.id.clone(), o.resources.clone()))
            .collect();
        for (id, res) in ids {
            if contains(&charged, &q.guarantees) {
                break;
            }
            for (name, v) in quantities_of(&res) {
                *charged.entry(name).or_default() += v;
            }
            self.rescind(&id);
        }
    }

    /// SET_QUOTA and `POST /quota` (Mesos's older API): a guarantee that is also the
    /// limit, for a role that has none yet; `409` when it overcommits the cluster.
    pub fn set_quota(
        &mut self,
        role: &str,
        guarantee: Quantities,
        force: bool,
        fx: &mut Vec<Effect>,
    ) -> Result<(), super::CallError> {
        use super::CallError;
        if self.tenancy.quotas.contains_key(role) {
            return Err(CallError::new(
                400,
                format!(
                    "Failed to validate set quota request: Cannot set quota for role '{role}' \
                     which already has quota"
                ),
            ));
        }
        if role.contains('/') {
            return Err(CallError::new(
                400,
                format!("Setting quota on nested role '{role}' is not supported yet"),
            ));
        }
        if !force {
            let mut total = guarantee.clone();
            for q in self.tenancy.quotas.values() {
                for (name, v) in &q.guarantees {
                    *total.entry(name.clone()).or_default() += v;
                }
            }
            let capacity = quantities_of(&self.total_resources().filter(|r| !r.is_revocable()));
            if !contains(&capacity, &total) {
                return Err(CallError::new(
                    409,
                    format!(
                        "Quota guarantees overcommit the cluster (use 'force' to bypass this \
                         check): Total quota guarantees '{}' exceed cluster capacity '{}'",
                        quantities_text(&total),
                        quantities_text(&capacity)
                    ),
                ));
            }
        }
        let q = Quota {
            guarantees: guarantee.clone(),
            limits: guarantee,
        };
        self.tenancy.quotas.insert(role.to_string(), q.clone());
        self.rescind_for_quota(role, &q);
        self.allocate(fx);
        Ok(())
    }

    /// REMOVE_QUOTA and `DELETE /quota/<role>`.
    pub fn remove_quota(&mut self, role: &str, fx: &mut Vec<Effect>) -> bool {
        let removed = self.tenancy.quotas.remove(role).is_some();
        if removed {
            self.allocate(fx);
        }
        removed
    }

    /// QuotaStatus: each quota as the old `QuotaInfo` (its guarantees as Resources) and as
    /// a `QuotaConfig`.
    pub fn quota_status(&self) -> Value {
        let scalars = |m: &Quantities| {
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), serde_json::json!({ "value": v })))
                    .collect(),
            )
        };
        let infos: Vec<Value> = self
            .tenancy
            .quotas
            .iter()
            .map(|(role, q)| {
                let mut info = serde_json::json!({ "role": role });
                if !q.guarantees.is_empty() {
                    info["guarantee"] = Value::Array(
                        q.guarantees
                            .iter()
                            .map(|(k, v)| {
                                serde_json::json!({"name": k, "type": "SCALAR", "scalar": {"value": v}})
                            })
                            .collect(),
                    );
                }
                info
            })
            .collect();
        let configs: Vec<Value> = self
            .tenancy
            .quotas
            .iter()
            .map(|(role, q)| {
                let mut c = serde_json::json!({ "role": role });
                if !q.guarantees.is_empty() {
                    c["guarantees"] = scalars(&q.guarantees);
                }
                if !q.limits.is_empty() {
                    c["limits"] = scalars(&q.limits);
                }
                c
            })
            .collect();
        let mut status = serde_json::Map::new();
        if !infos.is_empty() {
            status.insert("infos".into(), Value::Array(infos));
            status.insert("configs".into(), Value::Array(configs));
        }
        Value::Object(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quota_configs_are_checked_as_mesos_checks_them() {
        let ok = read_config(&json!({"role": "ops",
            "guarantees": {"cpus": {"value": 1}}, "limits": {"cpus": {"value": 2}, "mem": {"value": 512}}}));
        assert!(ok.is_ok_and(|(r, q)| r == "ops" && q.limits["mem"] == 512.0));
        assert_eq!(
            read_config(&json!({"guarantees": {}})).err().as_deref(),
            Some("'QuotaConfig.role' must be set")
        );
        assert_eq!(
            read_config(&json!({"role": "ops", "guarantees": {"cpus": {"value": 3}},
                                "limits": {"cpus": {"value": 2}}}))
            .err()
            .as_deref(),
            Some("'QuotaConfig.guarantees' cpus:3 is not contained within the 'QuotaConfig.limits' cpus:2")
        );
        assert!(
            read_config(&json!({"role": "ops", "limits": {"cpus": {"value": -1}}}))
                .is_err_and(|e| e.ends_with("Negative values not supported"))
        );
        assert!(read_config(&json!({"role": "a//b"}))
            .is_err_and(|e| e.starts_with("Invalid 'QuotaConfig.role': ")));
        assert!(limits_contain(
            &Quantities::from([("cpus".into(), 1.0)]),
            &Quantities::from([("cpus".into(), 1.0), ("mem".into(), 9e9)])
        ));
        assert_eq!(
            quantities_text(&Quantities::from([
                ("cpus".into(), 0.5),
                ("mem".into(), 64.0)
            ])),
            "cpus:0.5; mem:64"
        );
    }
}
