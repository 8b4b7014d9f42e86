//! The renderers on realistic Mesos shapes (v1 operator responses, legacy endpoints, the
//! kernel's helper results), on odd input, and at size.

use serde_json::{json, Value};

use super::chart::{VEGALITE_MIME, VEGALITE_SCHEMA};
use super::mesos_tables::{normalize_hint, tables};
use super::table::{Table, Tone, MAX_ROWS};
use super::{render, resources_chart, Bundle, Format};

const MASTER: &str = "7eb34f10-b07c-4921-aece-bbaece09dfd1";

fn scalar(name: &str, value: f64) -> Value {
    json!({"name": name, "type": "SCALAR", "scalar": {"value": value}, "role": "*"})
}

fn ports(begin: i64, end: i64) -> Value {
    json!({"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": begin, "end": end}]}, "role": "*"})
}

fn v1_agent(i: usize, used_cpus: f64, used_mem: f64) -> Value {
    json!({
        "agent_info": {
            "hostname": format!("agent{i}.example.com"),
            "id": {"value": format!("{MASTER}-S{i}")},
            "port": 5051,
            "resources": [scalar("cpus", 2.0), scalar("mem", 496.0), scalar("disk", 4930.0), ports(9000, 10000)],
            "attributes": [
                {"name": "rack", "type": "TEXT", "text": {"value": "r2d2"}},
                {"name": "pod", "type": "TEXT", "text": {"value": "demo,dev"}}
            ]
        },
        "active": true,
        "pid": format!("slave(1)@10.0.0.{i}:5051"),
        "registered_time": {"nanoseconds": 1764081618000000000i64},
        "total_resources": [scalar("cpus", 2.0), scalar("mem", 496.0), scalar("disk", 4930.0), ports(9000, 10000)],
        "allocated_resources": [scalar("cpus", used_cpus), scalar("mem", used_mem)],
        "offered_resources": []
    })
}

fn v1_task(i: usize, state: &str) -> Value {
    json!({
        "name": format!("web-{i}"),
        "task_id": {"value": format!("web-{i}")},
        "framework_id": {"value": format!("{MASTER}-0000")},
        "agent_id": {"value": format!("{MASTER}-S0")},
        "resources": [scalar("cpus", 0.2), scalar("mem", 100.0)],
        "state": state,
        "statuses": [
            {"task_id": {"value": format!("web-{i}")}, "state": "TASK_STARTING", "timestamp": 1764081600.1},
            {"task_id": {"value": format!("web-{i}")}, "state": state, "timestamp": 1764081618.5}
        ]
    })
}

fn v1_framework() -> Value {
    json!({
        "framework_info": {
            "user": "ubuntu", "name": "Demo Mesos HTTP API Framework",
            "id": {"value": format!("{MASTER}-0000")}, "roles": ["*"],
            "failover_timeout": 0.0, "checkpoint": false
        },
        "active": true, "connected": true, "recovered": false,
        "registered_time": {"nanoseconds": 1764081600000000000i64},
        "allocated_resources": [scalar("cpus", 0.4), scalar("mem", 200.0)],
        "offered_resources": []
    })
}

fn get_agents() -> Value {
    json!({"type": "GET_AGENTS", "get_agents": {"agents": [v1_agent(0, 0.4, 200.0), v1_agent(1, 0.0, 0.0)], "recovered_agents": []}})
}

fn get_state(agents: usize, tasks: usize) -> Value {
    json!({"type": "GET_STATE", "get_state": {
        "get_tasks": {
            "tasks": (0..tasks).map(|i| v1_task(i, "TASK_RUNNING")).collect::<Vec<_>>(),
            "completed_tasks": [v1_task(9999, "TASK_FAILED")]
        },
        "get_executors": {"executors": []},
        "get_frameworks": {"frameworks": [v1_framework()], "completed_frameworks": []},
        "get_agents": {"agents": (0..agents).map(|i| v1_agent(i, 0.2, 100.0)).collect::<Vec<_>>()}
    }})
}

fn legacy_slave() -> Value {
    json!({
        "id": format!("{MASTER}-S0"), "pid": "slave(1)@10.0.0.2:5051",
        "hostname": "agent0.example.com", "registered_time": 1764081002.0,
        "resources": {"cpus": 2.0, "mem": 496.0, "disk": 4930.0, "ports": "[9000-10000]"},
        "used_resources": {"cpus": 0.3, "mem": 132.0, "disk": 0.0},
        "offered_resources": {"cpus": 0.0, "mem": 0.0, "disk": 0.0},
        "attributes": {"rack": "r2d2", "pod": "demo,dev"},
        "active": true, "version": "1.11.0"
    })
}

fn legacy_framework() -> Value {
    let running = json!({
        "id": "web", "name": "web", "framework_id": format!("{MASTER}-0000"),
        "executor_id": "", "slave_id": format!("{MASTER}-S0"), "state": "TASK_RUNNING",
        "resources": {"cpus": 0.2, "mem": 100.0, "disk": 0.0},
        "statuses": [{"state": "TASK_RUNNING", "timestamp": 1764081618.5}]
    });
    let killed = json!({
        "id": "nginx-1", "name": "nginx", "framework_id": format!("{MASTER}-0000"),
        "slave_id": format!("{MASTER}-S0"), "state": "TASK_KILLED",
        "resources": {"cpus": 0.2, "mem": 100.0}, "statuses": []
    });
    json!({
        "id": format!("{MASTER}-0000"), "name": "Demo Mesos HTTP API Framework",
        "user": "ubuntu", "hostname": "laptop", "active": true, "connected": true,
        "role": "*", "failover_timeout": 0.0, "checkpoint": false,
        "registered_time": 1764081100.0,
        "used_resources": {"cpus": 0.3, "mem": 132.0, "disk": 0.0},
        "offered_resources": {}, "resources": {"cpus": 0.3, "mem": 132.0},
        "tasks": [running], "completed_tasks": [killed], "offers": [], "executors": []
    })
}

