//! Persistent volumes over HTTP, as Mesos 1.11 makes them: created on reserved disk by an
//! operator (CREATE_VOLUMES, `/create-volumes`) or a framework (ACCEPT's CREATE), a real
//! directory of the agent linked into each task's sandbox at its container path, so that
//! what one task writes the next one reads; grown and shrunk; refused while in use;
//! destroyed with its directory.

mod cluster_support;

use cluster_support::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn ops() -> Value {
    json!([{"type": "DYNAMIC", "role": "ops", "principal": "admin"}])
}

fn disk(v: f64) -> Value {
    json!({"name": "disk", "type": "SCALAR", "scalar": {"value": v}, "reservations": ops()})
}

fn volume(v: f64, id: &str) -> Value {
    let mut d = disk(v);
    d["disk"] = json!({"persistence": {"id": id, "principal": "admin"},
                       "volume": {"mode": "RW", "container_path": "data"}});
    d
}

async fn agent_id(m: &str) -> String {
    let agents = operator(m, json!({"type": "GET_AGENTS"})).await;
    agents["get_agents"]["agents"][0]["agent_info"]["id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn call(m: &str, body: Value) -> (u16, String) {
    post(&format!("{m}/api/v1"), &body, None).await
}

fn volume_dir(c: &mesos_kernel::cluster::Cluster, agent: &str, id: &str) -> PathBuf {
    c.work_dir()
        .join("slaves")
        .join(agent)
        .join("volumes/roles/ops")
        .join(id)
}

/// The next offer with the volume in it (declining others at once).
async fn offer_with_volume(fw: &Framework, events: &mut Events, id: &str) -> Value {
    loop {
        let o = events.offer().await;
        let has = o["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["disk"]["persistence"]["id"] == id);
        if has {
            return o;
        }
        let (code, _) = fw
            .call(
                json!({"type": "DECLINE", "decline": {"offer_ids": [o["id"]],
                "filters": {"refuse_seconds": 0}}}),
            )
            .await;
        assert_eq!(code, 202);
    }
}

fn task_on(offer: &Value, id: &str, cmd: &str, vol: &Value) -> Value {
    let mut t = command_task(id, &offer["agent_id"], cmd);
    t["resources"] = json!([scalar("cpus", 0.1), scalar("mem", 32.0), vol]);
    t
}

async fn until_gone(path: &std::path::Path) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if !path.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn what_one_task_writes_on_a_volume_the_next_one_reads() {
    let c = start().await;
    let m = c.master_url();
    let agent = agent_id(&m).await;
    let (code, body) = call(
        &m,
        json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": agent}, "resources": [disk(100.0)]}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (202, ""));
    let (code, body) = call(
        &m,
        json!({"type": "CREATE_VOLUMES", "create_volumes": {
        "agent_id": {"value": agent}, "volumes": [volume(100.0, "data")]}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (202, ""));
    let dir = volume_dir(&c, &agent, "data");
    assert!(dir.is_dir(), "{} was not made", dir.display());
    // The same id again is refused.
    let (code, body) = call(
        &m,
        json!({"type": "CREATE_VOLUMES", "create_volumes": {
        "agent_id": {"value": agent}, "volumes": [volume(100.0, "data")]}}),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        body.ends_with("Persistence ID 'data' is not unique"),
        "{body}"
    );

    let info = json!({"user": "tester", "name": "db", "role": "ops"});
    let (fw, mut events) = Framework::subscribe(&m, info).await;
    let offer = offer_with_volume(&fw, &mut events, "data").await;
    let vol = offer["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["disk"]["persistence"]["id"] == "data")
        .cloned()
        .unwrap_or_default();
    assert_eq!(vol["disk"]["volume"]["container_path"], "data");
    assert_eq!(vol["allocation_info"]["role"], "ops");
    let writer = task_on(&offer, "writer", "echo kept > data/note && sleep 0.3", &vol);
    let (code, body) = fw.call(launch(&offer, vec![writer])).await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, "writer", "TASK_RUNNING").await;
    // In use: it cannot be destroyed.
    let (code, body) = call(
        &m,
        json!({"type": "DESTROY_VOLUMES", "destroy_volumes": {
        "agent_id": {"value": agent}, "volumes": [volume(100.0, "data")]}}),
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Invalid DESTROY operation: Persistent volumes in use")
    );
    until_state(&mut events, &fw, "writer", "TASK_FINISHED").await;
    assert_eq!(
        std::fs::read_to_string(dir.join("note")).unwrap_or_default(),
        "kept\n"
    );
    // A later task on the same volume reads what the first wrote.
    let offer = offer_with_volume(&fw, &mut events, "data").await;
    let reader = task_on(&offer, "reader", "test \"$(cat data/note)\" = kept", &vol);
    let (code, body) = fw.call(launch(&offer, vec![reader])).await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, "reader", "TASK_FINISHED").await;
    // Destroyed (its offer rescinded), the directory goes; the disk is reserved again.
    let (code, body) = call(
        &m,
        json!({"type": "DESTROY_VOLUMES", "destroy_volumes": {
        "agent_id": {"value": agent}, "volumes": [volume(100.0, "data")]}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (202, ""));
    assert!(until_gone(&dir).await, "{} was not deleted", dir.display());
    let (code, body) = call(
        &m,
        json!({"type": "DESTROY_VOLUMES", "destroy_volumes": {
        "agent_id": {"value": agent}, "volumes": [volume(100.0, "data")]}}),
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Invalid DESTROY operation: Persistent volumes not found"
        )
    );
    let slaves = get_json(&format!("{m}/master/slaves")).await;
    assert_eq!(
        slaves["slaves"][0]["reserved_resources"]["ops"]["disk"],
        100.0
    );
    c.shutdown().await;
}

#[tokio::test]
async fn a_framework_creates_uses_and_destroys_a_volume_in_its_accepts() {
    let c = start().await;
    let m = c.master_url();
    let info = json!({"user": "tester", "name": "db", "role": "ops", "principal": "admin"});
    let (fw, mut events) = Framework::subscribe(&m, info).await;
    let offer = events.offer().await;
    let with_alloc = |mut r: Value| {
        r["allocation_info"] = json!({"role": "ops"});
        r
    };
    let vol = with_alloc(volume(64.0, "fw-data"));
    let t = task_on(&offer, "first", "echo one > data/x", &vol);
    let (code, body) = fw
        .call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]], "operations": [
            {"type": "RESERVE", "reserve": {"resources": [with_alloc(disk(64.0))]}},
            {"type": "CREATE", "create": {"volumes": [vol.clone()]}},
            {"type": "LAUNCH", "launch": {"task_infos": [t]}}],
            "filters": {"refuse_seconds": 0}}}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, "first", "TASK_FINISHED").await;
    let agent = offer["agent_id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let dir = volume_dir(&c, &agent, "fw-data");
    assert_eq!(
        std::fs::read_to_string(dir.join("x")).unwrap_or_default(),
        "one\n"
    );
    // The volume is in the agent's resources and in GET_AGENTS.
    let agents = operator(&m, json!({"type": "GET_AGENTS"})).await;
    let total = agents["get_agents"]["agents"][0]["total_resources"].clone();
    let has = total
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["disk"]["persistence"]["id"] == "fw-data");
    assert!(has, "{total}");
    // DESTROY and UNRESERVE in one ACCEPT give the disk back unreserved.
    let offer = offer_with_volume(&fw, &mut events, "fw-data").await;
    let (code, body) = fw
        .call(
            json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]], "operations": [
            {"type": "DESTROY", "destroy": {"volumes": [vol]}},
            {"type": "UNRESERVE", "unreserve": {"resources": [with_alloc(disk(64.0))]}}],
            "filters": {"refuse_seconds": 0}}}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    assert!(until_gone(&dir).await);
    let slaves = get_json(&format!("{m}/master/slaves")).await;
    assert_eq!(slaves["slaves"][0]["reserved_resources"], json!({}));
    c.shutdown().await;
}

