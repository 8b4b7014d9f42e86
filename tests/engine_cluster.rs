//! Every form of the language against the embedded cluster, through the engine as a cell
//! runs it: calls by name and as JSON, raw HTTP, bindings and filters, displays.

mod common;

use common::{stdout, Harness};
use serde_json::{json, Value};

#[tokio::test]
async fn the_first_call_starts_the_embedded_cluster() {
    let mut h = Harness::new();
    let (result, published) = h.run("GET_HEALTH").await;
    assert!(result.is_ok(), "{result:?}");
    assert!(stdout(&published).contains("Started the embedded Mesos cluster"));
    let master = h.var("master").unwrap();
    assert!(master.as_str().unwrap().starts_with("http://127.0.0.1:"));
    // A second call does not start another.
    let (_, published) = h.run("GET_HEALTH").await;
    assert!(!stdout(&published).contains("Started"));
}

#[tokio::test]
async fn calls_by_name_render_tables_and_bind_json() {
    let mut h = Harness::new();
    let data = h.ok("GET_AGENTS").await;
    assert!(
        data["text/html"].as_str().unwrap().contains("<table"),
        "{data}"
    );
    assert!(
        data.get("application/json").is_none(),
        "tables carry no JSON part"
    );
    let agents = h.var("_").unwrap();
    assert_eq!(agents["type"], "GET_AGENTS");
    assert_eq!(agents["get_agents"]["agents"].as_array().unwrap().len(), 2);
    let data = h.ok("GET_AGENTS | .get_agents.agents | length").await;
    assert_eq!(data["text/plain"], "2");
    let data = h.ok("GET_VERSION | json").await;
    assert_eq!(data["application/json"]["type"], "GET_VERSION");
}

#[tokio::test]
async fn arguments_map_to_fields() {
    let mut h = Harness::new();
    h.ok("GET_METRICS timeout=2s").await;
    assert_eq!(h.var("_").unwrap()["type"], "GET_METRICS");
    let e = h.err("READ_FILE pth=/x").await;
    assert_eq!(e.ename, "InvalidCall");
    assert!(e.evalue.contains("path"), "{}", e.evalue);
    let e = h.err("GET_STATE watch").await;
    assert_eq!(e.ename, "InvalidCall");
}

#[tokio::test]
async fn agent_calls_by_default_id_and_expression() {
    let mut h = Harness::new();
    h.ok("agent GET_HEALTH").await;
    let agent = h.var("agent").unwrap();
    assert!(agent.as_str().unwrap().starts_with("http://127.0.0.1:"));
    h.ok("agents = GET_AGENTS | .get_agents.agents").await;
    h.ok("agent ($agents[1].agent_info.id.value) GET_AGENT")
        .await;
    let second = h.var("agents").unwrap()[1]["agent_info"]["id"]["value"].clone();
    assert_eq!(
        h.var("_").unwrap()["get_agent"]["agent_info"]["id"]["value"],
        second
    );
    h.ok("agent S1 GET_HEALTH").await;
    let e = h.err("agent S9 GET_HEALTH").await;
    assert!(e.evalue.contains("no agent 'S9'"), "{}", e.evalue);
}

#[tokio::test]
async fn json_calls_route_by_type() {
    let mut h = Harness::new();
    h.ok("{\"type\": \"GET_MASTER\"}").await;
    assert_eq!(h.var("_").unwrap()["type"], "GET_MASTER");
    // An agent-only call goes to the default agent.
    h.ok("{\"type\": \"GET_CONTAINERS\"}").await;
    assert_eq!(h.var("_").unwrap()["type"], "GET_CONTAINERS");
    // An object without a type is just a value.
    let data = h.ok("{\"a\": 1}").await;
    assert_eq!(data["application/json"], json!({"a": 1}));
}

#[tokio::test]
async fn raw_http_requests() {
    let mut h = Harness::new();
    h.ok("state = GET /master/state").await;
    let state = h.var("state").unwrap();
    assert!(state["slaves"].as_array().unwrap().len() == 2);
    h.ok("agent_state = GET $agent/state\nASSERT $state.version == $agent_state.version")
        .await;
    h.ok("POST /api/v1\nContent-Type: application/json\n\n{\"type\": \"GET_HEALTH\"}")
        .await;
    assert_eq!(
        h.var("_").unwrap()["get_health"]["healthy"],
        Value::Bool(true)
    );
    let e = h.err("GET /master/nope").await;
    assert_eq!(e.ename, "MesosHttpError");
    assert!(e.evalue.contains("404"));
}

#[tokio::test]
async fn resources_chart() {
    let mut h = Harness::new();
    let data = h.ok("RESOURCES").await;
    let spec = &data["application/vnd.vegalite.v5+json"];
    assert!(spec["$schema"].as_str().unwrap().contains("vega-lite/v5"));
    assert!(data["text/plain"].as_str().unwrap().contains("cpus"));
}