fn legacy_master_state() -> Value {
    json!({
        "version": "1.11.0", "git_sha": "abc", "build_date": "2020-11-24 10:00:00",
        "build_time": 1606212000.0, "build_user": "root", "start_time": 1764081000.1,
        "elected_time": 1764081001.2, "id": MASTER, "pid": "master@10.0.0.1:5050",
        "hostname": "master.example.com", "activated_slaves": 1.0, "deactivated_slaves": 0.0,
        "unreachable_slaves": 0.0, "leader": "master@10.0.0.1:5050", "log_dir": "/var/log/mesos",
        "flags": {"port": "5050"},
        "slaves": [legacy_slave()],
        "frameworks": [legacy_framework()],
        "completed_frameworks": [], "orphan_tasks": [], "unregistered_frameworks": []
    })
}

fn legacy_agent_state() -> Value {
    json!({
        "version": "1.11.0", "id": format!("{MASTER}-S0"), "pid": "slave(1)@10.0.0.2:5051",
        "hostname": "agent0.example.com", "master_hostname": "master.example.com",
        "resources": {"cpus": 2.0, "mem": 496.0, "disk": 4930.0, "ports": "[9000-10000]"},
        "attributes": {"rack": "r2d2"}, "flags": {},
        "frameworks": [{
            "id": format!("{MASTER}-0000"), "name": "Demo", "user": "ubuntu", "role": "*",
            "executors": [{
                "id": "web", "name": "Command Executor (Task: web) (Command: sh -c 'sleep 1')",
                "source": "web", "container": "c0ffee",
                "directory": "/tmp/mesos/slaves/S0/frameworks/F0/executors/web/runs/c0ffee",
                "resources": {"cpus": 0.3, "mem": 132.0},
                "tasks": [{"id": "web"}], "queued_tasks": [], "completed_tasks": []
            }],
            "completed_executors": []
        }],
        "completed_frameworks": []
    })
}

fn v1_offer(i: usize) -> Value {
    json!({
        "id": {"value": format!("{MASTER}-O{i}")},
        "framework_id": {"value": format!("{MASTER}-0000")},
        "agent_id": {"value": format!("{MASTER}-S{i}")},
        "hostname": format!("agent{i}.example.com"),
        "url": {"scheme": "http", "address": {"hostname": "agent0", "ip": "10.0.0.2", "port": 5051}, "path": "/slave(1)"},
        "resources": [scalar("cpus", 2.0), scalar("mem", 496.0), scalar("disk", 4930.0), ports(9000, 10000)],
        "attributes": [{"name": "rack", "type": "TEXT", "text": {"value": "r2d2"}}]
    })
}

fn only(tables: Option<Vec<Table>>) -> Table {
    let mut t = tables.unwrap_or_default();
    assert_eq!(t.len(), 1, "expected one table");
    t.remove(0)
}

/// The text of the cell in `row` under `column`.
fn cell<'a>(t: &'a Table, row: usize, column: &str) -> &'a str {
    let i = t
        .columns
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("no column {column} in {:?}", t.columns));
    &t.rows[row][i].text
}