#[tokio::test]
async fn volumes_grow_and_shrink_and_the_legacy_endpoints() {
    let c = start().await;
    let m = c.master_url();
    let agent = agent_id(&m).await;
    let (code, _) = call(
        &m,
        json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": agent}, "resources": [disk(200.0)]}}),
    )
    .await;
    assert_eq!(code, 202);
    let form = format!(
        "slaveId={agent}&volumes={}",
        form_urlencoded::byte_serialize(json!([volume(100.0, "v")]).to_string().as_bytes())
            .collect::<String>()
    );
    let resp = authed(client().post(format!("{m}/master/create-volumes")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("create-volumes: {e}"));
    assert_eq!(resp.status().as_u16(), 202);
    let (code, body) = call(
        &m,
        json!({"type": "GROW_VOLUME", "grow_volume": {
        "volume": volume(100.0, "v"), "addition": disk(50.0)}}),
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Failed to validate master::Call: Expecting 'agent_id' to be present; only agent default resources are supported right now")
    );
    let (code, body) = call(
        &m,
        json!({"type": "GROW_VOLUME", "grow_volume": {
        "agent_id": {"value": agent}, "volume": volume(100.0, "v"), "addition": disk(50.0)}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (202, ""));
    let (code, body) = call(
        &m,
        json!({"type": "GROW_VOLUME", "grow_volume": {
        "agent_id": {"value": agent}, "volume": volume(150.0, "v"), "addition": disk(500.0)}}),
    )
    .await;
    assert_eq!(code, 409, "{body}");
    let (code, body) = call(
        &m,
        json!({"type": "SHRINK_VOLUME", "shrink_volume": {
        "agent_id": {"value": agent}, "volume": volume(150.0, "v"), "subtract": {"value": 150}}}),
    )
    .await;
    assert_eq!(code, 400);
    assert!(body.ends_with("Value of 'ShrinkVolume.subtract' must be smaller than the size of 'ShrinkVolume.volume'"), "{body}");
    let (code, body) = call(
        &m,
        json!({"type": "SHRINK_VOLUME", "shrink_volume": {
        "agent_id": {"value": agent}, "volume": volume(150.0, "v"), "subtract": {"value": 120}}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (202, ""));
    let slaves = get_json(&format!("{m}/master/slaves")).await;
    let full = slaves["slaves"][0]["reserved_resources_full"]["ops"].clone();
    let v = full
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["disk"]["persistence"]["id"] == "v")
        .cloned()
        .unwrap_or_default();
    assert_eq!(v["scalar"]["value"], 30.0, "{full}");
    let form = format!(
        "slaveId={agent}&volumes={}",
        form_urlencoded::byte_serialize(json!([volume(30.0, "v")]).to_string().as_bytes())
            .collect::<String>()
    );
    let resp = authed(client().post(format!("{m}/master/destroy-volumes")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("destroy-volumes: {e}"));
    assert_eq!(resp.status().as_u16(), 202);
    assert!(until_gone(&volume_dir(&c, &agent, "v")).await);
    c.shutdown().await;
}
