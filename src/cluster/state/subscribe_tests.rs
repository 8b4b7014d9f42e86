//! SUBSCRIBE with a framework id, as Mesos 1.11's master answers it: failover to a new
//! stream, the fields that cannot change, the ids refused, and the ids it does not know.

use super::tests::{events, master};
use super::*;

fn open(m: &mut Master, info: Value) -> (crate::cluster::event_queue::Receiver, Option<String>) {
    let (tx, rx) = crate::cluster::event_queue::channel(usize::MAX);
    let (_stream, fid) = m.subscribe(info, tx, &mut Vec::new());
    (rx, fid)
}

fn closed(rx: &mut crate::cluster::event_queue::Receiver) -> bool {
    matches!(
        rx.try_recv(),
        Err(crate::cluster::event_queue::TryRecvError::Disconnected)
    )
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

#[test]
fn a_known_framework_fails_over_and_the_old_stream_hears_it_and_closes() {
    let mut m = master();
    let (mut first, fid) = open(&mut m, json!({"user": "u", "name": "n"}));
    let fid = fid.unwrap_or_default();
    let offered = events(&mut first);
    assert_eq!(types(&offered), ["SUBSCRIBED", "HEARTBEAT", "OFFERS"]);
    let old_offer = offered[2]["offers"]["offers"][0]["id"].clone();

    let (mut second, again) = open(
        &mut m,
        json!({"user": "u", "name": "n2", "id": {"value": fid}}),
    );
    assert_eq!(again.as_deref(), Some(fid.as_str()));
    assert_eq!(
        events(&mut first),
        [json!({"type": "ERROR", "error": {"message": "Framework failed over"}})]
    );
    assert!(closed(&mut first), "the old stream stays open");
    // The old connection's offer was discarded without RESCIND and offered again.
    let now = events(&mut second);
    assert_eq!(types(&now), ["SUBSCRIBED", "HEARTBEAT", "OFFERS"]);
    assert_eq!(now[0]["subscribed"]["framework_id"]["value"], fid);
    let new_offer = &now[2]["offers"]["offers"][0];
    assert_ne!(new_offer["id"], old_offer);
    assert!(m.offers.iter().all(|o| json!({"value": o.id}) != old_offer));
    let f = m
        .framework(&fid)
        .map(|f| (f.connected(), f.info["name"].clone()));
    assert_eq!(f, Some((true, json!("n2"))));
}

#[test]
fn user_and_checkpoint_are_kept_and_a_new_principal_is_refused() {
    let mut m = master();
    let (_first, fid) = open(
        &mut m,
        json!({"user": "u", "name": "n", "checkpoint": true, "principal": "p"}),
    );
    let fid = fid.unwrap_or_default();
    let (mut other, refused) = open(
        &mut m,
        json!({"user": "u", "name": "n", "principal": "q", "id": {"value": fid}}),
    );
    assert_eq!(refused, None);
    assert_eq!(
        events(&mut other),
        [
            json!({"type": "ERROR", "error": {"message": "Changing framework's principal is not allowed."}})
        ]
    );
    assert!(closed(&mut other));
    let (_second, again) = open(
        &mut m,
        json!({"user": "someone", "name": "n", "principal": "p", "id": {"value": fid}}),
    );
    assert_eq!(again.as_deref(), Some(fid.as_str()));
    let info = m
        .framework(&fid)
        .map(|f| f.info.clone())
        .unwrap_or_default();
    assert_eq!(
        (&info["user"], &info["checkpoint"]),
        (&json!("u"), &json!(true))
    );
}

#[test]
fn invalid_and_removed_ids_are_refused_with_mesos_messages() {
    let mut m = master();
    let long = "x".repeat(256);
    for (id, message) in [
        ("a/b", "'a/b' contains invalid characters"),
        ("..", "'..' is disallowed"),
        (long.as_str(), "ID must not be greater than 255 characters"),
    ] {
        let (mut rx, fid) = open(
            &mut m,
            json!({"user": "u", "name": "n", "id": {"value": id}}),
        );
        assert_eq!(fid, None, "{id}");
        assert_eq!(
            events(&mut rx),
            [json!({"type": "ERROR", "error": {"message": message}})]
        );
        assert!(closed(&mut rx));
    }
    let (_rx, fid) = open(&mut m, json!({"user": "u", "name": "n"}));
    let fid = fid.unwrap_or_default();
    assert!(m.remove_framework(&fid, &mut Vec::new()));
    let (mut rx, again) = open(
        &mut m,
        json!({"user": "u", "name": "n", "id": {"value": fid}}),
    );
    assert_eq!(again, None);
    assert_eq!(
        events(&mut rx)[0]["error"]["message"],
        "Framework has been removed"
    );
}

#[test]
fn an_unknown_id_is_a_framework_not_recovered_yet_and_an_empty_one_is_new() {
    let mut m = master();
    // Mesos keeps no record of the frameworks it admitted: an id it does not know may
    // be one that ran before a master failover, and is accepted as such, with no tasks.
    let (mut rx, fid) = open(
        &mut m,
        json!({"user": "u", "name": "n", "id": {"value": "before-the-failover-0001"}}),
    );
    assert_eq!(fid.as_deref(), Some("before-the-failover-0001"));
    assert_eq!(events(&mut rx)[0]["type"], "SUBSCRIBED");
    let f = m.framework("before-the-failover-0001");
    // As Mesos's recovered frameworks, it (re)registered now (`Master::_reregister...`).
    assert!(f.is_some_and(|f| f.tasks.is_empty() && f.reregistered_time == f.registered_time));
    // An empty id is no id: a new framework with a fresh one.
    let (_rx, fresh) = open(
        &mut m,
        json!({"user": "u", "name": "n", "id": {"value": ""}}),
    );
    let fresh = fresh.unwrap_or_default();
    assert!(fresh.ends_with("-0000"), "{fresh}");
}