fn html(b: &Bundle) -> &str {
    b.data
        .get("text/html")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn is_table_bundle(b: &Bundle) -> bool {
    b.data.contains_key("text/html")
        && b.data.contains_key("text/plain")
        && !b.data.contains_key("application/json")
}

#[test]
fn v1_agents_table() {
    let t = only(tables(&get_agents(), None));
    assert_eq!(
        t.columns,
        [
            "id",
            "hostname",
            "active",
            "cpus used/total",
            "mem MB used/total",
            "disk MB used/total",
            "ports",
            "attributes"
        ]
    );
    assert_eq!(t.total, 2);
    assert_eq!(cell(&t, 0, "id"), format!("{MASTER}-S0"));
    assert_eq!(cell(&t, 0, "hostname"), "agent0.example.com");
    assert_eq!(cell(&t, 0, "active"), "yes");
    assert_eq!(cell(&t, 0, "cpus used/total"), "0.4 / 2");
    assert_eq!(cell(&t, 0, "mem MB used/total"), "200 / 496");
    assert_eq!(cell(&t, 0, "disk MB used/total"), "0 / 4930");
    assert_eq!(cell(&t, 0, "ports"), "[9000-10000]");
    assert_eq!(cell(&t, 0, "attributes"), "rack:r2d2;pod:demo,dev");
    let b = render(&get_agents(), Some("GET_AGENTS"), Format::Auto);
    assert!(is_table_bundle(&b));
    assert!(html(&b).contains("agents: 2 rows"));
    assert!(b.plain().unwrap_or("").contains("agent1.example.com"));
}

#[test]
fn legacy_agents_table() {
    let v = json!({"slaves": legacy_master_state()["slaves"].clone(), "recovered_slaves": []});
    let t = only(tables(&v, Some("/master/slaves")));
    assert_eq!(cell(&t, 0, "cpus used/total"), "0.3 / 2");
    assert_eq!(cell(&t, 0, "mem MB used/total"), "132 / 496");
    assert_eq!(cell(&t, 0, "ports"), "[9000-10000]");
    assert_eq!(cell(&t, 0, "attributes"), "rack:r2d2;pod:demo,dev");
}

#[test]
fn frameworks_tables() {
    let v = json!({"type": "GET_FRAMEWORKS", "get_frameworks": {"frameworks": [v1_framework()]}});
    let t = only(tables(&v, None));
    assert_eq!(
        t.columns,
        [
            "id",
            "name",
            "user",
            "role",
            "active",
            "connected",
            "tasks",
            "cpus",
            "mem MB",
            "disk MB"
        ]
    );
    assert_eq!(cell(&t, 0, "name"), "Demo Mesos HTTP API Framework");
    assert_eq!(cell(&t, 0, "user"), "ubuntu");
    assert_eq!(cell(&t, 0, "role"), "*");
    assert_eq!(cell(&t, 0, "connected"), "yes");
    assert_eq!(cell(&t, 0, "cpus"), "0.4");

    let legacy = json!({"frameworks": legacy_master_state()["frameworks"].clone(),
                        "completed_frameworks": [], "unregistered_frameworks": []});
    let t = only(tables(&legacy, Some("/master/frameworks")));
    assert_eq!(cell(&t, 0, "tasks"), "1");
    assert_eq!(cell(&t, 0, "mem MB"), "132");
}

#[test]
fn tasks_tables() {
    let v = json!({"type": "GET_TASKS", "get_tasks": {
        "tasks": [v1_task(1, "TASK_RUNNING")], "completed_tasks": [v1_task(2, "TASK_FAILED")]}});
    let t = only(tables(&v, None));
    assert_eq!(
        t.columns,
        [
            "id",
            "name",
            "framework",
            "agent",
            "state",
            "cpus",
            "mem MB",
            "last status"
        ]
    );
    assert_eq!(t.total, 2);
    assert_eq!(cell(&t, 0, "id"), "web-1");
    assert_eq!(cell(&t, 0, "framework"), format!("{MASTER}-0000"));
    assert_eq!(cell(&t, 0, "agent"), format!("{MASTER}-S0"));
    assert_eq!(cell(&t, 0, "cpus"), "0.2");
    assert_eq!(cell(&t, 0, "mem MB"), "100");
    assert_eq!(cell(&t, 0, "last status"), "2025-11-25 14:40:18 UTC");
    assert_eq!(t.rows[0][4].tone, Tone::Good);
    assert_eq!(t.rows[1][4].tone, Tone::Bad);
    let b = render(&v, None, Format::Auto);
    assert!(html(&b)
        .contains("class=\"mk-good\" style=\"color:#2e7d32;font-weight:bold\">TASK_RUNNING</td>"));
    assert!(html(&b)
        .contains("class=\"mk-bad\" style=\"color:#c62828;font-weight:bold\">TASK_FAILED</td>"));

    let legacy = json!({"tasks": legacy_master_state()["frameworks"][0]["tasks"].clone()});
    let t = only(tables(&legacy, Some("/master/tasks")));
    assert_eq!(cell(&t, 0, "id"), "web");
    assert_eq!(cell(&t, 0, "agent"), format!("{MASTER}-S0"));
    assert_eq!(cell(&t, 0, "state"), "TASK_RUNNING");
}

#[test]
fn tasks_helper_statuses() {
    let v = json!([
        {"task_id": {"value": "web"}, "state": "TASK_RUNNING", "agent_id": {"value": "S0"},
         "message": "", "timestamp": 1764081618.5, "name": "web"},
        {"task_id": {"value": "nginx-1"}, "state": "TASK_FAILED", "agent_id": {"value": "S1"},
         "message": "Command exited with status 1", "timestamp": 1764081619.0}
    ]);
    let t = only(tables(&v, Some("TASKS")));
    assert_eq!(
        t.columns,
        ["id", "name", "agent", "state", "message", "updated"]
    );
    assert_eq!(cell(&t, 1, "id"), "nginx-1");
    assert_eq!(cell(&t, 1, "message"), "Command exited with status 1");
    assert_eq!(t.rows[1][3].tone, Tone::Bad);
    // The same array is recognised without a hint.
    assert_eq!(only(tables(&v, None)).columns, t.columns);
    // A health check has spoken: a healthy column, blank where a task has none.
    let v = json!([
        {"task_id": {"value": "web"}, "state": "TASK_RUNNING", "healthy": false,
         "reason": "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", "timestamp": 1764081618.5},
        {"task_id": {"value": "db"}, "state": "TASK_RUNNING", "timestamp": 1764081619.0}
    ]);
    let t = only(tables(&v, Some("TASKS")));
    assert_eq!(
        t.columns,
        ["id", "name", "agent", "state", "healthy", "message", "updated"]
    );
    assert_eq!(cell(&t, 0, "healthy"), "no");
    assert_eq!(cell(&t, 1, "healthy"), "");
}

#[test]
fn offers_tables() {
    let v = json!([v1_offer(0), v1_offer(1)]);
    let t = only(tables(&v, Some("OFFERS")));
    assert_eq!(
        t.columns,
        [
            "id",
            "agent",
            "hostname",
            "cpus",
            "mem MB",
            "disk MB",
            "ports",
            "attributes"
        ]
    );
    assert_eq!(cell(&t, 1, "id"), format!("{MASTER}-O1"));
    assert_eq!(cell(&t, 1, "agent"), format!("{MASTER}-S1"));
    assert_eq!(cell(&t, 0, "cpus"), "2");
    assert_eq!(cell(&t, 0, "mem MB"), "496");
    assert_eq!(cell(&t, 0, "disk MB"), "4930");
    assert_eq!(cell(&t, 0, "ports"), "[9000-10000]");
    assert_eq!(cell(&t, 0, "attributes"), "rack:r2d2");
    // The scheduler's OFFERS event names itself.
    let event = json!({"type": "OFFERS", "offers": {"offers": [v1_offer(0)]}});
    assert_eq!(only(tables(&event, None)).total, 1);
}

#[test]
fn executors_tables() {
    let v = json!({"type": "GET_EXECUTORS", "get_executors": {"executors": [{
        "agent_id": {"value": "S0"},
        "executor_info": {"executor_id": {"value": "ex-1"}, "framework_id": {"value": "F0"},
                          "name": "my executor", "resources": [scalar("cpus", 0.1)]}
    }]}});
    let t = only(tables(&v, None));
    assert_eq!(
        t.columns,
        [
            "id",
            "name",
            "framework",
            "agent",
            "tasks",
            "cpus",
            "mem MB",
            "directory"
        ]
    );
    assert_eq!(cell(&t, 0, "id"), "ex-1");
    assert_eq!(cell(&t, 0, "framework"), "F0");
    assert_eq!(cell(&t, 0, "agent"), "S0");
    assert_eq!(cell(&t, 0, "cpus"), "0.1");
}

#[test]
fn agent_state_has_summary_frameworks_and_executors() {
    let ts = tables(&legacy_agent_state(), Some("http://10.0.0.2:5051/state")).unwrap_or_default();
    assert_eq!(ts.len(), 3);
    assert_eq!(ts[0].caption, "agent state");
    assert!(ts[0]
        .rows
        .iter()
        .any(|r| r[0].text == "ports" && r[1].text == "[9000-10000]"));
    assert_eq!(ts[2].caption, "executors");
    assert_eq!(cell(&ts[2], 0, "id"), "web");
    assert_eq!(cell(&ts[2], 0, "framework"), format!("{MASTER}-0000"));
    assert_eq!(cell(&ts[2], 0, "tasks"), "1");
    assert!(cell(&ts[2], 0, "directory").starts_with("/tmp/mesos/slaves"));
}

fn summary_value<'a>(t: &'a Table, name: &str) -> &'a str {
    t.rows
        .iter()
        .find(|r| r[0].text == name)
        .map(|r| r[1].text.as_str())
        .unwrap_or_else(|| panic!("no {name} in summary"))
}

