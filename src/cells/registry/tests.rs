//! Tests for the call registry and the call builder.

use super::*;
use serde_json::json;
use std::collections::HashSet;

fn args(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

fn build(api: Api, name: &str, pairs: &[(&str, Value)]) -> Result<Value, BuildError> {
    let spec = lookup(api, name).unwrap_or_else(|| panic!("{name} missing"));
    build_call(spec, &args(pairs))
}

#[test]
fn names_unique_within_each_api() {
    let mut seen = HashSet::new();
    for c in calls() {
        assert!(
            seen.insert((c.api, c.name)),
            "duplicate {:?} {}",
            c.api,
            c.name
        );
    }
}

#[test]
fn names_are_upper_snake_case() {
    for c in calls() {
        assert!(
            !c.name.is_empty() && c.name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
            "bad name {}",
            c.name
        );
    }
}

#[test]
fn field_names_and_paths_are_valid() {
    let snake = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    for c in calls() {
        let mut names = HashSet::new();
        let mut paths = HashSet::new();
        for f in c.fields {
            assert!(snake(f.name), "{}: bad key {}", c.name, f.name);
            assert!(names.insert(f.name), "{}: duplicate key {}", c.name, f.name);
            assert!(!f.path.is_empty(), "{}.{}: empty path", c.name, f.name);
            for seg in f.path.split('.') {
                assert!(snake(seg), "{}.{}: bad path {}", c.name, f.name, f.path);
            }
            assert!(
                paths.insert(f.path),
                "{}: duplicate path {}",
                c.name,
                f.path
            );
            assert!(!f.doc.is_empty(), "{}.{}: no doc", c.name, f.name);
            if c.api == Api::Helper {
                assert_eq!(f.name, f.path);
            }
        }
        // No path may be a prefix of another: values would overwrite each other.
        for a in c.fields {
            for b in c.fields {
                if a.name != b.name {
                    assert!(
                        !b.path.starts_with(&format!("{}.", a.path)),
                        "{}: {} shadows {}",
                        c.name,
                        a.path,
                        b.path
                    );
                }
            }
        }
    }
}

#[test]
fn every_call_documented() {
    for c in calls() {
        assert!(
            !c.summary.is_empty() && !c.summary.contains('\n'),
            "{}",
            c.name
        );
        assert!(!c.doc.is_empty(), "{}", c.name);
        assert!(!c.response.is_empty(), "{}", c.name);
        assert!(
            c.example.contains(c.name),
            "{}: example {}",
            c.name,
            c.example
        );
        assert!(!c.example.contains('\n'), "{}", c.name);
    }
}

/// Mesos's call names of an API, from the vocabulary (UNKNOWN aside).
fn mesos_calls(api: Api) -> Vec<String> {
    use crate::mesos::v1::operator::{agent, master};
    use crate::mesos::v1::scheduler;
    let names: Vec<&str> = match api {
        Api::Scheduler => scheduler::CallType::ALL
            .iter()
            .map(|c| c.as_str())
            .collect(),
        Api::Master => master::CallType::ALL.iter().map(|c| c.as_str()).collect(),
        Api::Agent => agent::CallType::ALL.iter().map(|c| c.as_str()).collect(),
        Api::Helper => Vec::new(),
    };
    names
        .into_iter()
        .filter(|n| *n != "UNKNOWN")
        .map(str::to_string)
        .collect()
}

#[test]
fn coverage_of_each_api() {
    // Every call Mesos has is here, but the deprecated quota calls that UPDATE_QUOTA
    // replaced; and every call here is Mesos's.
    let left_out = ["SET_QUOTA", "REMOVE_QUOTA"];
    for api in [Api::Scheduler, Api::Master, Api::Agent] {
        let mesos = mesos_calls(api);
        for n in mesos.iter().filter(|n| !left_out.contains(&n.as_str())) {
            assert!(lookup(api, n).is_some(), "{api} {n}");
        }
        for c in calls().iter().filter(|c| c.api == api) {
            assert!(
                mesos.iter().any(|n| n == c.name),
                "{api} {} is not Mesos's",
                c.name
            );
        }
    }
    for n in [
        "PRINT",
        "EPRINT",
        "ASSERT",
        "WAIT",
        "OFFERS",
        "LAUNCH",
        "TASKS",
        "EVENTS",
        "LOGS",
        "RESOURCES",
        "EXEC",
    ] {
        assert!(lookup(Api::Helper, n).is_some(), "{n}");
    }
}

#[test]
fn lookup_is_case_insensitive_and_lookup_all_spans_apis() {
    assert_eq!(
        lookup(Api::Master, "get_state").map(|c| c.name),
        Some("GET_STATE")
    );
    assert!(lookup(Api::Scheduler, "GET_STATE").is_none());
    let apis: Vec<Api> = lookup_all("GET_STATE").iter().map(|c| c.api).collect();
    assert_eq!(apis, vec![Api::Master, Api::Agent]);
    let apis: Vec<Api> = lookup_all("subscribe").iter().map(|c| c.api).collect();
    assert_eq!(apis, vec![Api::Scheduler, Api::Master]);
    let apis: Vec<Api> = lookup_all("TEARDOWN").iter().map(|c| c.api).collect();
    assert_eq!(apis, vec![Api::Scheduler, Api::Master]);
    assert!(lookup_all("NOPE").is_empty());
}

#[test]
fn names_sorted_unique() {
    let n = names();
    let mut sorted = n.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(n, sorted);
    assert!(n.contains(&"GET_STATE") && n.contains(&"LAUNCH"));
}

#[test]
fn build_subscribe_with_roles_and_capabilities() {
    let got = build(
        Api::Scheduler,
        "SUBSCRIBE",
        &[
            ("name", json!("Demo")),
            ("user", json!("ubuntu")),
            ("roles", json!(["*"])),
            ("failover_timeout", json!(3600)),
            ("checkpoint", json!(true)),
            ("capabilities", json!(["multi_role", "PARTITION_AWARE"])),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "name": "Demo", "user": "ubuntu", "roles": ["*"], "failover_timeout": 3600.0,
            "checkpoint": true,
            "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}]}}})
    );
}

#[test]
fn build_subscribe_resubscribe_and_explicit_framework_id() {
    let got = build(
        Api::Scheduler,
        "SUBSCRIBE",
        &[
            ("name", json!("Demo")),
            ("user", json!("root")),
            ("id", json!("abc-0001")),
            ("framework_id", json!("abc-0001")),
            ("failover_timeout", json!("1h")),
            ("capabilities", json!("task_killing_state")),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "SUBSCRIBE", "framework_id": {"value": "abc-0001"},
               "subscribe": {"framework_info": {"name": "Demo", "user": "root",
               "id": {"value": "abc-0001"}, "failover_timeout": 3600.0,
               "capabilities": [{"type": "TASK_KILLING_STATE"}]}}})
    );
}

#[test]
fn build_subscribe_missing_user() {
    let err = build(Api::Scheduler, "SUBSCRIBE", &[("name", json!("Demo"))]).unwrap_err();
    assert!(matches!(
        err,
        BuildError::MissingField { field: "user", .. }
    ));
    assert!(err.to_string().contains("user="), "{err}");
}

#[test]
fn build_read_file() {
    let got = build(
        Api::Agent,
        "READ_FILE",
        &[
            ("path", json!("/var/log/x")),
            ("offset", json!(0)),
            ("length", json!(4096)),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "READ_FILE", "read_file": {"path": "/var/log/x", "offset": 0, "length": 4096}})
    );
    // Integers given as text are accepted; fractions are not.
    let got = build(
        Api::Master,
        "READ_FILE",
        &[("path", json!("/f")), ("offset", json!("10"))],
    )
    .unwrap();
    assert_eq!(got["read_file"]["offset"], json!(10));
    let err = build(
        Api::Master,
        "READ_FILE",
        &[("path", json!("/f")), ("offset", json!(1.5))],
    )
    .unwrap_err();
    assert!(matches!(err, BuildError::WrongType { .. }), "{err}");
}

