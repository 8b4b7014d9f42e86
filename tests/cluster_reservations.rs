//! Dynamic reservations over HTTP, as Mesos 1.11 makes and checks them: the operator's
//! RESERVE_RESOURCES and UNRESERVE_RESOURCES (and `/reserve`, `/unreserve`), which rescind
//! outstanding offers that hold what they need and answer 409 when it is not free; and a
//! framework's RESERVE and UNRESERVE in ACCEPT, refinements included, with a LAUNCH on the
//! reserved resources in the same ACCEPT.

mod cluster_support;

use cluster_support::*;
use serde_json::{json, Value};

fn role_info(name: &str, role: &str) -> Value {
    json!({"user": "tester", "name": name, "role": role, "principal": "tester"})
}

fn dynamic(name: &str, v: f64, reservations: Value) -> Value {
    json!({"name": name, "type": "SCALAR", "scalar": {"value": v}, "reservations": reservations})
}

fn ops_reservation() -> Value {
    json!([{"type": "DYNAMIC", "role": "ops", "principal": "admin",
            "labels": {"labels": [{"key": "team", "value": "platform"}]}}])
}

async fn agent_id(m: &str) -> String {
    let agents = operator(m, json!({"type": "GET_AGENTS"})).await;
    agents["get_agents"]["agents"][0]["agent_info"]["id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn reserve_call(agent: &str, resources: Value) -> Value {
    json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": agent}, "resources": resources}})
}

fn unreserve_call(agent: &str, resources: Value) -> Value {
    json!({"type": "UNRESERVE_RESOURCES", "unreserve_resources": {
        "agent_id": {"value": agent}, "resources": resources}})
}

/// The agent's total resources as GET_AGENTS writes them.
async fn total_of(m: &str) -> Vec<Value> {
    let agents = operator(m, json!({"type": "GET_AGENTS"})).await;
    agents["get_agents"]["agents"][0]["total_resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn reserved_to<'a>(list: &'a [Value], role: &str, name: &str) -> Option<&'a Value> {
    list.iter().find(|r| {
        r["name"] == name
            && r["reservations"]
                .as_array()
                .and_then(|l| l.last())
                .is_some_and(|x| x["role"] == role)
    })
}

#[tokio::test]
async fn an_operator_reservation_rescinds_offers_and_goes_only_to_its_role() {
    let c = start().await;
    let m = c.master_url();
    let api = format!("{m}/api/v1");
    let agent = agent_id(&m).await;
    // A framework of `*` holds an offer of everything.
    let (_web, mut web_events) = Framework::subscribe(&m, role_info("web", "*")).await;
    let offer = web_events.offer().await;
    // Reserving needs resources the offer holds: it is rescinded, then the reservation
    // applies (202, no body).
    let call = reserve_call(
        &agent,
        json!([
            dynamic("cpus", 1.0, ops_reservation()),
            dynamic("mem", 128.0, ops_reservation())
        ]),
    );
    let (code, body) = post(&api, &call, None).await;
    assert_eq!((code, body.as_str()), (202, ""));
    let rescind = web_events.next_of("RESCIND").await;
    assert_eq!(rescind["rescind"]["offer_id"], offer["id"]);
    let total = total_of(&m).await;
    let cpus = reserved_to(&total, "ops", "cpus")
        .cloned()
        .unwrap_or_default();
    assert_eq!(cpus["scalar"]["value"], 1.0);
    // The endpoint format: a single dynamic reservation also as `role` and `reservation`.
    assert_eq!(cpus["role"], "ops");
    assert_eq!(cpus["reservation"]["principal"], "admin");
    assert_eq!(
        cpus["reservations"][0]["labels"]["labels"][0]["key"],
        "team"
    );
    // Only `ops` is offered them.
    let (_ops, mut ops_events) = Framework::subscribe(&m, role_info("ops", "ops")).await;
    let offer = ops_events.offer().await;
    let offered: Vec<Value> = offer["resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        reserved_to(&offered, "ops", "cpus").map(|r| r["scalar"]["value"].clone()),
        Some(json!(1.0))
    );
    // Unreserving what is offered: the offer goes, the resources are unreserved again.
    let call = unreserve_call(
        &agent,
        json!([
            dynamic("cpus", 1.0, ops_reservation()),
            dynamic("mem", 128.0, ops_reservation())
        ]),
    );
    let (code, body) = post(&api, &call, None).await;
    assert_eq!((code, body.as_str()), (202, ""));
    ops_events.next_of("RESCIND").await;
    let total = total_of(&m).await;
    assert!(reserved_to(&total, "ops", "cpus").is_none(), "{total:?}");
    let roles = get_json(&format!("{m}/master/roles")).await;
    let ops = roles["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == "ops")
        .cloned()
        .unwrap_or_default();
    assert_eq!(ops["reserved"], json!({}));
    c.shutdown().await;
}

#[tokio::test]
async fn reservations_are_refused_with_mesos_statuses_and_messages() {
    let c = start().await;
    let m = c.master_url();
    let api = format!("{m}/api/v1");
    let agent = agent_id(&m).await;
    let refused = |call: Value| {
        let api = api.clone();
        async move { post(&api, &call, None).await }
    };
    let (code, body) = refused(json!({"type": "RESERVE_RESOURCES"})).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate master::Call: Expecting 'reserve_resources' to be present"
        )
    );
    let (code, body) = refused(reserve_call(
        "nobody-S9",
        json!([dynamic("cpus", 1.0, ops_reservation())]),
    ))
    .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "No agent found with specified ID")
    );
    let (code, body) = refused(reserve_call(&agent, json!([scalar("cpus", 1.0)]))).await;
    assert_eq!(code, 400);
    let pid_part = format!("Invalid RESERVE operation on agent {agent} at slave(1)@127.0.0.1:");
    assert!(body.starts_with(&pid_part), "{body}");
    assert!(
        body.ends_with("(127.0.0.1): Resource cpus:1 is not dynamically reserved"),
        "{body}"
    );
    let (code, body) = refused(reserve_call(
        &agent,
        json!([dynamic(
            "cpus",
            1.0,
            json!([{"type": "DYNAMIC", "role": "*"}])
        )]),
    ))
    .await;
    assert_eq!(code, 400);
    assert!(
        body.contains("is invalid: Invalid reservation: role \"*\" cannot be reserved"),
        "{body}"
    );
    // More than the agent has free: 409 with what is free and what was asked.
    let (code, body) = refused(reserve_call(
        &agent,
        json!([dynamic("cpus", 5.0, ops_reservation())]),
    ))
    .await;
    assert_eq!(code, 409);
    assert!(body.contains("does not contain cpus:5"), "{body}");
    assert!(body.starts_with("cpus:2; mem:496"), "{body}");
    // Unreserving what is not reserved.
    let (code, body) = refused(unreserve_call(&agent, json!([scalar("mem", 1.0)]))).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Invalid UNRESERVE operation: Resource mem:1 is not dynamically reserved"
        )
    );
    let (code, body) = refused(unreserve_call(
        &agent,
        json!([dynamic("mem", 1.0, ops_reservation())]),
    ))
    .await;
    assert_eq!(code, 409, "{body}");
    c.shutdown().await;
}