#[test]
fn legacy_master_state_summary_and_tables() {
    for hint in [
        Some("/master/state"),
        Some("/state"),
        Some("/state.json"),
        None,
    ] {
        let ts = tables(&legacy_master_state(), hint).unwrap_or_default();
        let captions: Vec<&str> = ts.iter().map(|t| t.caption.as_str()).collect();
        assert_eq!(
            captions,
            ["cluster state", "agents", "frameworks", "tasks"],
            "{hint:?}"
        );
        assert_eq!(summary_value(&ts[0], "version"), "1.11.0");
        assert_eq!(summary_value(&ts[0], "leader"), "master@10.0.0.1:5050");
        assert_eq!(summary_value(&ts[0], "agents active"), "1");
        assert_eq!(summary_value(&ts[0], "frameworks"), "1 (1 connected)");
        assert_eq!(summary_value(&ts[0], "tasks TASK_RUNNING"), "1");
        assert_eq!(summary_value(&ts[0], "tasks TASK_KILLED"), "1");
        assert_eq!(ts[3].total, 2);
    }
}

#[test]
fn v1_state_summary_and_tables() {
    let ts = tables(&get_state(3, 4), Some("GET_STATE")).unwrap_or_default();
    let captions: Vec<&str> = ts.iter().map(|t| t.caption.as_str()).collect();
    assert_eq!(captions, ["cluster state", "agents", "frameworks", "tasks"]);
    assert_eq!(summary_value(&ts[0], "agents"), "3 (3 active)");
    assert_eq!(summary_value(&ts[0], "tasks TASK_RUNNING"), "4");
    assert_eq!(summary_value(&ts[0], "tasks TASK_FAILED"), "1");
    assert_eq!(cell(&ts[2], 0, "tasks"), "4");
    assert_eq!(ts[3].total, 5);
    // Running is listed before failed: lifecycle order.
    let names: Vec<&str> = ts[0].rows.iter().map(|r| r[0].text.as_str()).collect();
    let running = names.iter().position(|n| *n == "tasks TASK_RUNNING");
    let failed = names.iter().position(|n| *n == "tasks TASK_FAILED");
    assert!(running < failed);
}

#[test]
fn v1_agent_state_shows_executors() {
    let v = json!({"type": "GET_STATE", "get_state": {
        "get_tasks": {"launched_tasks": [v1_task(1, "TASK_RUNNING")],
                      "terminated_tasks": [v1_task(2, "TASK_FINISHED")]},
        "get_executors": {"executors": [{"executor_info": {
            "executor_id": {"value": "web-1"}, "framework_id": {"value": "F0"}, "name": "ex"}}]},
        "get_frameworks": {"frameworks": [v1_framework()]}
    }});
    let ts = tables(&v, None).unwrap_or_default();
    let captions: Vec<&str> = ts.iter().map(|t| t.caption.as_str()).collect();
    assert_eq!(
        captions,
        ["agent state", "executors", "frameworks", "tasks"]
    );
    assert!(ts[0].rows.iter().all(|r| r[0].text != "agents"));
    assert_eq!(summary_value(&ts[0], "tasks TASK_FINISHED"), "1");
    assert_eq!(cell(&ts[1], 0, "id"), "web-1");
    assert_eq!(cell(&ts[2], 0, "tasks"), "1");
    assert_eq!(ts[3].total, 2);
}

#[test]
fn a_hint_that_does_not_fit_falls_back_to_the_shape() {
    let t = tables(&legacy_master_state(), Some("GET_MASTER")).unwrap_or_default();
    assert_eq!(t.len(), 4);
}

