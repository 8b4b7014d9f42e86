//! Roles in the embedded cluster, over HTTP, as Mesos 1.11 has them: static reservations
//! from the agent's `--resources` offered only to their role and the roles below it, one
//! offer per agent and role to a multi-role framework, weighted DRF between roles, and the
//! operator's view of roles and weights (GET_ROLES, `/roles`, GET_WEIGHTS, UPDATE_WEIGHTS,
//! `/weights`).

mod cluster_support;

use cluster_support::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn role_info(name: &str, role: &str) -> Value {
    json!({"user": "tester", "name": name, "role": role})
}

fn multi_role(name: &str, roles: &[&str]) -> Value {
    json!({"user": "tester", "name": name, "roles": roles,
           "capabilities": [{"type": "MULTI_ROLE"}]})
}

/// The offer's resources named `name`, by the role they are reserved to (`*` when not).
fn by_reservation(offer: &Value, name: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for r in offer["resources"].as_array().into_iter().flatten() {
        if r["name"] == name {
            let role = r["reservations"]
                .as_array()
                .and_then(|l| l.last())
                .and_then(|x| x["role"].as_str())
                .unwrap_or("*")
                .to_string();
            *out.entry(role).or_default() += r["scalar"]["value"].as_f64().unwrap_or(0.0);
        }
    }
    out
}

async fn reserved_cluster() -> mesos_kernel::cluster::Cluster {
    start_with(|c| {
        c.agent.resources = Some("cpus:2;mem:496;cpus(ops):1;mem(ops):128".into());
    })
    .await
}