#[test]
fn build_get_metrics() {
    let got = build(Api::Master, "GET_METRICS", &[("timeout", json!("5s"))]).unwrap();
    assert_eq!(
        got,
        json!({"type": "GET_METRICS", "get_metrics": {"timeout": {"nanoseconds": 5_000_000_000_i64}}})
    );
    // Mesos requires the sub-message even when empty.
    let got = build(Api::Agent, "GET_METRICS", &[]).unwrap();
    assert_eq!(got, json!({"type": "GET_METRICS", "get_metrics": {}}));
    let got = build(Api::Master, "GET_METRICS", &[("timeout", json!(0.25))]).unwrap();
    assert_eq!(
        got["get_metrics"]["timeout"],
        json!({"nanoseconds": 250_000_000})
    );
    let err = build(
        Api::Master,
        "GET_METRICS",
        &[("timeout", json!("5 parsecs"))],
    )
    .unwrap_err();
    assert!(err.to_string().contains("duration"), "{err}");
}

#[test]
fn build_no_body_calls() {
    assert_eq!(
        build(Api::Master, "GET_HEALTH", &[]).unwrap(),
        json!({"type": "GET_HEALTH"})
    );
    assert_eq!(
        build(Api::Agent, "GET_STATE", &[]).unwrap(),
        json!({"type": "GET_STATE"})
    );
    assert_eq!(
        build(Api::Scheduler, "REVIVE", &[]).unwrap(),
        json!({"type": "REVIVE"})
    );
    assert_eq!(
        build(Api::Scheduler, "REVIVE", &[("roles", json!("web"))]).unwrap(),
        json!({"type": "REVIVE", "revive": {"roles": ["web"]}})
    );
    assert_eq!(
        build(Api::Scheduler, "TEARDOWN", &[]).unwrap(),
        json!({"type": "TEARDOWN"})
    );
    assert_eq!(
        build(Api::Scheduler, "RECONCILE", &[]).unwrap(),
        json!({"type": "RECONCILE", "reconcile": {}})
    );
}

