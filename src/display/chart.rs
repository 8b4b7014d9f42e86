//! The resources chart: used and free cpus, mem and disk per agent as Vega-Lite v5 stacked
//! bars, one column per resource, with a small text table of the same numbers as fallback.

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
    for (agent, label) in shown.iter().zip(&labels) {
        let mut row = vec![Cell::new(label.clone())];
        for (name, title) in RESOURCES {
            let used = agent.used.scalar(name).unwrap_or(0.0);
            let total = agent.total.scalar(name).unwrap_or(0.0);
            let free = (total - used).max(0.0);
            for (state, order, amount) in [("used", 0, used), ("free", 1, free)] {
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
                    "scale": { "domain": ["used", "free"], "range": ["#e45756", "#54a24b"] }
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
