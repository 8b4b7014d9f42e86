//! Quota over HTTP, as Mesos 1.11 has it: UPDATE_QUOTA's guarantees and limits (the
//! allocator never offers a role past its limit and gives a guaranteed role its share
//! first), GET_QUOTA's status, the older SET_QUOTA, REMOVE_QUOTA and `/quota`, with Mesos's
//! checks and messages.

mod cluster_support;

use cluster_support::*;
use serde_json::{json, Value};

fn role_info(name: &str, role: &str) -> Value {
    json!({"user": "tester", "name": name, "role": role})
}

fn update(role: &str, guarantees: Value, limits: Value) -> Value {
    json!({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
        {"role": role, "guarantees": guarantees, "limits": limits}]}})
}

fn cpus_of(offer: &Value) -> f64 {
    offer["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "cpus")
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

/// The cpus offered on the stream until its second heartbeat (offers made when it
/// subscribed come before the first).
async fn offered_cpus(events: &mut Events) -> f64 {
    let mut cpus = 0.0;
    let mut offered = false;
    let mut heartbeats = 0;
    // Until two heartbeats after the first offers: the window in which any offer past the
    // limit would come. (Counted from the start, a re-offer slowed by a busy machine fell
    // after the window and read as 0.)
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while heartbeats < 2 {
        let e = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("no offers within 30 s")
            .unwrap_or_default();
        heartbeats += usize::from(offered && e["type"] == "HEARTBEAT");
        if e["type"] == "OFFERS" {
            offered = true;
            cpus += e["offers"]["offers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(cpus_of)
                .sum::<f64>();
        }
    }
    cpus
}

#[tokio::test]
async fn a_role_is_never_offered_past_its_limit() {
    let c = start_with(|c| c.agents = 2).await;
    let m = c.master_url();
    let (code, body) = post(
        &format!("{m}/api/v1"),
        &update("capped", json!({}), json!({"cpus": {"value": 1.5}})),
        None,
    )
    .await;
    assert_eq!((code, body.as_str()), (200, ""));
    let (fw, mut events) = Framework::subscribe(&m, role_info("capped", "capped")).await;
    assert_eq!(
        offered_cpus(&mut events).await,
        1.5,
        "two agents of 2 cpus, a 1.5 cpu limit"
    );
    // Using some of it and declining the rest changes nothing: the limit holds.
    let state = get_json(&format!("{m}/master/state")).await;
    let offers: Vec<Value> = state["frameworks"][0]["offers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!offers.is_empty());
    let ids: Vec<Value> = offers.iter().map(|o| json!({"value": o["id"]})).collect();
    let (code, _) = fw
        .call(json!({"type": "DECLINE", "decline": {"offer_ids": ids, "filters": {"refuse_seconds": 0}}}))
        .await;
    assert_eq!(code, 202);
    assert_eq!(offered_cpus(&mut events).await, 1.5);
    // GET_QUOTA and /roles say so.
    let got = operator(&m, json!({"type": "GET_QUOTA"})).await;
    assert_eq!(
        got["get_quota"]["status"]["configs"],
        json!([{"role": "capped", "limits": {"cpus": {"value": 1.5}}}])
    );
    assert_eq!(
        got["get_quota"]["status"]["infos"],
        json!([{"role": "capped"}])
    );
    let roles = get_json(&format!("{m}/master/roles")).await;
    let capped = roles["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == "capped")
        .cloned()
        .unwrap_or_default();
    assert_eq!(capped["quota"]["limit"], json!({"cpus": 1.5}));
    assert_eq!(capped["offered"]["cpus"], 1.5);
    c.shutdown().await;
}

#[tokio::test]
async fn a_guaranteed_role_gets_its_share_first() {
    let c = start_with(|c| c.agents = 2).await;
    let m = c.master_url();
    // `a` holds every agent's resources as offers.
    let (_a, mut a_events) = Framework::subscribe(&m, role_info("a", "a")).await;
    assert_eq!(offered_cpus(&mut a_events).await, 4.0);
    let (_g, mut g_events) = Framework::subscribe(&m, role_info("g", "g")).await;
    // A guarantee for `g`: offers of others are rescinded until it can be met, and the
    // allocator gives `g` its guarantee before anyone else gets more.
    let (code, body) = post(
        &format!("{m}/api/v1"),
        &update("g", json!({"cpus": {"value": 3}}), json!({})),
        None,
    )
    .await;
    assert_eq!((code, body.as_str()), (200, ""));
    let got = offered_cpus(&mut g_events).await;
    assert!(got >= 3.0, "g was offered {got} cpus");
    c.shutdown().await;
}

#[tokio::test]
async fn quota_is_checked_as_mesos_checks_it() {
    let c = start_with(|c| c.agents = 1).await;
    let m = c.master_url();
    let api = format!("{m}/api/v1");
    let (code, body) = post(&api, &json!({"type": "UPDATE_QUOTA"}), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate master::Call: Expecting 'update_quota' to be present"
        )
    );
    let (code, body) = post(&api, &update("eng/dev", json!({}), json!({})), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Updating quota on nested role 'eng/dev' is not supported yet"
        )
    );
    let (code, body) = post(
        &api,
        &update(
            "eng",
            json!({"cpus": {"value": 2}}),
            json!({"cpus": {"value": 1}}),
        ),
        None,
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Invalid QuotaConfig: 'QuotaConfig.guarantees' cpus:2 is not contained within the 'QuotaConfig.limits' cpus:1")
    );
    let (code, body) = post(
        &api,
        &update("eng", json!({"cpus": {"value": 8}}), json!({})),
        None,
    )
    .await;
    assert_eq!(code, 400);
    assert!(body.starts_with("Invalid QuotaConfig: total quota guarantees 'cpus:8' exceed cluster capacity 'cpus:2; disk:4930; mem:496'"), "{body}");
    let mut forced = update("eng", json!({"cpus": {"value": 8}}), json!({}));
    forced["update_quota"]["force"] = json!(true);
    let (code, _) = post(&api, &forced, None).await;
    assert_eq!(code, 200);
    // (An overcommitted guarantee would leave nothing for anyone else.)
    let (code, body) = post(
        &api,
        &json!({"type": "REMOVE_QUOTA", "remove_quota": {"role": "eng"}}),
        None,
    )
    .await;
    assert_eq!((code, body.as_str()), (200, ""));
    // A limit below what the role consumes.
    let (fw, mut events) = Framework::subscribe(&m, role_info("web", "web")).await;
    let offer = events.offer().await;
    let task = command_task("t", &offer["agent_id"], "sleep 30");
    let (code, _) = fw.call(launch(&offer, vec![task])).await;
    assert_eq!(code, 202);
    until_state(&mut events, &fw, "t", "TASK_RUNNING").await;
    let (code, body) = post(
        &api,
        &update("web", json!({}), json!({"cpus": {"value": 0.05}})),
        None,
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Invalid QuotaConfig: Role 'web' is already consuming 'cpus:0.1; mem:32'; this is more than the requested limits 'cpus:0.05' (use 'force' flag to bypass this check)")
    );
    // The older API: SET_QUOTA, REMOVE_QUOTA and /quota.
    let set = json!({"type": "SET_QUOTA", "set_quota": {"quota_request": {
        "role": "ops", "guarantee": [scalar("cpus", 0.5)]}}});
    let (code, body) = post(&api, &set, None).await;
    assert_eq!((code, body.as_str()), (200, ""));
    let (code, body) = post(&api, &set, None).await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Failed to validate set quota request: Cannot set quota for role 'ops' which already has quota")
    );
    let status = get_json(&format!("{m}/master/quota")).await;
    let ops = status["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["role"] == "ops")
        .cloned()
        .unwrap_or_default();
    assert_eq!(ops["guarantees"], json!({"cpus": {"value": 0.5}}));
    assert_eq!(ops["limits"], json!({"cpus": {"value": 0.5}}));
    let delete = |path: &str| {
        let url = format!("{m}{path}");
        async move {
            let resp = authed(client().delete(url))
                .send()
                .await
                .unwrap_or_else(|e| panic!("DELETE: {e}"));
            let code = resp.status().as_u16();
            (code, resp.text().await.unwrap_or_default())
        }
    };
    let (code, body) = delete("/master/quota/ops").await;
    assert_eq!((code, body.as_str()), (200, ""));
    let (code, body) = delete("/master/quota/ops").await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to remove quota for path '/master/quota/ops': Role 'ops' has no quota set"
        )
    );
    let (code, body) = post(
        &api,
        &json!({"type": "REMOVE_QUOTA", "remove_quota": {"role": "eng"}}),
        None,
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Failed to remove quota: Role 'eng' has no quota set")
    );
    let got = operator(&m, json!({"type": "GET_QUOTA"})).await;
    assert_eq!(
        got,
        json!({"type": "GET_QUOTA", "get_quota": {"status": {}}})
    );
    c.shutdown().await;
}