#[test]
fn build_kill() {
    let got = build(
        Api::Scheduler,
        "KILL",
        &[
            ("task_id", json!("web")),
            ("agent_id", json!({"value": "X-S0"})),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "KILL", "kill": {"task_id": {"value": "web"}, "agent_id": {"value": "X-S0"}}})
    );
    let got = build(
        Api::Scheduler,
        "KILL",
        &[("task_id", json!("web")), ("grace_period", json!("2s"))],
    )
    .unwrap();
    assert_eq!(
        got["kill"]["kill_policy"],
        json!({"grace_period": {"nanoseconds": 2_000_000_000_i64}})
    );
    let err = build(Api::Scheduler, "KILL", &[("task_id", json!([1, 2]))]).unwrap_err();
    assert!(matches!(err, BuildError::WrongType { .. }));
}

#[test]
fn build_decline_and_accept() {
    let got = build(
        Api::Scheduler,
        "DECLINE",
        &[
            ("offer_ids", json!("M-O1")),
            ("refuse_seconds", json!("30s")),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "DECLINE", "decline": {"offer_ids": [{"value": "M-O1"}],
               "filters": {"refuse_seconds": 30.0}}})
    );
    let ops = json!([{"type": "LAUNCH", "launch": {"task_infos": []}}]);
    let got = build(
        Api::Scheduler,
        "ACCEPT",
        &[
            ("offer_ids", json!([{"value": "M-O1"}, "M-O2"])),
            ("operations", ops.clone()),
            ("refuse_seconds", json!(5)),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "ACCEPT", "accept": {"offer_ids": [{"value": "M-O1"}, {"value": "M-O2"}],
               "operations": ops, "filters": {"refuse_seconds": 5.0}}})
    );
}

#[test]
fn build_message_base64() {
    let got = build(
        Api::Scheduler,
        "MESSAGE",
        &[
            ("agent_id", json!("A")),
            ("executor_id", json!("E")),
            ("data", json!("hello")),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "MESSAGE", "message": {"agent_id": {"value": "A"},
               "executor_id": {"value": "E"}, "data": "aGVsbG8="}})
    );
}

#[test]
fn build_acknowledge() {
    let got = build(
        Api::Scheduler,
        "ACKNOWLEDGE",
        &[
            ("agent_id", json!("A")),
            ("task_id", json!("t")),
            ("uuid", json!("3q2+7w==")),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": "A"},
               "task_id": {"value": "t"}, "uuid": "3q2+7w=="}})
    );
}

#[test]
fn build_operator_teardown() {
    let got = build(
        Api::Master,
        "TEARDOWN",
        &[("framework_id", json!("M-0000"))],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "M-0000"}}})
    );
    let err = build(Api::Master, "TEARDOWN", &[]).unwrap_err();
    assert!(matches!(
        err,
        BuildError::MissingField {
            field: "framework_id",
            ..
        }
    ));
}

#[test]
fn build_drain_agent_and_logging() {
    let got = build(
        Api::Master,
        "DRAIN_AGENT",
        &[
            ("agent_id", json!("S0")),
            ("max_grace_period", json!("10m")),
            ("mark_gone", json!("false")),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": "S0"},
               "max_grace_period": {"seconds": 600}, "mark_gone": false}})
    );
    let got = build(
        Api::Agent,
        "SET_LOGGING_LEVEL",
        &[("level", json!(1)), ("duration", json!("1m30s"))],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "SET_LOGGING_LEVEL", "set_logging_level": {"level": 1,
               "duration": {"nanoseconds": 90_000_000_000_i64}}})
    );
}

