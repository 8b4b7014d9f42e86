//! The wire in view and on record, through the engine as cells run it: `%http on` shows
//! every exchange with a curl line, `%record` writes a cassette, `%replay` answers from it
//! with no cluster at all, and LOGS waits for a task's first line.

mod common;

use common::{stdout, Harness, Published};
use mesos_kernel::jupyter::Interpreter;
use serde_json::Value;

/// The text of the `%http` display a cell published, if any.
fn http_text(published: &Published) -> Option<String> {
    published
        .iter()
        .filter(|(t, _)| t == "display_data")
        .filter_map(|(_, c)| c["data"]["text/plain"].as_str())
        .find(|t| t.starts_with("HTTP: "))
        .map(str::to_string)
}

fn http_meta(published: &Published) -> Vec<Value> {
    published
        .iter()
        .filter(|(t, _)| t == "display_data")
        .filter_map(|(_, c)| c["metadata"]["mesos-kernel"]["http"].as_array().cloned())
        .flatten()
        .collect()
}

fn cassette(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{name}-{}.jsonl", uuid::Uuid::new_v4()))
}

#[tokio::test]
async fn http_on_shows_each_exchange_with_a_curl_line() {
    let mut h = Harness::new();
    h.ok("GET_HEALTH").await;
    let (_, published) = h.run("GET_VERSION").await;
    assert!(http_text(&published).is_none(), "off by default");
    h.ok("%http on").await;
    let (r, published) = h.run("GET_VERSION").await;
    assert!(r.is_ok());
    let text = http_text(&published).expect("an exchange display");
    assert!(
        text.contains("── POST /api/v1 GET_VERSION → 200 OK"),
        "{text}"
    );
    assert!(text.contains("> Content-Type: application/json"), "{text}");
    assert!(
        text.contains("\"type\": \"GET_VERSION\""),
        "pretty body: {text}"
    );
    assert!(text.contains("< Content-Type: application/json"), "{text}");
    assert!(text.contains("$ curl -sS 'http://127.0.0.1:"), "{text}");
    // Shown after the result, under the cell's outputs.
    let last = published.last().unwrap();
    assert_eq!(last.0, "display_data");
    let html = last.1["data"]["text/html"].as_str().unwrap();
    assert!(html.contains("<details><summary>"), "{html}");

    // The scheduler's stream and calls carry the stream id; acknowledgements made in the
    // background while a cell runs show under it.
    let (r, published) = h.run("SUBSCRIBE name=wire user=root").await;
    assert!(r.is_ok(), "{r:?}");
    let text = http_text(&published).unwrap();
    assert!(
        text.contains("POST /api/v1/scheduler SUBSCRIBE → 200 OK (stream"),
        "{text}"
    );
    assert!(text.contains("< Mesos-Stream-Id: "), "{text}");
    assert!(text.contains("record 1 (RecordIO length "), "{text}");
    assert!(text.contains("\"type\": \"SUBSCRIBED\""), "{text}");
    let (r, published) = h
        .run("OFFERS wait=10s\nLAUNCH name=t cmd=true cpus=0.1 mem=16 wait=FINISHED")
        .await;
    assert!(r.is_ok(), "{r:?}");
    let text = http_text(&published).unwrap();
    assert!(text.contains("ACCEPT → 202 Accepted"), "{text}");
    assert!(text.contains("> Mesos-Stream-Id: "), "{text}");
    assert!(text.contains("ACKNOWLEDGE → 202 Accepted"), "{text}");
    assert!(text.contains("· background"), "{text}");
    // The stream's records that came meanwhile show among them, in order.
    let accept = text.find("ACCEPT → 202").unwrap();
    let update = text
        .find("·· record on /api/v1/scheduler: UPDATE t TASK_")
        .expect(&text);
    assert!(accept < update, "{text}");
    let meta = http_meta(&published);
    let ack = meta
        .iter()
        .find(|m| m["lane"] == "background")
        .expect("a background exchange");
    assert!(ack["curl"]
        .as_str()
        .unwrap()
        .contains("-H 'Mesos-Stream-Id: "));

    h.ok("%http off").await;
    let (_, published) = h.run("GET_VERSION").await;
    assert!(
        http_text(&published).is_none(),
        "{:?}",
        http_text(&published)
    );
    let (_, published) = h.run("%http").await;
    assert!(stdout(&published).contains("%http is off"));
    h.ok("TEARDOWN").await;
}

