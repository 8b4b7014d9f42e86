//! Multi-tenancy in cells, against the embedded cluster: a framework session of several
//! roles, a reservation for a role in one line, and LAUNCH on a reserved offer with a
//! persistent volume it makes, whose data a later LAUNCH on the same volume reads.

mod common;

use common::Harness;

#[tokio::test]
async fn reserve_for_a_role_then_launch_with_a_volume_in_one_line_each() {
    let mut h = Harness::new();
    h.ok("agent_id = GET_AGENTS | .get_agents.agents[0].agent_info.id")
        .await;
    h.ok(
        "RESERVE_RESOURCES agent_id=$agent_id resources=[{\"name\": \"cpus\", \"type\": \"SCALAR\", \
         \"scalar\": {\"value\": 1}, \"reservations\": [{\"type\": \"DYNAMIC\", \"role\": \"ops\"}]}, \
         {\"name\": \"disk\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 128}, \"reservations\": \
         [{\"type\": \"DYNAMIC\", \"role\": \"ops\"}]}]",
    )
    .await;
    // roles= makes the framework MULTI_ROLE.
    h.ok("SUBSCRIBE name=tenant user=root roles=[\"ops\", \"web\"]")
        .await;
    h.ok("GET_FRAMEWORKS | .get_frameworks.frameworks[0].framework_info")
        .await;
    let info = h.var("_").unwrap_or_default();
    assert_eq!(info["roles"], serde_json::json!(["ops", "web"]));
    assert!(info.to_string().contains("MULTI_ROLE"), "{info}");
    h.ok("WAIT ($offers | map(select(.allocation_info.role == \"ops\")) | length) > 0 timeout=20s")
        .await;
    // The writer makes the volume from the reserved disk, on the `ops` offer, using the
    // reserved cpu; the reader finds what it wrote.
    h.ok("LAUNCH name=writer role=ops cpus=0.5 volume=data volume_size=64 cmd=\"echo kept > data/note\" wait=FINISHED")
        .await;
    h.ok("GET_TASKS | .get_tasks.completed_tasks[0].resources")
        .await;
    let text = h.var("_").unwrap_or_default().to_string();
    assert!(text.contains("\"persistence\""), "{text}");
    assert!(text.contains("\"role\":\"ops\""), "{text}");
    h.ok("WAIT ($offers | map(select(.resources | map(.disk.persistence.id) | index(\"data\"))) | length) > 0 timeout=20s")
        .await;
    h.ok("LAUNCH name=reader role=ops volume=data cmd=\"test \\\"$(cat data/note)\\\" = kept\" wait=FINISHED")
        .await;
    // A LAUNCH that wants a volume no offer can make says so.
    let e = h
        .err("LAUNCH name=nowhere role=web volume=other cmd=true")
        .await;
    assert_eq!(e.ename, "InvalidCall");
    assert!(e.evalue.contains("volume 'other'"), "{}", e.evalue);
}