#[test]
fn lists_picked_out_of_a_state_are_recognised() {
    let state = legacy_master_state();
    let cases = [
        (get_agents()["get_agents"]["agents"].clone(), "agents"),
        (state["slaves"].clone(), "agents"),
        (json!([v1_framework()]), "frameworks"),
        (state["frameworks"].clone(), "frameworks"),
        (json!([v1_task(1, "TASK_RUNNING")]), "tasks"),
        (state["frameworks"][0]["tasks"].clone(), "tasks"),
    ];
    for (v, caption) in cases {
        let t = only(tables(&v, None));
        assert_eq!(t.caption, caption, "{v}");
        assert!(t.total > 0);
    }
    // Task objects keep the task columns, statuses the status columns.
    assert_eq!(
        only(tables(&json!([v1_task(1, "TASK_RUNNING")]), None)).columns[2],
        "framework"
    );
}

#[test]
fn legacy_state_summary() {
    let v = json!({
        "hostname": "master.example.com", "cluster": "demo",
        "slaves": [{"id": "S0", "hostname": "agent0", "active": true,
                    "resources": {"cpus": 2, "mem": 496, "disk": 4930, "ports": "[9000-10000]"},
                    "used_resources": {"cpus": 1, "mem": 100, "disk": 0},
                    "TASK_RUNNING": 2, "TASK_FAILED": 0}],
        "frameworks": [{"id": "F0", "name": "Demo", "active": true, "used_resources": {"cpus": 1},
                        "TASK_RUNNING": 2, "TASK_FAILED": 1, "TASK_STAGING": 0}]
    });
    for hint in [Some("/master/state-summary"), None] {
        let ts = tables(&v, hint).unwrap_or_default();
        assert_eq!(ts.len(), 3);
        assert_eq!(summary_value(&ts[0], "cluster"), "demo");
        assert_eq!(summary_value(&ts[0], "tasks TASK_RUNNING"), "2");
        assert_eq!(summary_value(&ts[0], "tasks TASK_FAILED"), "1");
        assert!(ts[0].rows.iter().all(|r| r[0].text != "tasks TASK_STAGING"));
        assert_eq!(cell(&ts[1], 0, "cpus used/total"), "1 / 2");
        assert_eq!(cell(&ts[2], 0, "tasks"), "2");
    }
}

#[test]
fn roles_tables() {
    let v1 = json!({"type": "GET_ROLES", "get_roles": {"roles": [
        {"name": "*", "weight": 1.0, "frameworks": [{"value": "F0"}], "resources": [scalar("cpus", 0.5)]},
        {"name": "web", "weight": 2.5}]}});
    let t = only(tables(&v1, None));
    assert_eq!(
        t.columns,
        ["name", "weight", "frameworks", "cpus", "mem MB", "disk MB"]
    );
    assert_eq!(cell(&t, 0, "frameworks"), "F0");
    assert_eq!(cell(&t, 0, "cpus"), "0.5");
    assert_eq!(cell(&t, 1, "weight"), "2.5");
    let legacy = json!({"roles": [{"name": "*", "weight": 1.0, "frameworks": ["F0", "F1"],
                                   "resources": {"cpus": 1, "mem": 128, "disk": 0}}]});
    let t = only(tables(&legacy, Some("/master/roles")));
    assert_eq!(cell(&t, 0, "frameworks"), "F0, F1");
    assert_eq!(cell(&t, 0, "mem MB"), "128");
}

#[test]
fn metrics_are_sorted_in_both_shapes() {
    let flat =
        json!({"master/uptime_secs": 12.5, "master/elected": 1.0, "master/tasks_running": 3.0});
    let t = only(tables(&flat, Some("/metrics/snapshot")));
    assert_eq!(t.columns, ["name", "value"]);
    let names: Vec<&str> = t.rows.iter().map(|r| r[0].text.as_str()).collect();
    assert_eq!(
        names,
        [
            "master/elected",
            "master/tasks_running",
            "master/uptime_secs"
        ]
    );
    assert_eq!(cell(&t, 2, "value"), "12.5");
    let v1 = json!({"type": "GET_METRICS", "get_metrics": {"metrics": [
        {"name": "b", "value": 2.0}, {"name": "a", "value": 1.0}]}});
    let t = only(tables(&v1, None));
    assert_eq!(cell(&t, 0, "name"), "a");
}

#[test]
fn flags_version_and_health() {
    let t = only(tables(
        &json!({"flags": {"port": "5050", "authenticate_agents": "false"}}),
        Some("/master/flags"),
    ));
    assert_eq!(cell(&t, 0, "name"), "authenticate_agents");
    let t = only(tables(
        &json!({"type": "GET_FLAGS", "get_flags": {"flags": [{"name": "zk", "value": "zk://h:2181/mesos"}]}}),
        None,
    ));
    assert_eq!(cell(&t, 0, "value"), "zk://h:2181/mesos");

    let t = only(tables(
        &json!({"version": "1.11.0", "build_user": "root", "git_sha": "abc"}),
        Some("/version"),
    ));
    assert_eq!(t.caption, "version");
    assert_eq!(cell(&t, 0, "value"), "1.11.0");
    let t = only(tables(
        &json!({"type": "GET_VERSION", "get_version": {"version_info": {"version": "1.11.0", "git_tag": "1.11.0"}}}),
        None,
    ));
    assert_eq!(t.total, 2);

    let t = only(tables(
        &json!({"type": "GET_HEALTH", "get_health": {"healthy": true}}),
        None,
    ));
    assert_eq!(cell(&t, 0, "value"), "yes");
    let t = only(tables(&Value::Null, Some("/health")));
    assert_eq!(cell(&t, 0, "value"), "yes");
}