#[test]
fn build_agent_containers() {
    assert_eq!(
        build(Api::Agent, "GET_CONTAINERS", &[]).unwrap(),
        json!({"type": "GET_CONTAINERS"})
    );
    assert_eq!(
        build(
            Api::Agent,
            "GET_CONTAINERS",
            &[("show_nested", json!(true))]
        )
        .unwrap(),
        json!({"type": "GET_CONTAINERS", "get_containers": {"show_nested": true}})
    );
    let cid = json!({"value": "c2", "parent": {"value": "c1"}});
    assert_eq!(
        build(
            Api::Agent,
            "KILL_CONTAINER",
            &[("container_id", cid.clone()), ("signal", json!(15))]
        )
        .unwrap(),
        json!({"type": "KILL_CONTAINER", "kill_container": {"container_id": cid, "signal": 15}})
    );
}

#[test]
fn build_update_framework() {
    let got = build(
        Api::Scheduler,
        "UPDATE_FRAMEWORK",
        &[
            ("id", json!("F")),
            ("name", json!("n")),
            ("user", json!("u")),
            ("suppressed_roles", json!(["a"])),
        ],
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"type": "UPDATE_FRAMEWORK", "update_framework": {
            "framework_info": {"id": {"value": "F"}, "name": "n", "user": "u"},
            "suppressed_roles": ["a"]}})
    );
}

