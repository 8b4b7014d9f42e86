//! No failing statement loses a session: every session statement (each scheduler call by
//! name and as JSON, OFFERS, LAUNCH, TASKS, EVENTS, LOGS, KILL, TEARDOWN, operator
//! SUBSCRIBE and UNSUBSCRIBE) is run with bad arguments and against a failing master (one
//! answering 500, one answering 503, one shut down), and after each the framework session
//! (its framework id, stream id, tasks) and the operator stream are as they were. The
//! kernel reaches the embedded cluster through a proxy that fails on demand; streams
//! opened before a failure keep flowing through it, as they would from a master that
//! fails new requests.

mod common;

mod failing_proxy;

use common::Harness;
use failing_proxy::{Mode, Proxy};
use mesos_kernel::cells::registry::{self, Api, CallSpec, FieldKind};
use mesos_kernel::cluster::{self, ClusterConfig};
use serde_json::{json, Value};
use std::time::Duration;

/// A value of the field's kind, for calls that must reach the master.
fn sample(kind: FieldKind, name: &str) -> String {
    match (name, kind) {
        ("task_id", _) => "long".into(),
        (_, FieldKind::Id | FieldKind::String | FieldKind::Bytes) => "x".into(),
        (_, FieldKind::IdList | FieldKind::StringList) => "[\"x\"]".into(),
        (_, FieldKind::Integer | FieldKind::Number | FieldKind::Seconds) => "1".into(),
        (_, FieldKind::Bool) => "true".into(),
        (_, FieldKind::Duration | FieldKind::ProtoDuration) => "1s".into(),
        (_, FieldKind::Json) => "{\"name\": \"x\", \"user\": \"root\"}".into(),
        (_, FieldKind::Capabilities) => "[]".into(),
    }
}

fn scheduler_calls() -> Vec<&'static CallSpec> {
    registry::calls()
        .iter()
        .filter(|c| c.api == Api::Scheduler)
        .collect()
}

/// `NAME key=value ...` with every required field (and SUBSCRIBE's name and user).
fn by_name(spec: &CallSpec) -> String {
    let mut line = spec.name.to_string();
    if spec.name == "SUBSCRIBE" {
        return "SUBSCRIBE name=other user=root".into();
    }
    for f in spec.fields.iter().filter(|f| f.required) {
        line.push_str(&format!(" {}={}", f.name, sample(f.kind, f.name)));
    }
    line
}

/// The same call as JSON, as the registry builds it, naming the session's framework.
fn as_json(spec: &CallSpec) -> String {
    let args: Vec<(String, Value)> = if spec.name == "SUBSCRIBE" {
        vec![
            ("name".into(), json!("other")),
            ("user".into(), json!("root")),
        ]
    } else {
        spec.fields
            .iter()
            .filter(|f| f.required)
            .map(|f| {
                let text = sample(f.kind, f.name);
                let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                (f.name.to_string(), value)
            })
            .collect()
    };
    let body = registry::build_call(spec, &args).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    if spec.name == "SUBSCRIBE" {
        return body.to_string();
    }
    let mut text = body.to_string();
    text.pop();
    format!("{text}, \"framework_id\": $framework_id}}")
}

/// The statements that go to the master (or would, for the helpers), against a failing one.
fn failing_statements() -> Vec<String> {
    let mut out = Vec::new();
    for spec in scheduler_calls() {
        out.push(by_name(spec));
        out.push(as_json(spec));
    }
    for s in [
        "OFFERS",
        "LAUNCH name=again cmd=true",
        "TASKS",
        "TASKS watch",
        "EVENTS last=1",
        "LOGS task=long",
        "KILL task_id=long",
        "TEARDOWN",
        "operator SUBSCRIBE",
        "{\"type\": \"SUBSCRIBE\"}",
    ] {
        out.push(s.to_string());
    }
    out
}

/// Statements with bad arguments: each fails before anything reaches the master, or the
/// master refuses it.
fn bad_statements() -> Vec<String> {
    let mut out = Vec::new();
    for spec in scheduler_calls() {
        out.push(format!("{} bogus_field=1", spec.name));
        out.push(format!(
            "{{\"type\": \"{}\", \"framework_id\": {{\"value\": \"not-this-framework\"}}}}",
            spec.name
        ));
    }
    for s in [
        "OFFERS bogus=1",
        "OFFERS wait=soon",
        "LAUNCH name=x",
        "LAUNCH cmd=true",
        "LAUNCH name=x cmd=true cpus=1000",
        "LAUNCH name=x cmd=true offer=5",
        "LAUNCH name=x cmd=true mem=-1",
        "TASKS bogus",
        "TASKS x=1",
        "EVENTS bogus=1",
        "EVENTS follow=abc",
        "LOGS",
        "LOGS task=nobody",
        "KILL",
        "KILL task_id=nobody",
        "TEARDOWN bogus=1",
        "ACKNOWLEDGE task_id=nobody",
        "operator SUBSCRIBE bogus=1",
        "operator UNSUBSCRIBE bogus=1",
        // Scheduler SUBSCRIBEs the master refuses: an id against Mesos's id rules.
        "SUBSCRIBE name=n user=root id=a/b",
        "{\"type\": \"SUBSCRIBE\", \"subscribe\": {\"framework_info\": {\"user\": \"root\", \"name\": \"n\", \"id\": {\"value\": \"a/b\"}}}, \"framework_id\": {\"value\": \"a/b\"}}",
    ] {
        out.push(s.to_string());
    }
    out
}