#[test]
fn file_listings() {
    let legacy = json!([
        {"path": "/tmp/sandbox/stdout", "nlink": 1, "size": 1234, "mtime": 1764081618.0,
         "mode": "-rw-r--r--", "uid": "root", "gid": "root"},
        {"path": "/tmp/sandbox/<b>", "nlink": 2, "size": 4096, "mtime": 1764081618.0,
         "mode": "drwxr-xr-x", "uid": "root", "gid": "root"}
    ]);
    for hint in [
        Some("/files/browse"),
        Some("/files/browse?path=/tmp/sandbox"),
        None,
    ] {
        let t = only(tables(&legacy, hint));
        assert_eq!(
            t.columns,
            ["mode", "nlink", "uid", "gid", "size", "mtime", "path"]
        );
        assert_eq!(cell(&t, 0, "mtime"), "2025-11-25 14:40:18 UTC");
        assert_eq!(cell(&t, 0, "size"), "1234");
    }
    let b = render(&legacy, Some("/files/browse"), Format::Auto);
    assert!(html(&b).contains("/tmp/sandbox/&lt;b&gt;"));
    let v1 = json!({"type": "LIST_FILES", "list_files": {"file_infos": [
        {"path": "/var/log/mesos", "nlink": 2, "size": 4096,
         "mtime": {"nanoseconds": 1764081618000000000i64}, "mode": 16877, "uid": "root", "gid": "root"}]}});
    let t = only(tables(&v1, None));
    assert_eq!(cell(&t, 0, "mode"), "drwxr-xr-x");
    assert_eq!(cell(&t, 0, "mtime"), "2025-11-25 14:40:18 UTC");
}

#[test]
fn hints_are_normalised() {
    assert_eq!(normalize_hint("/master/state"), "/state");
    assert_eq!(normalize_hint("/master/state.json"), "/state");
    assert_eq!(normalize_hint("http://m:5050/master/slaves/"), "/slaves");
    assert_eq!(normalize_hint("/slave(1)/state"), "/state");
    assert_eq!(normalize_hint("/files/browse?path=/x"), "/files/browse");
    assert_eq!(normalize_hint("/metrics/snapshot"), "/metrics/snapshot");
    assert_eq!(normalize_hint("get_agents"), "GET_AGENTS");
    assert_eq!(normalize_hint("https://m:5050"), "/");
}

