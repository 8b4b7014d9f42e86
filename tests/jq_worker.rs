//! jq runs in a worker process: what would abort or exhaust the kernel costs one error, an
//! interrupt kills a runaway filter, and the session (variables, the next cell) is intact.

mod common;

use common::{jq_worker, Harness};
use mesos_kernel::engine::Engine;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// Whether process `pid` still runs (a reaped process is gone; a zombie is dead too): its
/// /proc entry on Linux, `ps` elsewhere.
fn alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default()
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .map(str::to_string);
    #[cfg(not(target_os = "linux"))]
    let state = std::process::Command::new("ps")
        .args(["-o", "stat=", "-p", &pid.to_string()])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty());
    matches!(state, Some(s) if !s.starts_with('Z') && !s.starts_with('X'))
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn endless_recursion_is_an_error_and_the_session_survives() {
    let mut h = Harness::new();
    h.ok("x = {a: [1, 2, 3]}").await;
    assert_eq!(h.ok("$x.a | length").await["text/plain"], "3");
    let e = h.err("def f: 1 + f; f").await;
    assert_eq!(e.ename, "JqError");
    assert!(e.evalue.contains("recursed too deep"), "{}", e.evalue);
    // A new worker is sent the variables again.
    assert_eq!(h.ok("$x.a | add").await["text/plain"], "6");
    assert_eq!(h.ok("1 + 2").await["text/plain"], "3");
}

#[tokio::test]
async fn memory_bombs_hit_the_worker_limit_not_the_kernel() {
    let mut h = Harness::with_engine(Engine::new().with_jq(jq_worker().with_memory_mb(256)));
    for bomb in ["[range(1e9)] | length", "\"x\" * 1000000 | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . | . + . | length", "[limit(1e9; repeat(\"abc\"))] | length"] {
        let e = h.err(bomb).await;
        assert_eq!(e.ename, "JqError", "{bomb}");
        assert!(e.evalue.contains("256 MiB"), "{bomb}: {}", e.evalue);
        assert_eq!(h.ok("[range(10)] | add").await["text/plain"], "45");
    }
}

#[tokio::test]
async fn deep_values_and_their_drops_stay_in_the_worker() {
    let mut h = Harness::new();
    // Ten million levels: converting, or even dropping, it recurses once per level.
    let e = h
        .err("reduce range(10000000) as $i (0; [.]) | length")
        .await;
    assert_eq!(e.ename, "JqError");
    assert_eq!(h.ok("1 + 2").await["text/plain"], "3");
}