#[test]
fn unknown_field_lists_valid_keys() {
    let err = build(Api::Agent, "READ_FILE", &[("pth", json!("/x"))]).unwrap_err();
    match &err {
        BuildError::UnknownField { call, field, valid } => {
            assert_eq!(*call, "READ_FILE");
            assert_eq!(field, "pth");
            assert_eq!(valid, &vec!["path", "offset", "length"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("path, offset, length"), "{msg}");
    assert!(msg.contains("did you mean 'path'"), "{msg}");
    assert_eq!(
        suggest_key("lenght", &["path", "offset", "length"]),
        Some("length")
    );
    assert_eq!(suggest_key("zzz", &["path", "offset", "length"]), None);
    assert!(!msg.contains('\n'));
    // Scheduler calls also take framework_id.
    let err = build(Api::Scheduler, "KILL", &[("task", json!("x"))]).unwrap_err();
    assert!(err.to_string().contains("framework_id"), "{err}");
    // Calls without fields say so.
    let err = build(Api::Master, "GET_HEALTH", &[("x", json!(1))]).unwrap_err();
    assert!(err.to_string().contains("no arguments"), "{err}");
}

#[test]
fn duplicate_and_helper_errors() {
    let err = build(
        Api::Master,
        "LIST_FILES",
        &[("path", json!("/a")), ("path", json!("/b"))],
    )
    .unwrap_err();
    assert!(matches!(err, BuildError::DuplicateField { .. }));
    let err = build(Api::Helper, "PRINT", &[]).unwrap_err();
    assert_eq!(err, BuildError::NotACall { call: "PRINT" });
}

#[test]
fn value_conversions() {
    // Numbers become text for string fields; bare ids from numbers.
    let got = build(Api::Master, "REMOVE_QUOTA", &[("role", json!(7))]).unwrap();
    assert_eq!(got["remove_quota"]["role"], json!("7"));
    let got = build(Api::Master, "MARK_AGENT_GONE", &[("agent_id", json!(3))]).unwrap();
    assert_eq!(got["mark_agent_gone"]["agent_id"], json!({"value": "3"}));
    let err = build(Api::Master, "MARK_AGENT_GONE", &[("agent_id", json!(null))]).unwrap_err();
    assert!(matches!(err, BuildError::WrongType { .. }));
    let err = build(
        Api::Scheduler,
        "SUBSCRIBE",
        &[
            ("name", json!("n")),
            ("user", json!("u")),
            ("checkpoint", json!("maybe")),
        ],
    )
    .unwrap_err();
    assert!(err.to_string().contains("checkpoint="), "{err}");
    let err = build(
        Api::Scheduler,
        "DECLINE",
        &[("offer_ids", json!("O")), ("refuse_seconds", json!(-1))],
    )
    .unwrap_err();
    assert!(matches!(err, BuildError::WrongType { .. }));
}

#[test]
fn suggest_close_names() {
    assert_eq!(suggest("GET_VERSON", 3).first(), Some(&"GET_VERSION"));
    assert_eq!(suggest("GETSTATE", 3).first(), Some(&"GET_STATE"));
    assert_eq!(suggest("get_state", 3).first(), Some(&"GET_STATE"));
    assert_eq!(suggest("KIL", 3).first(), Some(&"KILL"));
    assert!(suggest("SUBSCRIB", 5).contains(&"SUBSCRIBE"));
    assert_eq!(suggest("READFILE", 1), vec!["READ_FILE"]);
    assert!(suggest("VERSION", 5).contains(&"GET_VERSION"));
    assert!(suggest("ZZZZZZZZZZZZ", 5).is_empty());
    assert!(suggest("", 5).is_empty());
    assert_eq!(suggest("GET_", 4).len(), 4);
}

#[test]
fn complete_prefixes() {
    assert_eq!(complete("GET_VER"), vec!["GET_VERSION"]);
    assert_eq!(complete("get_ver"), vec!["GET_VERSION"]);
    let all = complete("");
    assert_eq!(all, names());
    assert!(complete("GET_").iter().all(|n| n.starts_with("GET_")));
    assert!(complete("XYZ").is_empty());
    assert_eq!(
        complete("LAUNCH_N"),
        vec!["LAUNCH_NESTED_CONTAINER", "LAUNCH_NESTED_CONTAINER_SESSION"]
    );
}

#[test]
fn help_text_has_everything() {
    let spec = lookup(Api::Agent, "READ_FILE").unwrap();
    let h = help_text(spec);
    for part in [
        "READ_FILE",
        spec.summary,
        "agent operator API",
        "* path",
        "integer",
        spec.example,
        spec.response,
    ] {
        assert!(h.contains(part), "missing {part:?} in\n{h}");
    }
    let flat = h.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(spec.doc), "doc missing in\n{h}");
    let h = help_text(lookup(Api::Scheduler, "SUBSCRIBE").unwrap());
    assert!(h.contains("framework_info.roles"), "{h}");
    assert!(h.contains("framework_id="), "{h}");
    for c in calls() {
        assert!(!help_text(c).is_empty());
    }
}

#[test]
fn every_call_builds_with_its_required_fields() {
    // Sample values per kind; every call must build from them without error.
    let sample = |k: FieldKind| match k {
        FieldKind::String => json!("x"),
        FieldKind::Integer => json!(1),
        FieldKind::Number => json!(1.5),
        FieldKind::Bool => json!(true),
        FieldKind::Id => json!("id"),
        FieldKind::IdList => json!(["id"]),
        FieldKind::Duration | FieldKind::ProtoDuration => json!("1s"),
        FieldKind::Seconds => json!(2),
        FieldKind::Bytes => json!("b"),
        FieldKind::StringList => json!(["s"]),
        FieldKind::Json => json!({}),
        FieldKind::Capabilities => json!(["MULTI_ROLE"]),
    };
    for c in calls().iter().filter(|c| c.api != Api::Helper) {
        let all: Vec<(String, Value)> = c
            .fields
            .iter()
            .map(|f| (f.name.to_string(), sample(f.kind)))
            .collect();
        let v = build_call(c, &all).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(v["type"], json!(c.name));
        if !c.fields.is_empty() {
            assert!(v.get(c.body_key()).is_some(), "{}", c.name);
        }
        let required: Vec<(String, Value)> = c
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| (f.name.to_string(), sample(f.kind)))
            .collect();
        build_call(c, &required).unwrap_or_else(|e| panic!("{}: {e}", c.name));
    }
}

#[test]
fn streaming_calls() {
    assert!(lookup(Api::Scheduler, "SUBSCRIBE").is_some_and(CallSpec::is_streaming));
    assert!(lookup(Api::Master, "SUBSCRIBE").is_some_and(CallSpec::is_streaming));
    assert!(lookup(Api::Agent, "ATTACH_CONTAINER_OUTPUT").is_some_and(CallSpec::is_streaming));
    assert!(!lookup(Api::Master, "GET_STATE").is_some_and(CallSpec::is_streaming));
    for (api, name) in STREAMING {
        assert!(lookup(*api, name).is_some(), "{name}");
    }
    for (api, name) in OPTIONAL_BODY {
        assert!(lookup(*api, name).is_some(), "{name}");
    }
}

#[test]
fn calls_are_ordered_by_api() {
    let order: Vec<Api> = calls().iter().map(|c| c.api).collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|a| Api::ALL.iter().position(|x| x == a));
    assert_eq!(order, sorted);
    assert_eq!(Api::Agent.to_string(), "agent");
}
