//! Tables of multi-tenancy answers: weights (GET_WEIGHTS, `/weights`), quota (GET_QUOTA,
//! `/quota`), operations (GET_OPERATIONS), and what agents have reserved to which role,
//! persistent volumes included (beside GET_AGENTS' agents table).

use super::table::{Cell, Table};
use serde_json::Value;

fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => String::new(),
    }
}

/// `{"cpus": {"value": 1}, "mem": {"value": 64}}` as `cpus 1, mem 64`.
fn scalars(m: Option<&Value>) -> String {
    m.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k} {}", num(v.get("value").unwrap_or(v))))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Weights: `get_weights.weight_infos` or `/weights`' array.
pub fn weights(items: &[Value]) -> Table {
    Table::from_items("weights", &["role", "weight"], items, |w| {
        vec![
            Cell::new(w["role"].as_str().unwrap_or("")),
            Cell::new(num(&w["weight"])),
        ]
    })
}

/// Quota: a QuotaStatus's `configs` (guarantees and limits by role).
pub fn quota(status: &Value) -> Table {
    let configs = status
        .get("configs")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    Table::from_items("quota", &["role", "guarantees", "limits"], configs, |c| {
        vec![
            Cell::new(c["role"].as_str().unwrap_or("")),
            Cell::new(scalars(c.get("guarantees"))),
            Cell::new(scalars(c.get("limits"))),
        ]
    })
}

/// GET_OPERATIONS: each operation's id, type, latest state, agent and framework.
pub fn operations(items: &[Value]) -> Table {
    Table::from_items(
        "operations",
        &["id", "type", "state", "agent", "framework"],
        items,
        |o| {
            let state = o["latest_status"]["state"].as_str().unwrap_or("");
            vec![
                Cell::new(o["info"]["id"]["value"].as_str().unwrap_or("")),
                Cell::new(o["info"]["type"].as_str().unwrap_or("")),
                Cell::state(state),
                Cell::new(o["agent_id"]["value"].as_str().unwrap_or("")),
                Cell::new(o["framework_id"]["value"].as_str().unwrap_or("")),
            ]
        },
    )
}

/// What each agent has reserved, resource by resource: role (innermost), its stack,
/// principal, the volume when it is one. `None` when nothing is reserved.
pub fn reservations(agents: &[Value]) -> Option<Table> {
    let mut t = Table::new(
        "reservations",
        &[
            "agent",
            "role",
            "resource",
            "amount",
            "type",
            "principal",
            "volume",
        ],
    );
    for a in agents {
        let agent = a
            .pointer("/agent_info/id/value")
            .and_then(Value::as_str)
            .unwrap_or("");
        for r in a
            .get("total_resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(stack) = r.get("reservations").and_then(Value::as_array) else {
                continue;
            };
            let Some(last) = stack.last() else { continue };
            let amount = r
                .pointer("/scalar/value")
                .map(num)
                .or_else(|| r.get("ranges").map(|x| x.to_string()))
                .unwrap_or_default();
            let volume = r
                .pointer("/disk/persistence/id")
                .and_then(Value::as_str)
                .map(|id| {
                    let path = r
                        .pointer("/disk/volume/container_path")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    format!("{id} ({path})")
                })
                .unwrap_or_default();
            let kinds: Vec<&str> = stack.iter().filter_map(|x| x["type"].as_str()).collect();
            t.push(vec![
                Cell::new(agent),
                Cell::new(last["role"].as_str().unwrap_or("")),
                Cell::new(r["name"].as_str().unwrap_or("")),
                Cell::new(amount),
                Cell::new(kinds.join(" > ")),
                Cell::new(last["principal"].as_str().unwrap_or("")),
                Cell::new(volume),
            ]);
        }
    }
    (t.total > 0).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tenancy_tables() {
        let t = quota(
            &json!({"configs": [{"role": "ops", "guarantees": {"cpus": {"value": 1}},
            "limits": {"cpus": {"value": 2.5}, "mem": {"value": 512}}}]}),
        );
        assert_eq!(t.rows[0][1].text, "cpus 1");
        assert_eq!(t.rows[0][2].text, "cpus 2.5, mem 512");
        let w = weights(&[json!({"role": "ops", "weight": 2.0})]);
        assert_eq!(w.rows[0][1].text, "2");
        let agents = [
            json!({"agent_info": {"id": {"value": "S0"}}, "total_resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}},
            {"name": "disk", "type": "SCALAR", "scalar": {"value": 64},
             "reservations": [{"type": "DYNAMIC", "role": "ops", "principal": "p"}],
             "disk": {"persistence": {"id": "data"}, "volume": {"mode": "RW", "container_path": "d"}}}]}),
        ];
        let r = reservations(&agents).unwrap_or_else(|| Table::new("none", &[]));
        assert_eq!(r.total, 1);
        assert_eq!(r.rows[0][6].text, "data (d)");
        assert_eq!(r.rows[0][4].text, "DYNAMIC");
        assert!(reservations(&[json!({"total_resources": []})]).is_none());
    }
}
