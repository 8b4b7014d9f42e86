//! Mesos's message defaults in the JSON a framework sent, as Mesos writes them back: stout's
//! `JSON::Protobuf` writes every optional field with an explicit `[default = ...]` in
//! `include/mesos/v1/mesos.proto` (unless deprecated) even when it was not set, so a
//! TaskInfo echoed in a Task carries `docker.network: "HOST"`, `health_check.delay_seconds`
//! and the like. Only messages that are present get their defaults.

use serde_json::{json, Map, Value};

fn fill(o: &mut Map<String, Value>, defaults: &[(&str, Value)]) {
    for (k, v) in defaults {
        o.entry(k.to_string()).or_insert_with(|| v.clone());
    }
}

fn each_object(v: Option<&mut Value>) -> impl Iterator<Item = &mut Map<String, Value>> {
    v.and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// FrameworkInfo: `failover_timeout`, `checkpoint`.
pub fn framework_info(info: &mut Value) {
    if let Some(o) = info.as_object_mut() {
        fill(
            o,
            &[
                ("failover_timeout", json!(0.0)),
                ("checkpoint", json!(false)),
            ],
        );
    }
}

/// CommandInfo: `shell`, each URI's `extract`, each variable's `type`.
fn command(c: &mut Value) {
    let Some(o) = c.as_object_mut() else {
        return;
    };
    fill(o, &[("shell", json!(true))]);
    for uri in each_object(o.get_mut("uris")) {
        fill(uri, &[("extract", json!(true))]);
    }
    if let Some(env) = o.get_mut("environment") {
        for var in each_object(env.get_mut("variables")) {
            fill(var, &[("type", json!("VALUE"))]);
        }
    }
}

/// NetworkInfo: each address's `protocol`.
fn network_infos(list: Option<&mut Value>) {
    for n in each_object(list) {
        for ip in each_object(n.get_mut("ip_addresses")) {
            fill(ip, &[("protocol", json!("IPv4"))]);
        }
    }
}

/// ContainerInfo: Docker's `network` and `privileged`, an image's `cached`, Linux's
/// `share_cgroups`, the networks' address protocols.
fn container(c: &mut Value) {
    let Some(o) = c.as_object_mut() else {
        return;
    };
    if let Some(d) = o.get_mut("docker").and_then(Value::as_object_mut) {
        fill(
            d,
            &[("network", json!("HOST")), ("privileged", json!(false))],
        );
    }
    if let Some(image) = o
        .get_mut("mesos")
        .and_then(|m| m.get_mut("image"))
        .and_then(Value::as_object_mut)
    {
        fill(image, &[("cached", json!(true))]);
    }
    if let Some(l) = o.get_mut("linux_info").and_then(Value::as_object_mut) {
        fill(l, &[("share_cgroups", json!(true))]);
    }
    network_infos(o.get_mut("network_infos"));
}

/// HealthCheck: its timings and the protocol of an HTTP or TCP check.
fn health_check(h: &mut Value) {
    let Some(o) = h.as_object_mut() else {
        return;
    };
    fill(
        o,
        &[
            ("delay_seconds", json!(15.0)),
            ("interval_seconds", json!(10.0)),
            ("timeout_seconds", json!(20.0)),
            ("consecutive_failures", json!(3)),
            ("grace_period_seconds", json!(10.0)),
        ],
    );
    for kind in ["http", "tcp"] {
        if let Some(check) = o.get_mut(kind).and_then(Value::as_object_mut) {
            fill(check, &[("protocol", json!("IPv4"))]);
        }
    }
    if let Some(c) = o.get_mut("command") {
        command(c);
    }
}

/// CheckInfo: its timings.
fn check(c: &mut Value) {
    if let Some(o) = c.as_object_mut() {
        fill(
            o,
            &[
                ("delay_seconds", json!(15.0)),
                ("interval_seconds", json!(10.0)),
                ("timeout_seconds", json!(20.0)),
            ],
        );
    }
}

/// ExecutorInfo: its command and container.
pub fn executor_info(e: &mut Value) {
    if let Some(c) = e.get_mut("command") {
        command(c);
    }
    if let Some(c) = e.get_mut("container") {
        container(c);
    }
}

/// TaskInfo: its command, container, health check, check and executor.
pub fn task_info(t: &mut Value) {
    if let Some(c) = t.get_mut("command") {
        command(c);
    }
    if let Some(c) = t.get_mut("container") {
        container(c);
    }
    if let Some(h) = t.get_mut("health_check") {
        health_check(h);
    }
    if let Some(c) = t.get_mut("check") {
        check(c);
    }
    if let Some(e) = t.get_mut("executor") {
        executor_info(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_present_messages_only() {
        let mut t = json!({
            "command": {"value": "x", "uris": [{"value": "http://a/b"}]},
            "container": {"type": "DOCKER", "docker": {"image": "nginx"},
                          "network_infos": [{"ip_addresses": [{}]}]},
            "health_check": {"type": "HTTP", "http": {"port": 80}}
        });
        task_info(&mut t);
        assert_eq!(t["command"]["shell"], true);
        assert_eq!(t["command"]["uris"][0]["extract"], true);
        assert_eq!(t["container"]["docker"]["network"], "HOST");
        assert_eq!(t["container"]["docker"]["privileged"], false);
        assert_eq!(
            t["container"]["network_infos"][0]["ip_addresses"][0]["protocol"],
            "IPv4"
        );
        assert_eq!(t["health_check"]["consecutive_failures"], 3);
        assert_eq!(t["health_check"]["http"]["protocol"], "IPv4");
        assert!(t.get("check").is_none());
        assert!(t["container"].get("mesos").is_none());
        let mut t = json!({"command": {"shell": false, "value": "y"}});
        task_info(&mut t);
        assert_eq!(t["command"]["shell"], false, "a value given stays");
        let mut f = json!({"user": "u", "name": "n"});
        framework_info(&mut f);
        assert_eq!(f["checkpoint"], false);
        assert_eq!(f["failover_timeout"], 0.0);
    }
}
