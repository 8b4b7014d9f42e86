//! Operation feedback over HTTP, as Mesos 1.11 gives it for operations on an agent's
//! default resources: an ACCEPT operation with an id gets UPDATE_OPERATION_STATUS
//! (OPERATION_FINISHED, with a uuid) and stays in GET_OPERATIONS until acknowledged;
//! RECONCILE_OPERATIONS answers known and unknown operations; a dropped operation gets
//! OPERATION_ERROR; launches may not carry an id.

mod cluster_support;

use cluster_support::*;
use serde_json::{json, Value};

fn reserved_cpus(v: f64) -> Value {
    json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": v},
           "reservations": [{"type": "DYNAMIC", "role": "ops"}]})
}

async fn accept(fw: &Framework, offer: &Value, ops: Value) {
    let (code, body) = fw
        .call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
            "operations": ops, "filters": {"refuse_seconds": 0}}}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
}

#[tokio::test]
async fn operation_statuses_arrive_are_reconciled_and_acknowledged() {
    let c = start().await;
    let m = c.master_url();
    let info = json!({"user": "tester", "name": "ops", "role": "ops"});
    let (fw, mut events) = Framework::subscribe(&m, info).await;
    let offer = events.offer().await;
    let agent = offer["agent_id"].clone();
    accept(
        &fw,
        &offer,
        json!([{"type": "RESERVE", "id": {"value": "reserve-1"},
                "reserve": {"resources": [reserved_cpus(1.0)]}}]),
    )
    .await;
    let update = events.next_of("UPDATE_OPERATION_STATUS").await;
    let status = update["update_operation_status"]["status"].clone();
    assert_eq!(status["operation_id"]["value"], "reserve-1");
    assert_eq!(status["state"], "OPERATION_FINISHED");
    assert_eq!(status["agent_id"], agent);
    assert_eq!(
        status["converted_resources"][0]["reservations"][0]["role"],
        "ops"
    );
    assert_eq!(
        status["converted_resources"][0]["allocation_info"]["role"],
        "ops"
    );
    let uuid = status["uuid"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!uuid.is_empty(), "{status}");
    // Until acknowledged, the master and the agent list it.
    let ops = operator(&m, json!({"type": "GET_OPERATIONS"})).await;
    let listed = &ops["get_operations"]["operations"][0];
    assert_eq!(listed["info"]["id"]["value"], "reserve-1");
    assert_eq!(listed["latest_status"]["state"], "OPERATION_FINISHED");
    assert_eq!(listed["framework_id"]["value"], fw.id.as_str());
    let agent_url = c.agent_urls()[0].clone();
    let on_agent = operator(&agent_url, json!({"type": "GET_OPERATIONS"})).await;
    assert_eq!(
        on_agent["get_operations"]["operations"][0]["info"]["id"]["value"],
        "reserve-1"
    );
    // Reconciliation: explicit and implicit, the latest status without its uuid.
    let (code, _) = fw
        .call(
            json!({"type": "RECONCILE_OPERATIONS", "reconcile_operations": {"operations": [
            {"operation_id": {"value": "reserve-1"}, "agent_id": agent},
            {"operation_id": {"value": "nope"}, "agent_id": agent},
            {"operation_id": {"value": "nowhere"}}]}}),
        )
        .await;
    assert_eq!(code, 202);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let e = events.next_of("UPDATE_OPERATION_STATUS").await;
        seen.push(e["update_operation_status"]["status"].clone());
    }
    assert_eq!(seen[0]["state"], "OPERATION_FINISHED");
    assert!(seen[0].get("uuid").is_none(), "{}", seen[0]);
    assert_eq!(
        (seen[1]["state"].clone(), seen[1]["message"].clone()),
        (
            json!("OPERATION_UNKNOWN"),
            json!("Reconciliation: Operation is unknown")
        )
    );
    assert_eq!(
        seen[2]["message"],
        "Reconciliation: Operation is unknown and no 'agent_id' was provided"
    );
    // Acknowledged, it is over.
    let ack = json!({"type": "ACKNOWLEDGE_OPERATION_STATUS", "acknowledge_operation_status": {
        "agent_id": agent, "operation_id": {"value": "reserve-1"}, "uuid": uuid}});
    let (code, body) = fw.call(ack).await;
    assert_eq!(code, 202, "{body}");
    let ops = operator(&m, json!({"type": "GET_OPERATIONS"})).await;
    assert_eq!(ops, json!({"type": "GET_OPERATIONS", "get_operations": {}}));
    let metrics = get_json(&format!("{m}/metrics/snapshot")).await;
    assert_eq!(
        metrics["master/messages_operation_status_update_acknowledgement"],
        1.0
    );
    assert_eq!(metrics["master/operations/reserve/finished"], 1.0);
    assert_eq!(metrics["master/operations/finished"], 1.0);
    assert_eq!(metrics["master/operations/total"], 0.0);
    c.shutdown().await;
}

#[tokio::test]
async fn dropped_operations_and_launches_with_ids() {
    let c = start().await;
    let m = c.master_url();
    let info = json!({"user": "tester", "name": "ops", "role": "ops"});
    let (fw, mut events) = Framework::subscribe(&m, info).await;
    let offer = events.offer().await;
    let agent = offer["agent_id"].clone();
    let mut task = command_task("with-id", &agent, "true");
    task["resources"] = json!([scalar("cpus", 0.1), scalar("mem", 32.0)]);
    accept(
        &fw,
        &offer,
        json!([
            {"type": "UNRESERVE", "id": {"value": "bad"}, "unreserve": {"resources": [scalar("cpus", 1.0)]}},
            {"type": "LAUNCH", "id": {"value": "l"}, "launch": {"task_infos": [task]}}]),
    )
    .await;
    // As Mesos's `_accept`: launches with an id are refused first, then the operations
    // are applied (or dropped) in order.
    let update = events.update_for(&fw, "with-id").await;
    let metrics = get_json(&format!("{m}/metrics/snapshot")).await;
    assert_eq!(metrics["master/operations/unreserve/error"], 1.0);
    assert_eq!(update["state"], "TASK_ERROR");
    assert_eq!(
        update["message"],
        "The `id` field cannot be set on LAUNCH operations"
    );
    let e = events.next_of("UPDATE_OPERATION_STATUS").await;
    let status = &e["update_operation_status"]["status"];
    assert_eq!(status["state"], "OPERATION_ERROR");
    assert!(
        status.get("uuid").is_none() && status.get("agent_id").is_none(),
        "{status}"
    );
    assert!(
        status["message"].as_str().is_some_and(|msg| msg
            .starts_with("Resource cpus(allocated: ops):1 is not dynamically reserved; on agent ")),
        "{status}"
    );
    // Mesos's checks of ACKNOWLEDGE_OPERATION_STATUS.
    let uuid = "AAAAAAAAAAAAAAAAAAAAAA==";
    let (code, body) = fw
        .call(
            json!({"type": "ACKNOWLEDGE_OPERATION_STATUS", "acknowledge_operation_status": {
            "operation_id": {"value": "x"}, "uuid": uuid}}),
        )
        .await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'agent_id' to be present"
        )
    );
    let (code, body) = fw
        .call(
            json!({"type": "ACKNOWLEDGE_OPERATION_STATUS", "acknowledge_operation_status": {
            "agent_id": agent, "operation_id": {"value": "x"}, "uuid": "AAAA"}}),
        )
        .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Failed to validate scheduler::Call: Not a valid UUID")
    );
    let (code, body) = fw.call(json!({"type": "RECONCILE_OPERATIONS"})).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'reconcile_operations' to be present"
        )
    );
    c.shutdown().await;
}