/// Cells of a small tour, recorded then replayed.
const TOUR: &[&str] = &[
    "state = GET /master/state\nPRINT \"\\($state.slaves | length) agents\"",
    "GET_AGENTS",
    "SUBSCRIBE name=\"Replay Tour\" user=root",
    "OFFERS wait=10s min=2",
    "LAUNCH name=hello args=[\"/bin/echo\", \"hello from the tour\"] cpus=0.1 mem=16 wait=FINISHED",
    "LOGS task=hello",
    "TASKS",
    "TEARDOWN",
    "GET /master/frameworks | .completed_frameworks | map(.name)",
];

/// What a cell left in the notebook, as nbclient keeps it (an `update_display_data`
/// replaces the display it names), without the kernel's own clock times (events'
/// `received`, `$last_heartbeat`), which differ run to run.
fn shown(published: &Published) -> Vec<Value> {
    let time = time_normalizer();
    let mut outputs: Vec<(String, Value)> = Vec::new();
    let mut ids: std::collections::HashMap<String, usize> = Default::default();
    for (t, c) in published {
        let id = c["transient"]["display_id"].as_str().map(str::to_string);
        match (t.as_str(), id) {
            ("status", _) => continue,
            ("update_display_data", Some(id)) => {
                if let Some(&i) = ids.get(&id) {
                    outputs[i].1 = c["data"].clone();
                }
                continue;
            }
            ("display_data", Some(id)) => {
                ids.insert(id, outputs.len());
            }
            _ => {}
        }
        let mut c = c.clone();
        if let Some(m) = c.as_object_mut() {
            m.remove("transient");
        }
        let content = if t == "display_data" {
            c["data"].clone()
        } else {
            c
        };
        outputs.push((t.clone(), content));
    }
    outputs
        .into_iter()
        .map(|(t, c)| {
            let text = time(&serde_json::to_string(&c).unwrap());
            Value::Array(vec![Value::String(t), Value::String(text)])
        })
        .collect()
}

/// RFC 3339 times with milliseconds (`2026-12-01T21:20:18.123Z`) become `<time>`.
fn time_normalizer() -> impl Fn(&str) -> String {
    |s: &str| {
        let b = s.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            let is_time = i + 24 <= b.len()
                && b[i..i + 4].iter().all(u8::is_ascii_digit)
                && b[i + 4] == b'-'
                && b[i + 10] == b'T'
                && b[i + 13] == b':'
                && b[i + 19] == b'.'
                && b[i + 23] == b'Z';
            if is_time {
                out.push_str("<time>");
                i += 24;
            } else {
                let c = s[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }
}

#[tokio::test]
async fn a_recorded_session_replays_with_no_cluster() {
    let path = cassette("tour");
    let mut live = Harness::new();
    let (r, published) = live.run(&format!("%record {}", path.display())).await;
    assert!(r.is_ok(), "{r:?}");
    assert!(stdout(&published).contains("Started the embedded Mesos cluster"));
    let mut recorded = Vec::new();
    for cell in TOUR {
        let (r, published) = live.run(cell).await;
        assert!(r.is_ok(), "{cell}: {r:?}");
        recorded.push(shown(&published));
    }
    let (_, published) = live.run("%record off").await;
    assert!(stdout(&published).contains("Recorded "), "{published:?}");
    let master = live.var("master").unwrap();
    live.engine.shutdown().await;
    // Nothing answers at the recorded master any more.
    let gone = reqwest::get(format!("{}/health", master.as_str().unwrap())).await;
    assert!(gone.is_err(), "the cluster still answers");

    let mut replay = Harness::new();
    let (r, published) = replay
        .run(&format!("%replay {} speed=5", path.display()))
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert!(stdout(&published).contains("nothing goes to the network"));
    for (cell, want) in TOUR.iter().zip(&recorded) {
        let (r, published) = replay.run(cell).await;
        assert!(r.is_ok(), "{cell}: {r:?}");
        assert_eq!(&shown(&published), want, "{cell}");
    }
    assert_eq!(replay.var("master"), Some(master));
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_request_the_cassette_does_not_have_is_an_error_naming_both() {
    let path = cassette("mismatch");
    let mut live = Harness::new();
    live.ok(&format!("%record {}", path.display())).await;
    live.ok("GET_VERSION").await;
    live.ok("GET_HEALTH").await;
    live.ok("%record off").await;
    live.engine.shutdown().await;

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\"kind\":\"cassette\""), "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("\"kind\":\"exchange\""))
            .count(),
        2
    );

    let mut replay = Harness::new();
    replay.ok(&format!("%replay {}", path.display())).await;
    replay.ok("GET_VERSION").await;
    let e = replay.err("GET_FLAGS").await;
    assert_eq!(e.ename, "ReplayMismatch");
    assert!(e.evalue.contains("GET_FLAGS"), "{}", e.evalue);
    assert!(e.evalue.contains("GET_HEALTH"), "{}", e.evalue);
    assert!(e.evalue.contains("the bodies differ"), "{}", e.evalue);
    // The expected request still answers, and past the end is an error too.
    replay.ok("GET_HEALTH").await;
    let e = replay.err("GET_HEALTH").await;
    assert!(e.evalue.contains("has no more requests"), "{}", e.evalue);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn logs_waits_for_a_first_line_and_says_when_a_file_is_empty() {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=logs user=root").await;
    h.ok("OFFERS wait=10s").await;
    // The line comes a little after the task runs: LOGS waits for it.
    h.ok(
        "LAUNCH name=late cmd=\"sleep 0.5; echo late line; sleep 30\" cpus=0.1 mem=16 wait=RUNNING",
    )
    .await;
    let (r, published) = h.run("LOGS task=late").await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(stdout(&published), "late line\n");
    h.ok("LAUNCH name=quiet cmd=\"sleep 30\" cpus=0.1 mem=16 wait=RUNNING")
        .await;
    let (r, published) = h.run("LOGS task=quiet").await;
    assert!(r.is_ok(), "{r:?}");
    let said: Vec<&str> = published
        .iter()
        .filter(|(t, _)| t == "display_data")
        .filter_map(|(_, c)| c["data"]["text/plain"].as_str())
        .collect();
    assert_eq!(said, vec!["(quiet's stdout is empty after 3s)"]);
    // The wait is interruptible.
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        stop.cancel();
    });
    let began = std::time::Instant::now();
    let (r, _) = h.run_with("LOGS task=quiet", cancel).await;
    assert_eq!(r.unwrap_err().ename, "Interrupted");
    assert!(began.elapsed() < std::time::Duration::from_millis(1500));
    h.ok("TEARDOWN").await;
}

