//! What a table needs of a big answer, parsed from its JSON without building the rest.
//!
//! A table shows at most [`MAX_ROWS`] rows of a list and counts the others by a few of
//! their fields (a task's `state` and `framework_id`, an agent's `active`, a framework's
//! `connected`). So the projection keeps the first `MAX_ROWS` elements of every array
//! whole and, of the elements after them, everything but the arrays inside them: a task's
//! `statuses` and `resources`, which are most of a GET_STATE's bytes, are skipped without
//! being built. Rendering the projection gives the same tables as rendering the whole
//! value (the tests below check it); what is not a table is rendered from the whole value.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

use super::table::MAX_ROWS;

/// The projection of `json`, or serde_json's error when it is not JSON (the same as
/// parsing it whole would give).
pub fn for_tables(json: &[u8]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = Keep { whole: true }.deserialize(&mut de)?;
    de.end()?;
    Ok(value.unwrap_or(Value::Null))
}

/// A value in whole mode (arrays keep their first `MAX_ROWS` elements whole) or in summary
/// mode (an element after those: arrays dropped, `None`, so its parent leaves the key out).
#[derive(Clone, Copy)]
struct Keep {
    whole: bool,
}

impl<'de> DeserializeSeed<'de> for Keep {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Keep {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Value::Number(v.into())))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Number::from_f64(v).map_or(Value::Null, Value::Number)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Some(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.whole {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(None);
        }
        let mut items = Vec::new();
        loop {
            let seed = Keep {
                whole: items.len() < MAX_ROWS,
            };
            match seq.next_element_seed(seed)? {
                Some(Some(v)) => items.push(v),
                // An element is never dropped: only arrays are, inside a summary element.
                Some(None) => items.push(Value::Null),
                None => break,
            }
        }
        Ok(Some(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(v) = map.next_value_seed(self)? {
                out.insert(key, v);
            }
        }
        Ok(Some(Value::Object(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::display::{render, Format};
    use serde_json::json;

    fn task(i: usize, framework: &str, state: &str) -> Value {
        json!({
            "name": format!("task {i}"),
            "task_id": {"value": format!("t{i}")},
            "framework_id": {"value": framework},
            "agent_id": {"value": format!("a{}", i % 7)},
            "state": state,
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1 * (i % 5) as f64}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}}
            ],
            "statuses": [{"task_id": {"value": format!("t{i}")}, "state": state,
                          "timestamp": 1_700_000_000.0 + i as f64, "message": "m"}],
            "container": {"type": "DOCKER", "docker": {"image": "x:1", "network": "HOST"}}
        })
    }

    fn agent(i: usize) -> Value {
        json!({
            "agent_info": {"hostname": format!("h{i}"), "id": {"value": format!("a{i}")},
                           "port": 5051,
                           "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}}]},
            "active": i % 3 != 0,
            "version": "1.11.0",
            "total_resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 4.0}}],
            "allocated_resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0}}]
        })
    }

    fn big_state() -> Value {
        let states = [
            "TASK_RUNNING",
            "TASK_FINISHED",
            "TASK_KILLED",
            "TASK_STAGING",
        ];
        let tasks: Vec<Value> = (0..180)
            .map(|i| task(i, &format!("f{}", i % 3), states[i % 4]))
            .collect();
        let completed: Vec<Value> = (180..260).map(|i| task(i, "f1", "TASK_FINISHED")).collect();
        let frameworks: Vec<Value> = (0..70)
            .map(|i| json!({"framework_info": {"id": {"value": format!("f{i}")}, "name": format!("fw{i}"),
                             "user": "u", "roles": ["*"]},
                            "active": true, "connected": i % 2 == 0,
                            "allocated_resources": [{"name": "mem", "type": "SCALAR", "scalar": {"value": 64.0}}]}))
            .collect();
        json!({"type": "GET_STATE", "get_state": {
            "get_tasks": {"tasks": tasks, "completed_tasks": completed},
            "get_executors": {"executors": []},
            "get_frameworks": {"frameworks": frameworks, "completed_frameworks": []},
            "get_agents": {"agents": (0..120).map(agent).collect::<Vec<_>>(), "recovered_agents": []}
        }})
    }

    fn same_tables(value: &Value, hint: Option<&str>) {
        let text = serde_json::to_vec(value).unwrap();
        let projected = for_tables(&text).unwrap();
        for format in [Format::Auto, Format::Table] {
            assert_eq!(
                render(value, hint, format),
                render(&projected, hint, format),
                "{hint:?} {format:?}"
            );
        }
    }

    #[test]
    fn a_big_state_renders_the_same_tables_from_its_projection() {
        let state = big_state();
        same_tables(&state, Some("GET_STATE"));
        same_tables(&state, None);
        let get_tasks = json!({"type": "GET_TASKS", "get_tasks": state["get_state"]["get_tasks"]});
        same_tables(&get_tasks, Some("GET_TASKS"));
        let get_agents =
            json!({"type": "GET_AGENTS", "get_agents": state["get_state"]["get_agents"]});
        same_tables(&get_agents, Some("GET_AGENTS"));
        let legacy = json!({"version": "1.11.0", "hostname": "m", "leader": "master@1",
            "slaves": state["get_state"]["get_agents"]["agents"],
            "frameworks": [{"id": "f0", "name": "fw", "active": true, "connected": true,
                            "tasks": state["get_state"]["get_tasks"]["tasks"],
                            "completed_tasks": state["get_state"]["get_tasks"]["completed_tasks"]}]});
        same_tables(&legacy, Some("/master/state"));
    }

    #[test]
    fn every_recorded_answer_renders_the_same_tables_from_its_projection() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real-mesos");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("skipped: {} is absent", dir.display());
            return;
        };
        let mut seen = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let Ok(value) = serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()) else {
                continue;
            };
            same_tables(&value, None);
            seen += 1;
        }
        assert!(seen > 0, "no fixture in {}", dir.display());
    }

    #[test]
    fn beyond_the_shown_rows_elements_keep_all_but_their_arrays() {
        let list: Vec<Value> = (0..MAX_ROWS + 2)
            .map(|i| json!({"i": i, "id": {"value": "x"}, "list": [1, 2]}))
            .collect();
        let projected = for_tables(&serde_json::to_vec(&list).unwrap()).unwrap();
        let items = projected.as_array().unwrap();
        assert_eq!(items.len(), MAX_ROWS + 2);
        assert_eq!(items[MAX_ROWS - 1], list[MAX_ROWS - 1]);
        assert_eq!(
            items[MAX_ROWS],
            json!({"i": MAX_ROWS, "id": {"value": "x"}})
        );
    }

    #[test]
    fn what_is_not_json_is_the_parsers_error() {
        assert!(for_tables(b"{\"a\": [1, 2").is_err());
        assert!(for_tables(b"[1] x").is_err());
        assert_eq!(for_tables(b" 3 ").unwrap(), json!(3));
    }
}