/// The parts of `sessions()` a statement must leave as they were; with `exact`, also the
/// operator stream's connection state (a master that went away changes it by itself).
fn identity(sessions: &Value, exact: bool) -> Value {
    let mut op = sessions["operator"].clone();
    if !exact {
        if let Value::Object(o) = &mut op {
            o.remove("status");
            o.remove("master");
        }
    }
    json!({"framework": sessions["framework"], "operator": op})
}

/// Runs each statement and checks the sessions after it; returns how many failed.
async fn run_all(h: &mut Harness, statements: &[String], exact: bool, must_fail: bool) -> usize {
    let mut failed = 0;
    for code in statements {
        let before = identity(&h.engine.sessions(), exact);
        let (result, _) = h.run(code).await;
        if let Err(e) = &result {
            failed += 1;
            assert_ne!(e.ename, "InternalError", "{code}: {}", e.evalue);
        } else if must_fail {
            panic!("{code}: expected an error");
        }
        let after = identity(&h.engine.sessions(), exact);
        assert_eq!(after, before, "{code} changed a session ({result:?})");
    }
    failed
}

#[tokio::test]
async fn no_failing_statement_loses_a_session() {
    let cluster = cluster::start(ClusterConfig {
        agents: 2,
        heartbeat_interval: Duration::from_millis(500),
        seed: Some(11),
        ..ClusterConfig::default()
    })
    .await
    .unwrap();
    let mut proxy = Proxy::start(cluster.master_url()).await;
    let mut h = Harness::new();
    h.ok(&format!(
        "%master {}\nSUBSCRIBE name=survivor user=root failover_timeout=600\nOFFERS wait=20s min=2\nLAUNCH name=long cmd=\"sleep 600\" wait=RUNNING",
        proxy.url()
    ))
    .await;
    h.ok("operator SUBSCRIBE\nWAIT ($operator.tasks | map(select(.state == \"TASK_RUNNING\")) | length) == 1 timeout=20s\nOFFERS wait=20s min=1")
        .await;
    // STARTING and RUNNING acknowledged at the master, so nothing is sent again meanwhile.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        h.ok("m = GET /metrics/snapshot").await;
        if h.var("m").unwrap()["master/valid_status_update_acknowledgements"] == 2.0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "acks not counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let start = h.engine.sessions();
    assert_eq!(start["framework"]["active"], true, "{start}");
    assert_eq!(start["operator"]["status"], "connected", "{start}");

    // Bad arguments, the master answering.
    let bad = bad_statements();
    let failed = run_all(&mut h, &bad, true, true).await;
    assert_eq!(failed, bad.len());

    // A master answering 500 to every new request.
    proxy.set(Mode::Answer(500));
    h.ok("%timeout 2s").await;
    let failing = failing_statements();
    run_all(&mut h, &failing, true, false).await;
    // 503 is retried until %timeout; the statements that send, once each.
    proxy.set(Mode::Answer(503));
    h.ok("%timeout 300ms").await;
    let sending: Vec<String> = failing
        .iter()
        .filter(|s| {
            [
                "SUBSCRIBE name",
                "TEARDOWN",
                "KILL",
                "LAUNCH",
                "LOGS",
                "{\"type\": \"ACCEPT\"",
            ]
            .iter()
            .any(|p| s.starts_with(p))
        })
        .cloned()
        .collect();
    assert!(sending.len() >= 6, "{sending:?}");
    run_all(&mut h, &sending, true, true).await;
    // Opening the operator stream against the failing master fails and opens nothing.
    proxy.set(Mode::Answer(500));
    h.ok("%timeout 2s\noperator UNSUBSCRIBE").await;
    let reopen: Vec<String> = [
        "operator SUBSCRIBE",
        "{\"type\": \"SUBSCRIBE\"}",
        "operator UNSUBSCRIBE",
    ]
    .map(String::from)
    .to_vec();
    run_all(&mut h, &reopen, true, true).await;
    assert_eq!(h.engine.sessions()["operator"], Value::Null);
    proxy.set(Mode::Pass);
    h.ok("operator SUBSCRIBE").await;

    // The master gone: refused connections, the streams broken.
    proxy.shut_down();
    run_all(&mut h, &failing, false, false).await;
    h.ok("operator UNSUBSCRIBE").await;
    run_all(&mut h, &reopen, false, true).await;

    // The master back: the same framework re-subscribes, and ends only when asked.
    proxy.listen().await;
    let old = start["framework"]["stream_id"]
        .as_str()
        .unwrap()
        .to_string();
    h.ok(&format!("WAIT $stream_id != \"{old}\" timeout=30s"))
        .await;
    assert_eq!(
        h.engine.sessions()["framework"]["framework_id"],
        start["framework"]["framework_id"]
    );
    h.ok("operator SUBSCRIBE\nTASKS").await;
    let tasks = h.var("tasks").unwrap();
    assert_eq!(tasks[0]["task_id"]["value"], "long", "{tasks}");
    h.ok("TEARDOWN").await;
    assert_eq!(h.engine.sessions()["framework"], Value::Null);
}