#[tokio::test]
async fn exchanges_made_between_cells_are_in_the_http_log() {
    let mut h = Harness::new();
    let (_, published) = h.run("%http log").await;
    assert!(stdout(&published).contains("nothing kept"), "{published:?}");
    h.ok("%http on\nSUBSCRIBE name=between user=root").await;
    h.ok("OFFERS wait=10s").await;
    // The task ends after the cell: its updates are acknowledged while no cell runs.
    h.ok("LAUNCH name=later cmd=\"sleep 0.3\" cpus=0.1 mem=16")
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (_, published) = h.run("%http log").await;
        if let Some(text) = http_text(&published) {
            if text.contains("acknowledge") || text.contains("ACKNOWLEDGE") {
                assert!(text.contains("made while no cell ran"), "{text}");
                assert!(text.contains("· background"), "{text}");
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no acknowledgement in the log"
        );
    }
    h.ok("TEARDOWN").await;
}

#[tokio::test]
async fn the_operator_stream_is_on_the_wire_and_replays() {
    let path = cassette("operator");
    let cells = [
        "operator SUBSCRIBE",
        "SUBSCRIBE name=watched user=root\nOFFERS wait=10s",
        "LAUNCH name=seen args=[\"/bin/true\"] cpus=0.1 mem=16 wait=FINISHED",
        "WAIT ($operator.tasks | map(select(.task_id.value == \"seen\" and .state == \"TASK_FINISHED\")) | length) == 1 timeout=10s\n$operator.tasks | map(.task_id.value)",
        "TEARDOWN",
    ];
    let mut live = Harness::new();
    live.ok(&format!("%http on\n%record {}", path.display()))
        .await;
    let (r, published) = live.run(cells[0]).await;
    assert!(r.is_ok(), "{r:?}");
    let text = http_text(&published).expect("the operator stream's exchange");
    assert!(
        text.contains("POST /api/v1 SUBSCRIBE → 200 OK (stream"),
        "{text}"
    );
    assert!(text.contains("\"type\": \"SUBSCRIBED\""), "{text}");
    let mut want = Vec::new();
    for cell in &cells[1..] {
        let (r, _) = live.run(cell).await;
        assert!(r.is_ok(), "{cell}: {r:?}");
        want.push(live.var("_"));
    }
    live.ok("%record off").await;
    live.engine.shutdown().await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.matches("\"kind\":\"stream\"").count(),
        2,
        "two streams recorded"
    );

    let mut replay = Harness::new();
    replay.ok(&format!("%replay {}", path.display())).await;
    for (cell, want) in cells.iter().zip(std::iter::once(None).chain(want)) {
        let (r, _) = replay.run(cell).await;
        assert!(r.is_ok(), "{cell}: {r:?}");
        if want.is_some() {
            assert_eq!(replay.var("_"), want, "{cell}");
        }
    }
    let _ = std::fs::remove_file(&path);
}
