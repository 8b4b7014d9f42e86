//! A framework's roles as the allocator sees them: the roles it subscribed with, which of
//! them are suppressed (SUBSCRIBE's `suppressed_roles`, SUPPRESS and REVIVE with or
//! without `roles`), and its offer constraints (SUBSCRIBE's `offer_constraints`, read as
//! `src/master/allocator/mesos/offer_constraints_filter.cpp` reads them: per role, an agent
//! is offered when any group's attribute constraints all hold).

use super::super::flags::Domain;
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;

/// The roles of a FrameworkInfo: `roles` for a MULTI_ROLE framework, else `role` (`*` by
/// default), as `protobuf::framework::getRoles` reads them.
pub fn roles_of(info: &Value) -> Vec<String> {
    let multi_role = info
        .get("capabilities")
        .and_then(Value::as_array)
        .is_some_and(|caps| {
            caps.iter()
                .any(|c| c.get("type").and_then(Value::as_str) == Some("MULTI_ROLE"))
        });
    if multi_role {
        let mut roles: Vec<String> = info
            .get("roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        roles.dedup();
        return roles;
    }
    vec![info
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("*")
        .to_string()]
}

/// What an attribute constraint selects: a named attribute or a pseudoattribute.
#[derive(Debug, Clone)]
enum Selector {
    Attribute(String),
    Hostname,
    Region,
    Zone,
}

#[derive(Debug, Clone)]
enum Predicate {
    Exists,
    NotExists,
    TextEquals(String),
    TextNotEquals(String),
    TextMatches(Regex),
    TextNotMatches(Regex),
}

impl Predicate {
    /// Mesos's three cases: no such (pseudo)attribute, a pseudoattribute's value, and a
    /// named attribute (the embedded agents' attributes are all TEXT).
    fn holds(&self, value: Option<&str>) -> bool {
        match (self, value) {
            (Predicate::Exists, v) => v.is_some(),
            (Predicate::NotExists, v) => v.is_none(),
            (Predicate::TextEquals(_), None) => false,
            (Predicate::TextEquals(x), Some(v)) => v == x,
            (Predicate::TextNotEquals(_), None) => true,
            (Predicate::TextNotEquals(x), Some(v)) => v != x,
            (Predicate::TextMatches(_), None) => false,
            (Predicate::TextMatches(re), Some(v)) => re.is_match(v),
            (Predicate::TextNotMatches(_), None) => true,
            (Predicate::TextNotMatches(re), Some(v)) => !re.is_match(v),
        }
    }
}

#[derive(Debug, Clone)]
struct Constraint {
    selector: Selector,
    predicate: Predicate,
}

/// A framework's offer constraints: per role, groups of constraints (any group, all of
/// its constraints).
#[derive(Debug, Clone, Default)]
pub struct OfferConstraints {
    roles: BTreeMap<String, Vec<Vec<Constraint>>>,
}

impl OfferConstraints {
    /// Reads `subscribe.offer_constraints`; the error is Mesos's message (the framework is
    /// refused with it, as an ERROR event).
    pub fn parse(value: Option<&Value>) -> Result<OfferConstraints, String> {
        let mut out = OfferConstraints::default();
        let Some(roles) = value
            .and_then(|v| v.get("role_constraints"))
            .and_then(Value::as_object)
        else {
            return Ok(out);
        };
        for (role, constraints) in roles {
            let groups = constraints
                .get("groups")
                .and_then(Value::as_array)
                .filter(|g| !g.is_empty())
                .ok_or_else(|| {
                    format!(
                        "'OfferConstraints::role_constraints' has an empty \
                         'RoleConstraints::groups' for role {role}"
                    )
                })?;
            let mut parsed = Vec::new();
            for group in groups {
                let list = group
                    .get("attribute_constraints")
                    .and_then(Value::as_array)
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| {
                        format!(
                            "'OfferConstraints::RoleConstraints::groups' for role {role}\
                             contains an empty RoleConstraints::Group"
                        )
                    })?;
                let constraints = list
                    .iter()
                    .map(|c| {
                        constraint(c).map_err(|e| {
                            format!("A role {role} has an invalid 'AttributeConstraint': {e}")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                parsed.push(constraints);
            }
            out.roles.insert(role.clone(), parsed);
        }
        Ok(out)
    }

    /// Whether an agent is kept from the role's offers (`isAgentExcluded`).
    pub fn excludes(
        &self,
        role: &str,
        hostname: &str,
        attributes: &[(String, String)],
        domain: Option<&Domain>,
    ) -> bool {
        let Some(groups) = self.roles.get(role) else {
            return false;
        };
        !groups.iter().any(|group| {
            group.iter().all(|c| {
                let value = match &c.selector {
                    Selector::Attribute(name) => attributes
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str()),
                    Selector::Hostname => Some(hostname),
                    Selector::Region => domain.map(|d| d.region.as_str()),
                    Selector::Zone => domain.map(|d| d.zone.as_str()),
                };
                c.predicate.holds(value)
            })
        })
    }
}

fn constraint(c: &Value) -> Result<Constraint, String> {
    let selector = c.get("selector").unwrap_or(&Value::Null);
    let selector = match (
        selector.get("attribute_name").and_then(Value::as_str),
        selector.get("pseudoattribute_type").and_then(Value::as_str),
    ) {
        (Some(name), None) => Selector::Attribute(name.to_string()),
        (None, Some("HOSTNAME")) => Selector::Hostname,
        (None, Some("REGION")) => Selector::Region,
        (None, Some("ZONE")) => Selector::Zone,
        (None, Some(_)) => return Err("Unknown pseudoattribute type".into()),
        _ => {
            return Err("Exactly one of 'AttributeConstraint::Selector::name' or \
                 'AttributeConstraint::Selector::pseudoattribute_type' must be set"
                .into())
        }
    };
    let p = c.get("predicate").unwrap_or(&Value::Null);
    let text = |k: &str, field: &str| {
        p.get(k)
            .and_then(|v| v.get(field))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let predicate = if p.get("exists").is_some() {
        Predicate::Exists
    } else if p.get("not_exists").is_some() {
        Predicate::NotExists
    } else if let Some(v) = text("text_equals", "value") {
        Predicate::TextEquals(v)
    } else if let Some(v) = text("text_not_equals", "value") {
        Predicate::TextNotEquals(v)
    } else if let Some(r) = text("text_matches", "regex") {
        Predicate::TextMatches(full_match(&r)?)
    } else if let Some(r) = text("text_not_matches", "regex") {
        Predicate::TextNotMatches(full_match(&r)?)
    } else {
        return Err("Unknown predicate type".into());
    };
    Ok(Constraint {
        selector,
        predicate,
    })
}

/// RE2's `FullMatch`: the whole value must match.
fn full_match(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| format!("Failed to construct regex from pattern '{pattern}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs() -> Vec<(String, String)> {
        vec![
            ("rack".into(), "r2d2".into()),
            ("pod".into(), "demo,dev".into()),
        ]
    }

    #[test]
    fn groups_are_alternatives_of_constraints_that_all_hold() {
        let c = OfferConstraints::parse(Some(&json!({"role_constraints": {"web": {"groups": [
            {"attribute_constraints": [
                {"selector": {"attribute_name": "rack"}, "predicate": {"text_equals": {"value": "r1"}}}]},
            {"attribute_constraints": [
                {"selector": {"attribute_name": "rack"}, "predicate": {"text_matches": {"regex": "r2.*"}}},
                {"selector": {"attribute_name": "gpu"}, "predicate": {"not_exists": {}}}]}
        ]}}})))
        .unwrap_or_default();
        assert!(!c.excludes("web", "h", &attrs(), None));
        assert!(
            !c.excludes("other", "h", &attrs(), None),
            "no constraints for the role"
        );
        let c = OfferConstraints::parse(Some(&json!({"role_constraints": {"web": {"groups": [
            {"attribute_constraints": [
                {"selector": {"pseudoattribute_type": "HOSTNAME"}, "predicate": {"text_equals": {"value": "other"}}}]},
            {"attribute_constraints": [
                {"selector": {"pseudoattribute_type": "ZONE"}, "predicate": {"exists": {}}}]}
        ]}}})))
        .unwrap_or_default();
        assert!(c.excludes("web", "h", &attrs(), None));
        let zoned = Domain {
            region: "r".into(),
            zone: "z".into(),
        };
        assert!(!c.excludes("web", "h", &attrs(), Some(&zoned)));
        // A regex must match the whole value, as RE2's FullMatch.
        let c = OfferConstraints::parse(Some(&json!({"role_constraints": {"web": {"groups": [
            {"attribute_constraints": [
                {"selector": {"attribute_name": "rack"}, "predicate": {"text_matches": {"regex": "r2"}}}]}
        ]}}})))
        .unwrap_or_default();
        assert!(c.excludes("web", "h", &attrs(), None));
    }

    #[test]
    fn invalid_constraints_give_mesos_messages() {
        let err = |v: Value| OfferConstraints::parse(Some(&v)).err().unwrap_or_default();
        assert_eq!(
            err(json!({"role_constraints": {"web": {"groups": []}}})),
            "'OfferConstraints::role_constraints' has an empty 'RoleConstraints::groups' for role web"
        );
        assert!(err(json!({"role_constraints": {"web": {"groups": [{"attribute_constraints": [
            {"selector": {"attribute_name": "a"}, "predicate": {"text_matches": {"regex": "("}}}]}]}}}))
        .starts_with("A role web has an invalid 'AttributeConstraint': Failed to construct regex from pattern '('"));
        assert_eq!(
            err(
                json!({"role_constraints": {"web": {"groups": [{"attribute_constraints": [
                {"selector": {}, "predicate": {"exists": {}}}]}]}}})
            ),
            "A role web has an invalid 'AttributeConstraint': Exactly one of \
             'AttributeConstraint::Selector::name' or \
             'AttributeConstraint::Selector::pseudoattribute_type' must be set"
        );
        assert_eq!(roles_of(&json!({"role": "web"})), ["web"]);
        assert_eq!(roles_of(&json!({})), ["*"]);
        assert_eq!(
            roles_of(&json!({"roles": ["a", "b"], "capabilities": [{"type": "MULTI_ROLE"}]})),
            ["a", "b"]
        );
    }
}