#[tokio::test]
async fn the_legacy_reserve_and_unreserve_endpoints() {
    let c = start().await;
    let m = c.master_url();
    let agent = agent_id(&m).await;
    let resources = json!([dynamic(
        "cpus",
        0.5,
        json!([{"type": "DYNAMIC", "role": "ops"}])
    )]);
    let form = |agent: &str, resources: &Value| {
        format!(
            "slaveId={agent}&resources={}",
            form_urlencoded::byte_serialize(resources.to_string().as_bytes()).collect::<String>()
        )
    };
    let send = |path: &'static str, body: String| {
        let m = m.clone();
        async move {
            let resp = authed(client().post(format!("{m}/master/{path}")))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST /{path}: {e}"));
            let code = resp.status().as_u16();
            (code, resp.text().await.unwrap_or_default())
        }
    };
    let (code, body) = send("reserve", form(&agent, &resources)).await;
    assert_eq!((code, body.as_str()), (202, ""));
    let slaves = get_json(&format!("{m}/master/slaves")).await;
    assert_eq!(
        slaves["slaves"][0]["reserved_resources"]["ops"]["cpus"],
        0.5
    );
    let full = &slaves["slaves"][0]["reserved_resources_full"]["ops"][0];
    assert_eq!(full["reservations"][0]["type"], "DYNAMIC");
    let (code, body) = send("reserve", "resources=[]".into()).await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Missing 'slaveId' query parameter in the request body")
    );
    let (code, body) = send("unreserve", form(&agent, &resources)).await;
    assert_eq!((code, body.as_str()), (202, ""));
    let slaves = get_json(&format!("{m}/master/slaves")).await;
    assert_eq!(slaves["slaves"][0]["reserved_resources"], json!({}));
    let resp = authed(client().get(format!("{m}/master/reserve")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /reserve: {e}"));
    assert_eq!(resp.status().as_u16(), 405);
    c.shutdown().await;
}

#[tokio::test]
async fn a_framework_reserves_refines_and_launches_in_one_accept() {
    let c = start().await;
    let m = c.master_url();
    let info = json!({"user": "tester", "name": "ops", "principal": "tester",
                      "roles": ["ops", "ops/dev"], "capabilities": [{"type": "MULTI_ROLE"}]});
    let (fw, mut events) = Framework::subscribe(&m, info).await;
    // At equal shares `ops` sorts before `ops/dev` and is offered everything.
    let offer = events.offer().await;
    assert_eq!(offer["allocation_info"]["role"], "ops");
    let agent = offer["agent_id"].clone();
    let mine = json!([{"type": "DYNAMIC", "role": "ops", "principal": "tester"}]);
    let allocated = |mut r: Value, role: &str| {
        r["allocation_info"] = json!({"role": role});
        r
    };
    let reserve = json!([
        allocated(dynamic("cpus", 1.5, mine.clone()), "ops"),
        allocated(dynamic("mem", 64.0, mine.clone()), "ops")
    ]);
    let mut task = command_task("on-reserved", &agent, "sleep 30");
    task["resources"] = json!([
        allocated(dynamic("cpus", 1.0, mine.clone()), "ops"),
        allocated(dynamic("mem", 64.0, mine.clone()), "ops")
    ]);
    let accept = json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [
            {"type": "RESERVE", "reserve": {"resources": reserve}},
            {"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": 0}}});
    let (code, body) = fw.call(accept).await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, "on-reserved", "TASK_RUNNING").await;
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    let used = &tasks["get_tasks"]["tasks"][0]["resources"][0];
    assert_eq!(used["reservations"][0]["type"], "DYNAMIC");
    assert_eq!(used["reservations"][0]["principal"], "tester");
    assert_eq!(used["allocation_info"]["role"], "ops");
    // `ops` now holds a task, so `ops/dev` (below it, holding nothing) is offered the
    // rest: the unreserved resources and the half cpu still reserved to `ops`.
    let offer = events.offer().await;
    assert_eq!(offer["allocation_info"]["role"], "ops/dev");
    let offered: Vec<Value> = offer["resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        reserved_to(&offered, "ops", "cpus").map(|r| r["scalar"]["value"].clone()),
        Some(json!(0.5))
    );
    // A refinement: part of the reservation to `ops` becomes `ops/dev`'s.
    let refined_stack = json!([{"type": "DYNAMIC", "role": "ops", "principal": "tester"},
                               {"type": "DYNAMIC", "role": "ops/dev", "principal": "tester"}]);
    let refined = allocated(dynamic("cpus", 0.5, refined_stack), "ops/dev");
    let (code, body) = fw
        .call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
            "operations": [{"type": "RESERVE", "reserve": {"resources": [refined.clone()]}}],
            "filters": {"refuse_seconds": 0}}}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    let total = total_of(&m).await;
    let dev = reserved_to(&total, "ops/dev", "cpus")
        .cloned()
        .unwrap_or_default();
    assert_eq!(dev["scalar"]["value"], 0.5, "{total:?}");
    assert_eq!(dev["reservations"].as_array().map(Vec::len), Some(2));
    assert!(reserved_to(&total, "ops", "cpus").is_some_and(|r| r["scalar"]["value"] == 1.0));
    // A reservation the framework's role may not make is dropped, and nothing changes.
    let offer = events.offer().await;
    let wrong = allocated(
        dynamic(
            "mem",
            10.0,
            json!([{"type": "DYNAMIC", "role": "ops", "principal": "tester"}]),
        ),
        "ops/dev",
    );
    let (code, body) = fw
        .call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
            "operations": [{"type": "RESERVE", "reserve": {"resources": [wrong]}}],
            "filters": {"refuse_seconds": 0}}}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    // UNRESERVE pops the refinement back into `ops`.
    let offer = events.offer().await;
    assert_eq!(offer["allocation_info"]["role"], "ops/dev");
    let (code, body) = fw
        .call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
            "operations": [{"type": "UNRESERVE", "unreserve": {"resources": [refined]}}],
            "filters": {"refuse_seconds": 0}}}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    let total = total_of(&m).await;
    assert!(
        reserved_to(&total, "ops/dev", "cpus").is_none(),
        "{total:?}"
    );
    assert_eq!(
        reserved_to(&total, "ops", "cpus").map(|r| r["scalar"]["value"].clone()),
        Some(json!(1.5))
    );
    assert_eq!(
        reserved_to(&total, "ops", "mem").map(|r| r["scalar"]["value"].clone()),
        Some(json!(64.0)),
        "the dropped reservation changed nothing"
    );
    c.shutdown().await;
}