#[tokio::test]
async fn an_interrupt_kills_a_runaway_filter() {
    let mut h = Harness::new();
    h.ok("n = 7").await;
    let pid = h.engine.jq_worker().pid().await.expect("a worker runs");
    assert!(alive(pid));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let watcher = tokio::spawn(async move {
        // Interrupt once the filter has been running for a moment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let (result, _) = h.run_with("last(range(1e18))", cancel).await;
    let e = result.expect_err("an endless filter was interrupted");
    assert_eq!(e.ename, "Interrupted");
    assert!(started.elapsed() < Duration::from_secs(5));
    watcher.await.unwrap();
    // The runaway is gone, not left spinning on a core.
    wait_until("the worker to be killed", || !alive(pid)).await;
    assert_eq!(h.engine.jq_worker().pid().await, None);
    assert_eq!(h.ok("$n * 6").await["text/plain"], "42");
    let next = h.engine.jq_worker().pid().await.expect("a new worker");
    assert_ne!(next, pid);
}

#[tokio::test]
async fn large_variables_are_sent_once_per_assignment() {
    let mut h = Harness::new();
    h.ok("big = [range(20000) | {id: ., name: \"task-\\(.)\"}]")
        .await;
    let before = h.engine.jq_worker().sent_bytes();
    assert_eq!(h.ok("$big | length").await["text/plain"], "20000");
    let first = h.engine.jq_worker().sent_bytes() - before;
    assert!(first > 400_000, "the value went over: {first} bytes");
    for _ in 0..3 {
        let before = h.engine.jq_worker().sent_bytes();
        assert_eq!(h.ok("$big[-1].id").await["text/plain"], "19999");
        let again = h.engine.jq_worker().sent_bytes() - before;
        assert!(again < 200, "held values are not sent again: {again} bytes");
    }
    // A reassignment is seen.
    h.ok("big = [1]").await;
    assert_eq!(h.ok("$big | length").await["text/plain"], "1");
}

#[tokio::test]
async fn user_expressions_use_the_worker() {
    use mesos_kernel::jupyter::Interpreter;
    let mut h = Harness::new();
    h.ok("x = 41").await;
    let cancel = CancellationToken::new();
    let bundle = h.engine.user_expression("$x + 1", &cancel).await.unwrap();
    assert_eq!(bundle.to_json().0["text/plain"], "42");
    let e = h
        .engine
        .user_expression("def f: 1 + f; f", &cancel)
        .await
        .unwrap_err();
    assert!(e.evalue.contains("recursed too deep"), "{}", e.evalue);
}

#[tokio::test]
async fn values_cross_to_the_worker_and_back_unchanged() {
    let mut h = Harness::new();
    // Bound from a call's JSON as it would be: order, types, escapes, big and small numbers.
    let v = r#"{"z": 1, "a": [true, null, 1.25, -0.5, 1e-7, 12345678901234567890, -9007199254740993], "s": "tab\t \"q\" \\ é ☃ \u0001", "m": {}, "n": [[[]]]}"#;
    h.ok(&format!("v = {v}")).await;
    let bound = h.var("v").unwrap();
    h.ok("w = $v").await;
    assert_eq!(h.var("w").unwrap(), bound);
    // As a statement's input too (a filter after `|`).
    h.ok(&format!("u = ({v} | .)")).await;
    assert_eq!(h.var("u").unwrap(), bound);
    assert_eq!(h.ok("$v.s | length").await["text/plain"], "16");
}

#[tokio::test]
async fn without_a_worker_binary_jq_runs_in_the_kernel() {
    let missing = std::env::temp_dir().join("no-such-mesos-kernel-binary");
    let worker = mesos_kernel::engine::jq_worker::JqWorker::new(Some(missing));
    let mut h = Harness::with_engine(Engine::new().with_jq(worker));
    h.ok("x = 20").await;
    assert_eq!(h.ok("$x + 22").await["text/plain"], "42");
    assert_eq!(h.engine.jq_worker().pid().await, None);
}

#[tokio::test]
async fn the_worker_forgets_variables_past_its_budget_and_is_sent_them_again() {
    let worker = jq_worker().with_held_budget(1_000);
    let mut h = Harness::with_engine(Engine::new().with_jq(worker));
    // About 700 bytes of JSON each: two do not fit the budget together.
    h.ok("a = [range(100) | tostring]").await;
    h.ok("b = [range(100; 200) | tostring]").await;
    let sent = |h: &Harness| h.engine.jq_worker().sent_bytes();
    let before = sent(&h);
    assert_eq!(h.ok("$a | length").await["text/plain"], "100");
    assert!(sent(&h) - before > 500, "a was sent");
    let before = sent(&h);
    assert_eq!(h.ok("$a[99]").await["text/plain"], "\"99\"");
    assert!(sent(&h) - before < 200, "a is held");
    // b pushes a out...
    assert_eq!(h.ok("$b[0]").await["text/plain"], "\"100\"");
    // ...so a is sent again, and answers the same.
    let before = sent(&h);
    assert_eq!(h.ok("$a[0]").await["text/plain"], "\"0\"");
    assert!(sent(&h) - before > 500, "a was sent again");
    // One expression using both still sees both, over the budget or not.
    assert_eq!(h.ok("($a + $b) | length").await["text/plain"], "200");
}

/// One request frame as the kernel writes it (see `engine::jq_worker`): a length, then a
/// header's length, the header, and the input's JSON.
fn request_frame(code: &str) -> Vec<u8> {
    let header = serde_json::json!({ "code": code, "input_len": 4, "vars": [] }).to_string();
    let mut body = (header.len() as u32).to_le_bytes().to_vec();
    body.extend_from_slice(header.as_bytes());
    body.extend_from_slice(b"null");
    let mut frame = (body.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

/// CPU time of a process in clock ticks, where /proc tells it.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    fields
        .get(11)
        .and_then(|u| u.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
}

/// The worker ends when its stdin closes, even while busy in a filter that never ends:
/// that is how it ends with its kernel where there is no parent-death signal (everywhere
/// but Linux). Here the parent (this test) lives on, so only the closed pipe can end it.
#[test]
fn a_busy_worker_ends_when_its_pipe_closes() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-kernel"))
        .arg("jq-worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(&request_frame("1 + 1")).unwrap();
    let mut len = [0u8; 4];
    stdout.read_exact(&mut len).unwrap();
    let mut reply = vec![0u8; u32::from_le_bytes(len) as usize];
    stdout.read_exact(&mut reply).unwrap();
    assert_eq!(String::from_utf8_lossy(&reply), r#"{"Ok":[2]}"#);

    stdin
        .write_all(&request_frame("last(range(1e18))"))
        .unwrap();
    stdin.flush().unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    #[cfg(target_os = "linux")]
    while cpu_ticks(pid) < 10 {
        assert!(
            Instant::now() < deadline,
            "the worker did not start evaluating"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the worker {pid} kept running after its stdin closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

/// A master whose GET_STATE is JSON padded with whitespace (as a pretty-printing proxy
/// sends it) and whose GET_VERSION says JSON but is cut short.
async fn padded_master() -> (String, usize) {
    use axum::http::header;
    use axum::routing::post;
    let padding = " ".repeat(200_000);
    let state = format!("{{\"type\": \"GET_STATE\",{padding}\"get_state\": {{\"n\": 42}}}}");
    let len = state.len();
    let app = axum::Router::new().route(
        "/api/v1",
        post(move |body: String| {
            let state = state.clone();
            async move {
                let answer = if body.contains("GET_STATE") {
                    state
                } else if body.contains("GET_AGENTS") {
                    // Nested far past serde_json's limit of 128 levels.
                    format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))
                } else {
                    "{\"version_info\": {\"version\": ".to_string()
                };
                ([(header::CONTENT_TYPE, "application/json")], answer)
            }
        }),
    );
    (common::serve(app).await, len)
}

#[tokio::test]
async fn a_filter_on_a_call_is_given_the_answer_as_it_came() {
    let (base, len) = padded_master().await;
    let mut h = Harness::new();
    h.ok(&format!("%master {base}")).await;
    let before = h.engine.jq_worker().sent_bytes();
    assert_eq!(h.ok("GET_STATE | .get_state.n").await["text/plain"], "42");
    // The answer's own bytes went to the worker: parsed and written again in the kernel,
    // its 200,000 spaces would not have.
    let sent = h.engine.jq_worker().sent_bytes() - before;
    assert!(
        sent as usize >= len,
        "sent {sent} bytes for a {len}-byte answer"
    );
    // `$_` is the filtered value; the unfiltered call still binds the whole answer.
    assert_eq!(h.var("_"), Some(serde_json::json!(42)));
    h.ok("s = GET_STATE").await;
    assert_eq!(h.ok("$s.get_state.n").await["text/plain"], "42");
    // A body that is not JSON is the call's error, filter or not, and the session goes on.
    for cell in ["GET_VERSION", "GET_VERSION | .version_info"] {
        let e = h.err(cell).await;
        assert_eq!(e.ename, "MesosHttpError", "{cell}");
        assert!(e.evalue.contains("is not JSON"), "{cell}: {}", e.evalue);
    }
    assert_eq!(
        h.ok("GET_STATE | .get_state | keys").await["text/plain"],
        "[\n  \"n\"\n]"
    );
}

#[tokio::test]
async fn without_a_worker_a_filtered_answer_too_deep_is_the_calls_error() {
    let (base, _) = padded_master().await;
    let in_kernel = mesos_kernel::engine::jq_worker::JqWorker::new(None);
    let mut h = Harness::with_engine(Engine::new().with_jq(in_kernel));
    h.ok(&format!("%master {base}")).await;
    // Parsed on one of the kernel's threads: refused at serde_json's depth limit, as the
    // unfiltered call is, rather than parsed without limit on a 2 MiB stack.
    for cell in ["GET_AGENTS", "GET_AGENTS | length"] {
        let e = h.err(cell).await;
        assert_eq!(e.ename, "MesosHttpError", "{cell}");
        assert!(e.evalue.contains("is not JSON"), "{cell}: {}", e.evalue);
    }
    assert_eq!(h.ok("GET_STATE | .get_state.n").await["text/plain"], "42");
}
