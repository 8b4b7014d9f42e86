//! Live ids for completion: agents, frameworks, tasks and offers seen in results and in
//! the framework session, so Tab after `task_id=` or `agent ` offers real ones.

use serde_json::Value;
use std::collections::BTreeSet;

const MAX_PER_KIND: usize = 2000;

#[derive(Debug, Default, Clone)]
pub struct LiveIds {
    pub agents: BTreeSet<String>,
    pub frameworks: BTreeSet<String>,
    pub tasks: BTreeSet<String>,
    pub offers: BTreeSet<String>,
}

fn add(set: &mut BTreeSet<String>, v: Option<&str>) {
    if let Some(s) = v {
        if set.len() < MAX_PER_KIND && !s.is_empty() {
            set.insert(s.to_string());
        }
    }
}

use crate::mesos::v1::ids::id_text as id_value;

impl LiveIds {
    /// Takes the ids a result carries, in the v1 and legacy shapes (bounded walk).
    pub fn absorb(&mut self, value: &Value) {
        self.walk(value, 0);
    }

    fn walk(&mut self, value: &Value, depth: usize) {
        if depth > 8 {
            return;
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match k.as_str() {
                        "agent_id" | "slave_id" => add(&mut self.agents, id_value(v)),
                        "framework_id" => add(&mut self.frameworks, id_value(v)),
                        "task_id" => add(&mut self.tasks, id_value(v)),
                        "offer_id" => add(&mut self.offers, id_value(v)),
                        "slaves" | "agents" | "recovered_agents" => {
                            for item in v.as_array().into_iter().flatten() {
                                add(&mut self.agents, item.get("id").and_then(id_value));
                                add(
                                    &mut self.agents,
                                    item.pointer("/agent_info/id").and_then(id_value),
                                );
                            }
                        }
                        "frameworks" | "completed_frameworks" => {
                            for item in v.as_array().into_iter().flatten() {
                                add(&mut self.frameworks, item.get("id").and_then(id_value));
                                add(
                                    &mut self.frameworks,
                                    item.pointer("/framework_info/id").and_then(id_value),
                                );
                            }
                        }
                        "tasks" | "completed_tasks" => {
                            for item in v.as_array().into_iter().flatten() {
                                if item.get("id").is_some_and(Value::is_string) {
                                    add(&mut self.tasks, item.get("id").and_then(id_value));
                                }
                            }
                        }
                        "offers" => {
                            for item in v.as_array().into_iter().flatten() {
                                add(&mut self.offers, item.get("id").and_then(id_value));
                            }
                        }
                        _ => {}
                    }
                    if v.is_object() || v.is_array() {
                        self.walk(v, depth + 1);
                    }
                }
            }
            Value::Array(items) => {
                for item in items.iter().take(MAX_PER_KIND) {
                    self.walk(item, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// The ids that fit after `key=`.
    pub fn for_key(&self, key: &str) -> Option<&BTreeSet<String>> {
        match key {
            "task_id" | "task" => Some(&self.tasks),
            "agent_id" => Some(&self.agents),
            "framework_id" => Some(&self.frameworks),
            "offer_id" | "offer_ids" => Some(&self.offers),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_from_v1_and_legacy_shapes() {
        let mut ids = LiveIds::default();
        ids.absorb(&json!({"slaves": [{"id": "M-S0"}], "frameworks": [{"id": "M-0000", "tasks": [{"id": "web", "slave_id": "M-S0"}]}]}));
        ids.absorb(&json!({"type": "GET_AGENTS", "get_agents": {"agents": [{"agent_info": {"id": {"value": "M-S1"}}}]}}));
        ids.absorb(&json!([{"task_id": {"value": "t2"}, "agent_id": {"value": "M-S1"}}]));
        assert!(ids.agents.contains("M-S0") && ids.agents.contains("M-S1"));
        assert!(ids.frameworks.contains("M-0000"));
        assert!(ids.tasks.contains("web") && ids.tasks.contains("t2"));
    }
}