/// Maintenance, draining and logging by name, as a cell writes them: the by-name fields
/// become Mesos's call (`schedule=` JSON with variables, `machines=` a list of MachineIDs,
/// `max_grace_period=` a google.protobuf.Duration, `duration=` a DurationInfo), and the
/// embedded cluster answers as Mesos does.
#[tokio::test]
async fn maintenance_calls_by_name() {
    let mut h = Harness::new();
    h.ok("agents = GET_AGENTS | .get_agents.agents").await;
    let agents = h.var("agents").unwrap();
    let hosts: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["agent_info"]["hostname"].as_str())
        .collect();
    assert_eq!(
        hosts,
        ["agent1", "agent2"],
        "each agent is a machine of its own"
    );
    h.ok(r#"m = {hostname: "agent2", ip: "127.0.0.1"}"#).await;
    h.ok(r#"UPDATE_MAINTENANCE_SCHEDULE schedule={"windows": [{"machine_ids": [$m], "unavailability": {"start": {"nanoseconds": 5}}}]}"#)
        .await;
    // Mesos's empty 200 shows as the call and its status.
    assert_eq!(
        h.var("_").unwrap(),
        json!({"type": "UPDATE_MAINTENANCE_SCHEDULE", "status": "200 OK"})
    );
    h.ok("s = GET_MAINTENANCE_STATUS | .get_maintenance_status.status")
        .await;
    assert_eq!(
        h.var("s").unwrap(),
        json!({"draining_machines": [{"id": {"hostname": "agent2", "ip": "127.0.0.1"}}]})
    );
    // A machine not in DRAINING mode cannot come up; Mesos's words reach the cell.
    let e = h.err("STOP_MAINTENANCE machines=[$m]").await;
    assert!(e.evalue.contains("400"), "{}", e.evalue);
    assert!(
        e.evalue
            .contains("is not in DOWN mode and cannot be brought up"),
        "{}",
        e.evalue
    );
    // DRAIN_AGENT refuses an agent of a scheduled machine.
    let e = h
        .err("DRAIN_AGENT agent_id=$agents[1].agent_info.id max_grace_period=10m")
        .await;
    assert!(
        e.evalue
            .contains("is part of a maintenance schedule under Machine agent2 (127.0.0.1)"),
        "{}",
        e.evalue
    );
}

/// DRAIN_AGENT, DEACTIVATE_AGENT and REACTIVATE_AGENT by name, SET/GET_LOGGING_LEVEL on the
/// master and an agent, and the calls' help pages.
#[tokio::test]
async fn draining_and_logging_calls_by_name() {
    let mut h = Harness::new();
    h.ok("agents = GET_AGENTS | .get_agents.agents").await;
    // An agent drains, with its grace period written as the docs write it.
    h.ok("DRAIN_AGENT agent_id=$agents[0].agent_info.id max_grace_period=10m")
        .await;
    h.ok("a = GET_AGENTS | .get_agents.agents[0]").await;
    let a = h.var("a").unwrap();
    assert_eq!(a["deactivated"], true);
    assert_eq!(
        a["drain_info"],
        json!({"state": "DRAINED", "config": {"mark_gone": false,
            "max_grace_period": {"nanoseconds": 600_000_000_000i64}}})
    );
    let e = h.err("DEACTIVATE_AGENT agent_id=nope").await;
    assert!(e.evalue.contains("Unknown agent"), "{}", e.evalue);
    h.ok("REACTIVATE_AGENT agent_id=$agents[0].agent_info.id")
        .await;
    h.ok("DEACTIVATE_AGENT agent_id=$agents[1].agent_info.id")
        .await;
    h.ok("d = GET_AGENTS | .get_agents.agents | map(.deactivated)")
        .await;
    assert_eq!(h.var("d").unwrap(), json!([false, true]));
    // Logging, on the master and an agent; the help pages exist.
    h.ok("SET_LOGGING_LEVEL level=2 duration=1m").await;
    h.ok("l = GET_LOGGING_LEVEL | .get_logging_level.level")
        .await;
    assert_eq!(h.var("l").unwrap(), json!(2));
    h.ok("l = agent GET_LOGGING_LEVEL | .get_logging_level.level")
        .await;
    assert_eq!(
        h.var("l").unwrap(),
        json!(0),
        "each process has its own level"
    );
    for call in ["DRAIN_AGENT", "START_MAINTENANCE", "DECLINE_INVERSE_OFFERS"] {
        let (result, published) = h.run(&format!("%help {call}")).await;
        assert!(result.is_ok(), "{result:?}");
        let shown = format!("{published:?}");
        assert!(shown.contains(call) && shown.contains("Example"), "{shown}");
    }
}