#[test]
fn escaping_in_rendered_tables() {
    let mut agents = get_agents();
    agents["get_agents"]["agents"][0]["agent_info"]["hostname"] =
        json!("<script>alert(1)</script>");
    let b = render(&agents, None, Format::Auto);
    assert!(!html(&b).contains("<script>"));
    assert!(html(&b).contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Text is for terminals: shown as it is.
    assert!(b
        .plain()
        .unwrap_or("")
        .contains("<script>alert(1)</script>"));
}

#[test]
fn row_cap_in_rendered_tables() {
    let offers: Vec<Value> = (0..1000).map(v1_offer).collect();
    let b = render(&json!(offers), Some("OFFERS"), Format::Auto);
    assert!(html(&b).contains("offers: showing 50 of 1000 rows"));
    assert_eq!(html(&b).matches("<tr>").count(), MAX_ROWS + 1);
    let text = b.plain().unwrap_or("");
    assert!(text.starts_with("offers: showing 50 of 1000 rows"));
    assert_eq!(text.lines().count(), MAX_ROWS + 3);
}

#[test]
fn unknown_shapes_are_json() {
    for v in [
        json!({"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "F0"}}}),
        json!({"hello": "world"}),
        json!([1, 2, 3]),
    ] {
        let b = render(&v, None, Format::Auto);
        assert!(b.data.contains_key("application/json"), "{v}");
        assert!(!b.data.contains_key("text/html"), "{v}");
    }
    // Scalars are their JSON text, as jq prints them.
    for (v, text) in [
        (json!("agent0"), "\"agent0\""),
        (json!(42), "42"),
        (Value::Null, "null"),
    ] {
        let b = render(&v, Some("GET_AGENTS"), Format::Auto);
        assert_eq!(b, Bundle::text(text));
    }
    // A known hint on a value that is not its shape (a filtered result) is JSON too.
    let b = render(&json!({"x": 1}), Some("/master/slaves"), Format::Auto);
    assert!(b.data.contains_key("application/json"));
}

#[test]
fn format_json_is_always_json() {
    let v = get_agents();
    assert_eq!(
        render(&v, Some("GET_AGENTS"), Format::Json),
        Bundle::json(&v)
    );
}

#[test]
fn format_table_on_unknown_shapes() {
    let v = json!([{"a": 1, "b": "x"}, {"b": "<y>", "c": null}]);
    assert!(render(&v, None, Format::Auto)
        .data
        .contains_key("application/json"));
    let b = render(&v, None, Format::Table);
    assert!(is_table_bundle(&b));
    assert!(html(&b).contains("<th>a</th><th>b</th><th>c</th>"));
    assert!(html(&b).contains("&lt;y&gt;"));
    assert!(b.plain().unwrap_or("").starts_with("items: 2 rows"));

    let b = render(&json!({"not": "a list"}), None, Format::Table);
    assert_eq!(b.data["application/json"], json!({"not": "a list"}));
    assert!(b.plain().unwrap_or("").starts_with("(no table shape"));
    assert!(b.metadata["mesos-kernel"]["note"].is_string());
    // Known shapes are the same tables as in Auto.
    assert_eq!(
        render(&get_agents(), None, Format::Table),
        render(&get_agents(), None, Format::Auto)
    );
}

#[test]
fn resources_chart_from_each_shape() {
    for v in [get_agents(), get_state(2, 0)] {
        let b = resources_chart(&v).unwrap_or_default();
        let spec = &b.data[VEGALITE_MIME];
        assert_eq!(spec["$schema"], json!(VEGALITE_SCHEMA));
        assert!(VEGALITE_SCHEMA.contains("/v5"));
        let values = spec["data"]["values"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(values.len(), 2 * 3 * 2);
        assert!(b.plain().unwrap_or("").contains("agent1.example.com"));
    }
    let b = resources_chart(&get_agents()).unwrap_or_default();
    let values = b.data[VEGALITE_MIME]["data"]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let find = |agent: &str, resource: &str, state: &str| {
        values
            .iter()
            .find(|v| v["agent"] == agent && v["resource"] == resource && v["state"] == state)
            .and_then(|v| v["value"].as_f64())
    };
    assert_eq!(find("agent0.example.com", "cpus", "used"), Some(0.4));
    assert_eq!(find("agent0.example.com", "cpus", "free"), Some(1.6));
    assert_eq!(find("agent0.example.com", "mem MB", "used"), Some(200.0));
    assert_eq!(find("agent0.example.com", "mem MB", "free"), Some(296.0));
    assert_eq!(find("agent1.example.com", "disk MB", "free"), Some(4930.0));
    let text = b.plain().unwrap_or("");
    assert!(text.contains("cpus used"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("agent0.example.com  0.4")),
        "{text}"
    );

    let legacy = resources_chart(&legacy_master_state()).unwrap_or_default();
    let values = legacy.data[VEGALITE_MIME]["data"]["values"].clone();
    assert_eq!(values[0]["value"], json!(0.3));
    assert_eq!(values[1]["value"], json!(1.7));

    let list = resources_chart(&get_agents()["get_agents"]["agents"]).unwrap_or_default();
    assert_eq!(list.data[VEGALITE_MIME], b.data[VEGALITE_MIME]);

    assert!(resources_chart(&json!({"x": 1})).is_err());
    assert!(resources_chart(&json!({"type": "GET_AGENTS", "get_agents": {}})).is_err());
}

#[test]
fn chart_labels_agents_sharing_a_hostname() {
    let mut v = get_agents();
    for i in 0..2 {
        v["get_agents"]["agents"][i]["agent_info"]["hostname"] = json!("localhost");
    }
    let b = resources_chart(&v).unwrap_or_default();
    let text = b.plain().unwrap_or("");
    assert!(text.contains("localhost (S0)"), "{text}");
    assert!(text.contains("localhost (S1)"), "{text}");
}

fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(-1),
        json!(1e308),
        json!(""),
        json!("<script>"),
        json!([]),
        json!({}),
        json!([null, 1, "x", [], {}]),
        json!({"type": 7}),
        json!({"type": null}),
        json!({"type": "GET_STATE"}),
        json!({"type": "GET_STATE", "get_state": null}),
        json!({"type": "GET_STATE", "get_state": {"get_agents": {"agents": [null, 1, {"agent_info": null}]}}}),
        json!({"type": "GET_AGENTS", "get_agents": {"agents": "none"}}),
        json!({"type": "GET_AGENTS", "get_agents": {"agents": [{"agent_info": {"id": 5, "hostname": null},
            "total_resources": [{"name": "cpus", "scalar": {"value": "2"}}, {"name": "ports", "ranges": {"range": [{"begin": "x"}]}}],
            "allocated_resources": "lots"}]}}),
        json!({"type": "GET_TASKS", "get_tasks": {"tasks": [{"statuses": "x", "state": 3, "resources": {"cpus": "0.5"}}]}}),
        json!({"type": "GET_METRICS", "get_metrics": {"metrics": [{"value": null}, 3]}}),
        json!({"type": "LIST_FILES", "list_files": {"file_infos": [{"mode": -1, "mtime": "yesterday"}, {"mode": 99999999999u64, "mtime": {"nanoseconds": "1"}}]}}),
        json!({"type": "GET_HEALTH", "get_health": {"healthy": "maybe"}}),
        json!({"slaves": [null, {"resources": "cpus:2"}], "frameworks": [{"tasks": [null, 1]}, 2]}),
        json!({"slaves": null, "frameworks": null}),
        json!({"slaves": [], "cluster": 1, "frameworks": [{"TASK_RUNNING": "2", "TASK_X": null}]}),
        json!({"frameworks": [{"executors": [null, {"tasks": 1}]}], "master_hostname": null}),
        json!([{"path": null, "mode": null, "size": null, "mtime": -1e300}]),
        json!([{"task_id": null, "state": null, "timestamp": "soon"}]),
        json!([{"id": 1, "agent_id": [], "resources": [1, 2], "framework_id": {}, "attributes": 3}]),
        json!({"roles": [{"frameworks": "x", "resources": []}, null]}),
        json!({"flags": []}),
        json!({"version": {"nested": [1, 2]}}),
        json!({"slaves": [{"id": "S", "hostname": "h", "resources": {"cpus": -3, "mem": "NaN"}, "used_resources": {"cpus": 1e300}}]}),
    ]
}

const HINTS: [Option<&str>; 27] = [
    None,
    Some(""),
    Some("GET_AGENTS"),
    Some("GET_STATE"),
    Some("GET_TASKS"),
    Some("GET_FRAMEWORKS"),
    Some("GET_EXECUTORS"),
    Some("GET_ROLES"),
    Some("GET_METRICS"),
    Some("GET_FLAGS"),
    Some("GET_VERSION"),
    Some("GET_HEALTH"),
    Some("LIST_FILES"),
    Some("OFFERS"),
    Some("TASKS"),
    Some("/master/state"),
    Some("/state"),
    Some("/master/slaves"),
    Some("/master/frameworks"),
    Some("/master/tasks"),
    Some("/master/state-summary"),
    Some("/metrics/snapshot"),
    Some("/master/flags"),
    Some("/version"),
    Some("/files/browse"),
    Some("/master/roles"),
    Some("/health"),
];

#[test]
fn odd_input_never_panics() {
    for v in odd_values() {
        for hint in HINTS {
            for format in [Format::Auto, Format::Json, Format::Table] {
                let b = render(&v, hint, format);
                assert!(b.plain().is_some(), "no text/plain for {hint:?} {v}");
                let size = serde_json::to_string(&b.data).map(|s| s.len()).unwrap_or(0);
                assert!(size < 1_000_000, "{size} bytes for {hint:?}");
            }
        }
        let _ = resources_chart(&v);
    }
}

#[test]
fn huge_arrays_stay_small() {
    let huge: Vec<Value> = (0..50_000)
        .map(|i| json!({"task_id": {"value": i}, "state": "TASK_RUNNING", "path": i, "mode": i, "size": i}))
        .collect();
    let huge = Value::Array(huge);
    for hint in [
        None,
        Some("TASKS"),
        Some("OFFERS"),
        Some("/files/browse"),
        Some("GET_STATE"),
    ] {
        for format in [Format::Auto, Format::Json, Format::Table] {
            let b = render(&huge, hint, format);
            let size = serde_json::to_string(&b.data).map(|s| s.len()).unwrap_or(0);
            assert!(size < 1_000_000, "{size} bytes for {hint:?} {format:?}");
        }
    }
    let t = only(tables(&huge, Some("TASKS")));
    assert_eq!((t.rows.len(), t.total), (MAX_ROWS, 50_000));
}

#[test]
fn a_thousand_agent_state_is_small_and_quick() {
    let v = get_state(1000, 5000);
    let start = std::time::Instant::now();
    let b = render(&v, Some("GET_STATE"), Format::Auto);
    let elapsed = start.elapsed();
    let size = serde_json::to_string(&b.data).map(|s| s.len()).unwrap_or(0);
    println!("GET_STATE with 1000 agents, 5001 tasks: rendered in {elapsed:?}, {size} bytes");
    assert!(size < 1_000_000, "{size} bytes");
    assert!(html(&b).contains("agents: showing 50 of 1000 rows"));
    assert!(html(&b).contains("tasks: showing 50 of 5001 rows"));
    assert!(b
        .plain()
        .unwrap_or("")
        .contains("agents: showing 50 of 1000 rows"));

    let start = std::time::Instant::now();
    let chart = resources_chart(&v).unwrap_or_default();
    println!("resources chart of 1000 agents: {:?}", start.elapsed());
    let spec = &chart.data[VEGALITE_MIME];
    assert_eq!(
        spec["title"]["subtitle"],
        json!("showing 50 of 1000 agents")
    );
    assert!(chart
        .plain()
        .unwrap_or("")
        .contains("showing 50 of 1000 rows"));
}

/// Recorded responses, when the shared fixtures are present: each renders without panic,
/// and a known shape renders as a table.
#[test]
fn shared_fixtures_render() {
    let Some(dir) = crate::mesos::v1::fixtures::real_mesos_dir()
        .and_then(|d| d.parent().map(std::path::Path::to_path_buf))
    else {
        println!("skipped: no ../shared/fixtures");
        return;
    };
    let mut seen = 0;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            for format in [Format::Auto, Format::Table, Format::Json] {
                let b = render(&v, None, format);
                assert!(b.plain().is_some(), "{}", path.display());
            }
            let _ = resources_chart(&v);
            seen += 1;
        }
    }
    println!("rendered {seen} fixture files");
}

