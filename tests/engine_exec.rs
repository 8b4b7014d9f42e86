//! `EXEC task=ID cmd="..."` and the agent's streaming calls from cells, against the embedded
//! cluster: the command's output shows as the cell's stdout and stderr, its exit status is
//! the result, and an interrupt stops it (the next cell works).

mod common;

use common::{stdout, Harness};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn stderr(published: &common::Published) -> String {
    published
        .iter()
        .filter(|(t, c)| t == "stream" && c["name"] == "stderr")
        .map(|(_, c)| c["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn exec_runs_a_command_in_a_running_task_and_shows_its_output() {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=exec user=root").await;
    h.ok("LAUNCH name=box cmd=\"echo in-the-box > note.txt; sleep 60\" wait=RUNNING")
        .await;
    let (result, published) = h
        .run("EXEC task=box cmd=\"cat note.txt; echo warned >&2; exit 2\"")
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(stdout(&published), "in-the-box\n");
    assert_eq!(stderr(&published), "warned\n");
    let r = h.var("_").unwrap();
    assert_eq!(r["exit_code"], 2, "{r}");
    assert_eq!(r["exit_status"], 2 << 8);
    assert!(r["container_id"]["parent"]["value"].is_string(), "{r}");

    // The same session by hand, by name to the task's agent: its output streams too.
    h.ok("box = ($tasks | map(select(.task_id.value == \"box\")) | last)")
        .await;
    h.ok("id = {parent: $box.container_status.container_id, value: \"by-hand\"}")
        .await;
    let (result, published) = h
        .run("agent $box.agent_id LAUNCH_NESTED_CONTAINER_SESSION container_id=$id command=({value: \"echo by hand\"})")
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(stdout(&published), "by hand\n");
    assert_eq!(h.var("_").unwrap()["exit_code"], 0);

    // An interrupt stops a command that would run for long; the session goes on.
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        stop.cancel();
    });
    let started = std::time::Instant::now();
    let (result, _) = h
        .run_with("EXEC task=box cmd=\"echo started; sleep 30\"", cancel)
        .await;
    let e = result.expect_err("interrupted");
    assert_eq!(e.ename, "Interrupted");
    assert!(started.elapsed() < Duration::from_secs(5));
    let e = h.err("EXEC task=nope cmd=true").await;
    assert_eq!(e.ename, "InvalidCall");
    assert!(e.evalue.contains("no live task 'nope'"), "{}", e.evalue);
    h.ok("TEARDOWN").await;
}