#[tokio::test]
async fn static_reservations_go_only_to_their_role_and_the_roles_below_it() {
    let c = reserved_cluster().await;
    let m = c.master_url();
    // A framework of `*` is offered the unreserved resources only.
    let (_web, mut web_events) = Framework::subscribe(&m, role_info("web", "*")).await;
    let offer = web_events.offer().await;
    assert_eq!(
        by_reservation(&offer, "cpus"),
        BTreeMap::from([("*".into(), 2.0)])
    );
    assert_eq!(offer["allocation_info"]["role"], "*");
    // `ops/dev` is below `ops`: it is offered what is reserved to `ops`, and only that
    // (the unreserved resources are out with the first framework).
    let (_dev, mut dev_events) = Framework::subscribe(&m, role_info("dev", "ops/dev")).await;
    let offer = dev_events.offer().await;
    assert_eq!(
        by_reservation(&offer, "cpus"),
        BTreeMap::from([("ops".into(), 1.0)])
    );
    assert_eq!(
        by_reservation(&offer, "mem"),
        BTreeMap::from([("ops".into(), 128.0)])
    );
    let cpus = offer["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == "cpus")
        .cloned()
        .unwrap_or_default();
    // Mesos's endpoint format: `role` beside the `reservations` stack, and the allocation.
    assert_eq!(cpus["role"], "ops");
    assert_eq!(
        cpus["reservations"],
        json!([{"type": "STATIC", "role": "ops"}])
    );
    assert_eq!(cpus["allocation_info"]["role"], "ops/dev");
    // Another role gets nothing: everything is either offered or reserved to `ops`.
    let (_other, mut other_events) = Framework::subscribe(&m, role_info("x", "analytics")).await;
    let mut heartbeats = 0;
    while heartbeats < 2 {
        let e = other_events.next().await.unwrap_or_default();
        assert_ne!(e["type"], "OFFERS", "{e}");
        heartbeats += usize::from(e["type"] == "HEARTBEAT");
    }
    // The agent's views say what is reserved to whom.
    let state = get_json(&format!("{m}/master/state")).await;
    let agent = &state["slaves"][0];
    assert_eq!(agent["reserved_resources"]["ops"]["cpus"], 1.0);
    assert_eq!(agent["unreserved_resources"]["cpus"], 2.0);
    assert_eq!(agent["resources"]["cpus"], 3.0);
    let slaves = get_json(&format!("{m}/master/slaves")).await;
    assert_eq!(
        slaves["slaves"][0]["reserved_resources_full"]["ops"][0]["reservations"][0]["type"],
        "STATIC"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn a_multi_role_framework_gets_one_offer_per_agent_and_role() {
    let c = reserved_cluster().await;
    let m = c.master_url();
    let (fw, mut events) = Framework::subscribe(&m, multi_role("both", &["dev", "ops"])).await;
    let first = events.offer().await;
    let second = events.offer().await;
    assert_eq!(first["agent_id"], second["agent_id"]);
    let mut by_role: BTreeMap<String, Value> = BTreeMap::new();
    for o in [first, second] {
        by_role.insert(
            o["allocation_info"]["role"].as_str().unwrap_or("").into(),
            o,
        );
    }
    // At equal shares `dev` sorts first and takes the unreserved resources; `ops` then
    // gets what is reserved to it, in an offer of its own.
    assert_eq!(
        by_reservation(&by_role["dev"], "cpus"),
        BTreeMap::from([("*".into(), 2.0)])
    );
    assert_eq!(
        by_reservation(&by_role["ops"], "cpus"),
        BTreeMap::from([("ops".into(), 1.0)])
    );
    let ops = &by_role["ops"];
    // A task on the `ops` offer must say the resources are allocated to `ops`
    // (MULTI_ROLE frameworks allocate their resources themselves).
    let agent_id = ops["agent_id"].clone();
    let mut task = command_task("no-alloc", &agent_id, "true");
    task["resources"] = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5},
                                "reservations": [{"type": "STATIC", "role": "ops"}]}]);
    let (code, body) = fw.call(launch(ops, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    let status = events.update_for(&fw, "no-alloc").await;
    assert_eq!(status["state"], "TASK_ERROR");
    assert_eq!(
        status["message"],
        "Invalid task resources: The resources are not allocated to a role"
    );
    c.shutdown().await;
}

/// How many of the offers a framework is sent next (until `want` in all) are its.
async fn count_offers(events: &mut Events, want: usize) -> usize {
    let mut n = 0;
    let deadline = std::time::Instant::now() + DEADLINE;
    while n < want && std::time::Instant::now() < deadline {
        let e = events.next_of("OFFERS").await;
        n += e["offers"]["offers"].as_array().map_or(0, Vec::len);
    }
    n
}

#[tokio::test]
async fn weights_change_the_shares_between_roles() {
    let c = start_with(|c| c.agents = 4).await;
    let m = c.master_url();
    let (_a, mut a_events) = Framework::subscribe(&m, role_info("a", "a")).await;
    assert_eq!(
        count_offers(&mut a_events, 4).await,
        4,
        "a alone gets every agent"
    );
    let (_b, mut b_events) = Framework::subscribe(&m, role_info("b", "b")).await;
    // Equal weights: an update of a role with frameworks rescinds every offer; DRF then
    // alternates between the two roles.
    let weights = |w: f64| json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "a", "weight": w}]}});
    let (code, body) = post(&format!("{m}/api/v1"), &weights(1.0), None).await;
    assert_eq!((code, body.as_str()), (200, ""));
    assert_eq!(count_offers(&mut a_events, 2).await, 2);
    assert_eq!(count_offers(&mut b_events, 2).await, 2);
    // Weight 3 for `a`: it holds three agents for each of `b`'s one.
    let (code, _) = post(&format!("{m}/api/v1"), &weights(3.0), None).await;
    assert_eq!(code, 200);
    assert_eq!(count_offers(&mut a_events, 3).await, 3);
    assert_eq!(count_offers(&mut b_events, 1).await, 1);
    let offered = |role: &str, state: &Value| {
        state["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == role)
            .map(|r| r["offered"]["cpus"].clone())
    };
    let roles = get_json(&format!("{m}/master/roles")).await;
    assert_eq!(offered("a", &roles), Some(json!(6.0)));
    assert_eq!(offered("b", &roles), Some(json!(2.0)));
    let get = operator(&m, json!({"type": "GET_WEIGHTS"})).await;
    assert_eq!(
        get["get_weights"]["weight_infos"],
        json!([{"role": "a", "weight": 3.0}])
    );
    let roles = operator(&m, json!({"type": "GET_ROLES"})).await;
    let a = roles["get_roles"]["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == "a")
        .cloned()
        .unwrap_or_default();
    assert_eq!(a["weight"], 3.0);
    c.shutdown().await;
}

#[tokio::test]
async fn weights_are_checked_as_mesos_checks_them() {
    let c = start_with(|c| c.weights = Some("ops=2".into())).await;
    let m = c.master_url();
    let api = format!("{m}/api/v1");
    let (code, body) = post(&api, &json!({"type": "UPDATE_WEIGHTS"}), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate master::Call: Expecting 'update_weights' to be present"
        )
    );
    let bad = json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "ops", "weight": 0}]}});
    let (code, body) = post(&api, &bad, None).await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Failed to validate update weights request JSON for role 'ops': Invalid weight '0': Weights must be positive")
    );
    let bad = json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "a/", "weight": 1}]}});
    let (code, body) = post(&api, &bad, None).await;
    assert_eq!(code, 400);
    assert_eq!(
        body,
        "Failed to validate update weights request JSON: Invalid role 'a/': Role 'a/' cannot end with a slash"
    );
    // The legacy endpoint: GET lists, PUT sets, nothing else.
    let weights = get_json(&format!("{m}/weights")).await;
    assert_eq!(weights, json!([{"role": "ops", "weight": 2.0}]));
    let resp = authed(client().put(format!("{m}/weights")))
        .body(r#"[{"role": "eng", "weight": 0.5}]"#)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT /weights: {e}"));
    assert_eq!(resp.status().as_u16(), 200);
    let weights = get_json(&format!("{m}/master/weights")).await;
    assert_eq!(
        weights,
        json!([{"role": "eng", "weight": 0.5}, {"role": "ops", "weight": 2.0}])
    );
    let resp = authed(client().post(format!("{m}/weights")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /weights: {e}"));
    assert_eq!(resp.status().as_u16(), 405);
    // Roles with a weight are known roles, with their ancestors.
    let roles = get_json(&format!("{m}/master/roles")).await;
    let names: Vec<&str> = roles["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["eng", "ops"]);
    let flags = get_json(&format!("{m}/master/flags")).await;
    assert_eq!(flags["flags"]["weights"], "ops=2");
    c.shutdown().await;
}

#[tokio::test]
async fn roles_show_what_is_reserved_allocated_and_offered() {
    let c = reserved_cluster().await;
    let m = c.master_url();
    let (fw, mut events) = Framework::subscribe(&m, role_info("ops fw", "ops")).await;
    let offer = events.offer().await;
    let agent_id = offer["agent_id"].clone();
    // A task on the reserved cpus: allocated to `ops`.
    let mut task = command_task("on-reserved", &agent_id, "sleep 30");
    task["resources"] = json!([
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "role": "ops"},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}, "role": "ops"}]);
    let (code, body) = fw.call(launch(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, "on-reserved", "TASK_RUNNING").await;
    let roles = get_json(&format!("{m}/master/roles")).await;
    let ops = roles["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == "ops")
        .cloned()
        .unwrap_or_default();
    assert_eq!(ops["reserved"], json!({"cpus": 1.0, "mem": 128.0}));
    assert_eq!(ops["allocated"], json!({"cpus": 1.0, "mem": 64.0}));
    assert_eq!(ops["frameworks"], json!([fw.id]));
    // Consumed quota: what is allocated, and the reservation not allocated.
    assert_eq!(ops["quota"]["consumed"], json!({"cpus": 1.0, "mem": 128.0}));
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    let t = &tasks["get_tasks"]["tasks"][0];
    assert_eq!(t["resources"][0]["allocation_info"]["role"], "ops");
    assert_eq!(t["resources"][0]["reservations"][0]["role"], "ops");
    c.shutdown().await;
}