#[test]
fn tenancy_answers_render_as_tables() {
    let q = json!({"type": "GET_QUOTA", "get_quota": {"status": {"configs": [
        {"role": "ops", "limits": {"cpus": {"value": 2}}}]}}});
    let t = only(tables(&q, None));
    assert_eq!(t.caption, "quota");
    assert_eq!(cell(&t, 0, "limits"), "cpus 2");
    let w = json!({"type": "GET_WEIGHTS", "get_weights": {"weight_infos": [{"role": "a", "weight": 3.0}]}});
    assert_eq!(cell(&only(tables(&w, None)), 0, "weight"), "3");
    let legacy = json!([{"role": "a", "weight": 0.5}]);
    assert_eq!(
        cell(&only(tables(&legacy, Some("/master/weights"))), 0, "weight"),
        "0.5"
    );
    let agents = json!({"type": "GET_AGENTS", "get_agents": {"agents": [{
        "agent_info": {"id": {"value": "S0"}, "hostname": "h"},
        "total_resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
            "reservations": [{"type": "STATIC", "role": "ops"}]}]}]}});
    let all = tables(&agents, None).unwrap_or_default();
    assert_eq!(all.len(), 2, "agents and reservations");
    assert_eq!(cell(&all[1], 0, "role"), "ops");
}

#[test]
fn the_resources_chart_shows_what_is_reserved_to_each_role() {
    let v = json!({"type": "GET_AGENTS", "get_agents": {"agents": [{
        "agent_info": {"id": {"value": "S0"}, "hostname": "h"},
        "total_resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}},
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
             "reservations": [{"type": "STATIC", "role": "ops"}]}],
        "allocated_resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.25},
             "reservations": [{"type": "STATIC", "role": "ops"}], "allocation_info": {"role": "ops"}}]}]}});
    let b = resources_chart(&v).unwrap_or_default();
    let spec = b.data.get(VEGALITE_MIME).cloned().unwrap_or_default();
    let values = spec["data"]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let part = |state: &str| {
        values
            .iter()
            .find(|x| x["resource"] == "cpus" && x["state"] == state)
            .map(|x| x["value"].clone())
    };
    assert_eq!(part("used"), Some(json!(0.25)));
    assert_eq!(part("reserved: ops"), Some(json!(0.75)));
    assert_eq!(part("free"), Some(json!(2.0)));
    assert_eq!(
        spec["spec"]["encoding"]["color"]["scale"]["domain"],
        json!(["used", "reserved: ops", "free"])
    );
}