/// The master closes a framework's stream when it tears the framework down, so the session
/// does not reconnect after a TEARDOWN. But a TEARDOWN the master then refuses ends
/// nothing: the session waits for the answer and, refused, reconnects.
#[tokio::test]
async fn a_refused_teardown_while_the_stream_ends_keeps_the_session() {
    let cluster = cluster::start(ClusterConfig {
        agents: 1,
        heartbeat_interval: Duration::from_millis(500),
        seed: Some(12),
        ..ClusterConfig::default()
    })
    .await
    .unwrap();
    let proxy = Proxy::start(cluster.master_url()).await;
    let mut h = Harness::new();
    h.ok(&format!(
        "%master {}\nSUBSCRIBE name=kept user=root failover_timeout=600",
        proxy.url()
    ))
    .await;
    let before = h.engine.sessions()["framework"].clone();
    proxy.set(Mode::Hold(500));
    let meddle = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while proxy.held() == 0 {
            assert!(tokio::time::Instant::now() < deadline, "no TEARDOWN held");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The stream ends while the TEARDOWN waits for its answer; the pause gives the
        // session time to see the end first.
        proxy.end_streams();
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.set(Mode::Pass);
        proxy.release();
    };
    let ((result, _), ()) = tokio::join!(h.run("TEARDOWN"), meddle);
    let e = result.expect_err("the held TEARDOWN was refused");
    assert!(e.evalue.contains("500"), "{}", e.evalue);
    let old = before["stream_id"].as_str().unwrap();
    h.ok(&format!("WAIT $stream_id != \"{old}\" timeout=15s"))
        .await;
    let after = h.engine.sessions()["framework"].clone();
    assert_eq!(after["framework_id"], before["framework_id"]);
    assert_eq!(after["active"], true);
    h.ok("TEARDOWN").await;
}

/// Streams that stay open but fall silent: both sessions' watchdogs give up on them after
/// five heartbeat intervals, say so, and open new streams, keeping the framework's id.
#[tokio::test]
async fn silent_streams_are_given_up_after_missed_heartbeats() {
    let cluster = cluster::start(ClusterConfig {
        agents: 1,
        heartbeat_interval: Duration::from_millis(300),
        seed: Some(13),
        ..ClusterConfig::default()
    })
    .await
    .unwrap();
    let proxy = Proxy::start(cluster.master_url()).await;
    let mut h = Harness::new();
    h.ok(&format!(
        "%master {}\nSUBSCRIBE name=watched user=root failover_timeout=600\noperator SUBSCRIBE",
        proxy.url()
    ))
    .await;
    let before = h.engine.sessions();
    proxy.stall_streams();
    let (result, published) = h
        .run("WAIT $operator.subscriptions == 2 and ($events | map(select(.type == \"SUBSCRIBED\")) | length) == 2 timeout=20s")
        .await;
    assert!(result.is_ok(), "{result:?}");
    let said: String = published
        .iter()
        .filter(|(t, c)| t == "stream" && c["name"] == "stderr")
        .map(|(_, c)| c["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        said.contains("The operator event stream was lost (no heartbeat for 1.5s)"),
        "{said}"
    );
    assert!(
        said.contains("The event stream was lost (no heartbeat for 1.5s)"),
        "{said}"
    );
    let after = h.engine.sessions();
    assert_eq!(
        after["framework"]["framework_id"],
        before["framework"]["framework_id"]
    );
    assert_ne!(
        after["framework"]["stream_id"],
        before["framework"]["stream_id"]
    );
    assert_eq!(after["operator"]["status"], "connected");
    h.ok("TEARDOWN").await;
}
