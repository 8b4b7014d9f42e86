//! The resources chart: used and free cpus, mem and disk per agent as Vega-Lite v5 stacked
//! bars, one column per resource, with a small text table of the same numbers as fallback.
//! What is free but reserved to a role shows as its own part of the bar ("reserved: ops").

use serde_json::{json, Value};

use super::bundle::Bundle;
use super::mesos_tables::{agent_summary, agents_of, AgentSummary};
use super::resources::format_number;
use super::table::{Cell, Table};

pub const VEGALITE_MIME: &str = "application/vnd.vegalite.v5+json";
pub const VEGALITE_SCHEMA: &str = "https://vega.github.io/schema/vega-lite/v5.json";
/// At most this many agents are charted; the title gives the full count.
pub const MAX_CHART_AGENTS: usize = 50;

const RESOURCES: [(&str, &str); 3] = [("cpus", "cpus"), ("mem", "mem MB"), ("disk", "disk MB")];

/// A chart from a GET_AGENTS or GET_STATE response, or a legacy `/master/state`.
pub fn resources_chart(value: &Value) -> Result<Bundle, String> {
    let agents = agents_of(value).ok_or_else(|| {
        "no agents here: expected a GET_AGENTS or GET_STATE response or /master/state".to_string()
    })?;
    if agents.is_empty() {
        return Err("the cluster has no agents to chart".to_string());
    }
    let shown: Vec<AgentSummary> = agents
        .iter()
        .take(MAX_CHART_AGENTS)
        .map(agent_summary)
        .collect();
    let labels = labels(&shown);

    let mut values = Vec::with_capacity(shown.len() * 6);
    let mut text = Table::new(
        "resources per agent",
        &[
            "agent",
            "cpus used",
            "cpus free",
            "mem MB used",
            "mem MB free",
            "disk MB used",
            "disk MB free",
        ],
    );
    let mut reserved_states: Vec<String> = Vec::new();
    for ((agent, label), raw) in shown.iter().zip(&labels).zip(agents.iter()) {
        let mut row = vec![Cell::new(label.clone())];
        let reserved = reserved_free(raw);
        for (name, title) in RESOURCES {
            let used = agent.used.scalar(name).unwrap_or(0.0);
            let total = agent.total.scalar(name).unwrap_or(0.0);
            let free = (total - used).max(0.0);
            let mut parts: Vec<(String, f64)> = vec![("used".into(), used)];
            let mut unreserved_free = free;
            for (role, by_name) in &reserved {
                let amount = by_name
                    .get(name)
                    .copied()
                    .unwrap_or(0.0)
                    .min(unreserved_free);
                if amount > 0.0 {
                    let state = format!("reserved: {role}");
                    if !reserved_states.contains(&state) {
                        reserved_states.push(state.clone());
                    }
                    parts.push((state, amount));
                    unreserved_free -= amount;
                }
            }
            parts.push(("free".into(), unreserved_free));
            for (order, (state, amount)) in parts.into_iter().enumerate() {
                values.push(json!({
                    "agent": label, "resource": title, "state": state,
                    "order": order, "value": amount, "total": total,
                }));
            }
            row.push(Cell::new(format_number(used)));
            row.push(Cell::new(format_number(free)));
        }
        text.push(row);
    }
    text.total = agents.len();

    let mut title = json!({ "text": "Resources per agent: used and free" });
    if agents.len() > shown.len() {
        title["subtitle"] = json!(format!(
            "showing {} of {} agents",
            shown.len(),
            agents.len()
        ));
    }
    // Used red, free green, each role's reserved part a color of its own.
    const ROLE_COLORS: [&str; 6] = [
        "#4c78a8", "#f58518", "#b279a2", "#9d755d", "#72b7b2", "#eeca3b",
    ];
    let mut domain: Vec<String> = vec!["used".into()];
    let mut range: Vec<&str> = vec!["#e45756"];
    for (i, state) in reserved_states.iter().enumerate() {
        domain.push(state.clone());
        range.push(ROLE_COLORS[i % ROLE_COLORS.len()]);
    }
    domain.push("free".into());
    range.push("#54a24b");
    let spec = json!({
        "$schema": VEGALITE_SCHEMA,
        "title": title,
        "data": { "values": values },
        "facet": {
            "column": {
                "field": "resource", "type": "nominal", "title": null,
                "sort": RESOURCES.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
            }
        },
        "spec": {
            "width": 180,
            "height": { "step": 18 },
            "mark": { "type": "bar" },
            "encoding": {
                "y": { "field": "agent", "type": "nominal", "title": "agent" },
                "x": { "field": "value", "type": "quantitative", "stack": "zero", "title": null },
                "color": {
                    "field": "state", "type": "nominal", "title": null,
                    "scale": { "domain": domain, "range": range }
                },
                "order": { "field": "order", "type": "quantitative" },
                "tooltip": [
                    { "field": "agent", "type": "nominal" },
                    { "field": "resource", "type": "nominal" },
                    { "field": "state", "type": "nominal" },
                    { "field": "value", "type": "quantitative" },
                    { "field": "total", "type": "quantitative" }
                ]
            }
        },
        "resolve": { "scale": { "x": "independent" } }
    });
    Ok(Bundle::new()
        .with(VEGALITE_MIME, spec)
        .with("text/plain", text.to_text()))
}

/// What of a v1 agent's resources is reserved to each role (innermost) and not allocated,
/// by resource name. Legacy agents carry no reservations here: none.
fn reserved_free(agent: &Value) -> Vec<(String, std::collections::BTreeMap<String, f64>)> {
    use std::collections::BTreeMap;
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut add = |list: Option<&Value>, sign: f64| {
        for r in list.and_then(Value::as_array).into_iter().flatten() {
            let role = r
                .get("reservations")
                .and_then(Value::as_array)
                .and_then(|l| l.last())
                .and_then(|x| x["role"].as_str());
            let (Some(role), Some(v)) = (role, r.pointer("/scalar/value").and_then(Value::as_f64))
            else {
                continue;
            };
            let name = r["name"].as_str().unwrap_or("").to_string();
            *out.entry(role.to_string())
                .or_default()
                .entry(name)
                .or_default() += sign * v;
        }
    };
    add(agent.get("total_resources"), 1.0);
    add(agent.get("allocated_resources"), -1.0);
    out.into_iter().collect()
}

/// Hostnames, or "hostname (S1)" where several agents share one (the embedded cluster's
/// agents all run on localhost), or the id where the hostname is missing.
fn labels(agents: &[AgentSummary]) -> Vec<String> {
    agents
        .iter()
        .map(|a| {
            let shared = agents
                .iter()
                .filter(|b| b.hostname == a.hostname)
                .nth(1)
                .is_some();
            if a.hostname.is_empty() {
                a.id.clone()
            } else if shared {
                let short = a.id.rsplit('-').next().unwrap_or(&a.id);
                format!("{} ({short})", a.hostname)
            } else {
                a.hostname.clone()
            }
        })
        .collect()
}
