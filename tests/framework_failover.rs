//! Failover and takeover between two kernels' sessions on one embedded cluster: a second
//! session takes a framework with `SUBSCRIBE ... id=`, learns its tasks by reconciling and
//! kills one, while the first says it was taken over, ends without a fight, and can take the
//! framework back. A refused SUBSCRIBE (and every other failing statement) keeps the
//! session that was running.

mod common;
mod failing_proxy;

use common::{Harness, Published};
use mesos_kernel::jupyter::publisher::Outgoing;
use mesos_kernel::jupyter::Interpreter;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const TAKEN: &str = "was taken over by another client (Mesos: Framework failed over)";

fn stderr(published: &Published) -> String {
    published
        .iter()
        .filter(|(t, c)| t == "stream" && c["name"] == "stderr")
        .map(|(_, c)| c["text"].as_str().unwrap_or("").to_string())
        .collect()
}

fn html(published: &Published) -> String {
    published
        .iter()
        .filter_map(|(_, c)| c["data"]["text/html"].as_str())
        .collect()
}

fn fid(h: &Harness) -> String {
    h.var("framework_id").unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A first session with a framework (kept by the master for an hour after it disconnects)
/// running `keeper`, and a second session on the same cluster, not subscribed.
async fn two_sessions() -> (Harness, Harness) {
    let mut first = Harness::new();
    first
        .ok("SUBSCRIBE name=first user=root failover_timeout=1h\nOFFERS wait=20s")
        .await;
    first
        .ok("LAUNCH name=keeper cmd=\"sleep 60\" wait=RUNNING")
        .await;
    let master = first.var("master").unwrap();
    let mut second = Harness::new();
    second
        .ok(&format!("%master {}", master.as_str().unwrap()))
        .await;
    (first, second)
}

#[tokio::test]
async fn a_second_session_takes_over_sees_and_kills_the_task_and_the_first_is_told() {
    let (mut first, mut second) = two_sessions().await;
    let id = fid(&first);

    // Only id= is given: the kernel sets the call's framework_id too, as Mesos wants, and
    // reconciles before the statement ends, so $tasks already holds the first one's task
    // (named from the master's task list: a status has no name).
    let (r, published) = second
        .run(&format!(
            "SUBSCRIBE name=second user=root id={id}\n\
             ASSERT ($tasks | map(select(.task_id.value == \"keeper\" and .name == \"keeper\" and .state == \"TASK_RUNNING\")) | length) == 1"
        ))
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert!(
        html(&published).contains("tasks (reconciled)"),
        "{published:?}"
    );
    assert_eq!(fid(&second), id);
    let tasks = second.ok("TASKS").await;
    assert!(
        tasks["text/html"].as_str().unwrap().contains("keeper"),
        "{tasks}"
    );
    second
        .ok("KILL task_id=keeper\nWAIT ($tasks | map(select(.task_id.value == \"keeper\" and .state == \"TASK_KILLED\")) | length) == 1 timeout=20s")
        .await;

    // The first session says so in its next cell, and its calls say how to go on.
    let (r, published) = first.run("PRINT \"next cell\"").await;
    assert!(r.is_ok());
    assert!(
        stderr(&published).contains(&format!("the framework {id} {TAKEN}")),
        "{published:?}"
    );
    let e = first.err("KILL task_id=keeper").await;
    assert!(e.evalue.contains(TAKEN), "{}", e.evalue);
    assert!(
        e.evalue
            .contains(&format!("SUBSCRIBE name=... id={id} takes it back")),
        "{}",
        e.evalue
    );
    // Told once: the notice is not repeated.
    let (_, published) = first.run("PRINT 1").await;
    assert!(!stderr(&published).contains(TAKEN), "{published:?}");

    // The first session ended for good: the second keeps the framework, unchallenged.
    second
        .ok("f = GET /master/frameworks\nASSERT ($f.frameworks | length) == 1 and $f.frameworks[0].active")
        .await;
    second.ok("OFFERS wait=20s").await;
    let (_, published) = second.run("PRINT 1").await;
    assert!(stderr(&published).is_empty(), "{published:?}");

    // SUBSCRIBE takes it back, and now the second one is told.
    first
        .ok("SUBSCRIBE name=first user=root id=$framework_id")
        .await;
    assert_eq!(fid(&first), id);
    let (_, published) = second.run("PRINT 1").await;
    assert!(stderr(&published).contains(TAKEN), "{published:?}");
    first.ok("TEARDOWN").await;
}

/// Runs a cell on `h` and hands its outputs to `watch` as they come; answers the cell's
/// result and everything it published.
async fn run_watched<F, Fut>(
    h: &mut Harness,
    code: &str,
    watch: F,
) -> (Result<(), mesos_kernel::jupyter::CellError>, Published)
where
    F: FnOnce(mpsc::UnboundedReceiver<Outgoing>) -> Fut,
    Fut: std::future::Future<Output = Published>,
{
    let (ctx, rx) = h.context(code, CancellationToken::new());
    let (result, published) = tokio::join!(h.engine.execute(code, ctx), watch(rx));
    (result, published)
}

fn content(out: Outgoing) -> Option<(String, Value)> {
    match out {
        Outgoing::Message(m) => Some((m.header.msg_type.clone(), m.content.clone())),
        _ => None,
    }
}

#[tokio::test]
async fn a_running_cell_is_told_at_once_and_its_wait_ends() {
    let (mut first, mut second) = two_sessions().await;
    let id = fid(&first);
    // The first session waits for more offers than the cluster has; meanwhile the second
    // takes the framework over.
    let started = Instant::now();
    let (r, published) = run_watched(&mut first, "OFFERS wait=60s min=5", |mut rx| {
        let second = &mut second;
        let id = id.clone();
        async move {
            let mut seen = Vec::new();
            // Take over only once the live offers table is on screen, so the cell is
            // surely running.
            while !seen.iter().any(|(t, _)| t == "display_data") {
                let out = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                    .await
                    .expect("the OFFERS wait never showed")
                    .expect("the cell's channel closed");
                seen.extend(content(out));
            }
            second
                .ok(&format!("SUBSCRIBE name=second user=root id={id}"))
                .await;
            while let Some(out) = rx.recv().await {
                seen.extend(content(out));
            }
            seen
        }
    })
    .await;
    let e = r.expect_err("the wait should end with the session");
    assert!(e.evalue.contains(TAKEN), "{}", e.evalue);
    assert!(started.elapsed() < Duration::from_secs(50), "it waited out");
    assert!(
        stderr(&published).contains(&format!("the framework {id} {TAKEN}")),
        "{published:?}"
    );
    second.ok("TEARDOWN").await;
}

#[tokio::test]
async fn re_subscribing_its_own_framework_is_quiet_and_reconciles() {
    let (mut first, _second) = two_sessions().await;
    let id = fid(&first);
    let stream = first.var("stream_id").unwrap();
    let (r, published) = first
        .run("SUBSCRIBE name=first user=root id=$framework_id\nPRINT \"after\"")
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert!(!stderr(&published).contains("taken over"), "{published:?}");
    assert_ne!(first.var("stream_id").unwrap(), stream);
    assert_eq!(fid(&first), id);
    let tasks = first.var("tasks").unwrap();
    assert_eq!(tasks[0]["task_id"]["value"], "keeper", "{tasks}");
    let (_, published) = first.run("KILL task_id=keeper").await;
    assert!(!stderr(&published).contains("taken over"), "{published:?}");
    first
        .ok("WAIT ($tasks | map(select(.state == \"TASK_KILLED\")) | length) == 1 timeout=20s\nTEARDOWN")
        .await;
}

#[tokio::test]
async fn refused_subscriptions_keep_the_running_session() {
    let mut h = Harness::new();
    // A framework the master removed.
    h.ok("SUBSCRIBE name=gone user=root\nTEARDOWN").await;
    let removed = fid(&h);
    h.ok("SUBSCRIBE name=kept user=root\nOFFERS wait=20s").await;
    let kept = fid(&h);
    let stream = h.var("stream_id").unwrap();
    let refusals = [
        (
            format!("SUBSCRIBE name=again user=root id={removed}"),
            "the master refused the subscription: Framework has been removed",
        ),
        (
            "SUBSCRIBE name=bad user=root id=\"a/b\"".to_string(),
            "the master refused the subscription: 'a/b' contains invalid characters",
        ),
        (
            "SUBSCRIBE name=two user=root id=one framework_id=other".to_string(),
            "'framework_id' differs from 'subscribe.framework_info.id'",
        ),
        (
            r#"{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "root", "name": "j", "id": {"value": ".."}}}}"#
                .to_string(),
            "'..' is disallowed",
        ),
    ];
    for (cell, message) in &refusals {
        let e = h.err(cell).await;
        assert_eq!(e.ename, "MesosHttpError", "{cell}");
        assert!(e.evalue.contains(message), "{cell}: {}", e.evalue);
        // The session is the same one, still subscribed and working.
        assert_eq!(fid(&h), kept, "{cell}");
        assert_eq!(h.var("stream_id").unwrap(), stream, "{cell}");
        h.ok("LAUNCH name=still cmd=true wait=FINISHED").await;
    }
    // An id the master does not know is not refused: as in Mesos, it may be a framework
    // from before a master failover, and is accepted with the tasks it has, none.
    let data = h
        .ok("SUBSCRIBE name=new user=root id=from-before-0001")
        .await;
    assert_eq!(fid(&h), "from-before-0001");
    assert_eq!(h.var("_").unwrap()["tasks"], 0, "{data}");
    h.ok("TEARDOWN").await;
}

#[tokio::test]
async fn failing_statements_keep_the_session() {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=kept user=root\nOFFERS wait=20s min=2")
        .await;
    let kept = fid(&h);
    for cell in [
        "OFFERS wait=200ms min=50",
        "LAUNCH name=fails cmd=\"exit 3\" wait=FINISHED",
        "LAUNCH name=huge cmd=true cpus=64",
        "WAIT ($tasks | length) > 99 timeout=200ms",
        "EVENTS follow=nonsense",
        "KILL task_id=nobody",
        "ACKNOWLEDGE",
        "SUBSCRIBE name=bad user=root id=\"a/b\"",
    ] {
        h.err(cell).await;
        assert_eq!(fid(&h), kept, "{cell}");
        h.ok("OFFERS wait=20s").await;
    }
    h.ok("LAUNCH name=works cmd=true wait=FINISHED\nTEARDOWN")
        .await;
}

#[tokio::test]
async fn manual_acknowledgements_carry_over_a_takeover() {
    let (mut first, mut second) = two_sessions().await;
    let id = fid(&first);
    first.ok("TEARDOWN").await;
    // A framework whose update waits for an acknowledgement when the second one takes it.
    let mut first = first;
    first
        .ok("%ack manual\nSUBSCRIBE name=held user=root failover_timeout=1h\nOFFERS wait=20s")
        .await;
    first
        .ok("LAUNCH name=held cmd=\"sleep 60\" wait=STARTING")
        .await;
    let held = fid(&first);
    assert_ne!(held, id);
    // The master sends the unacknowledged update again on the new stream; with %ack
    // manual it waits for ACKNOWLEDGE there, however soon it comes.
    second
        .ok(&format!(
            "%ack manual\nSUBSCRIBE name=second user=root id={held}"
        ))
        .await;
    second.ok("ACKNOWLEDGE task_id=held").await;
    second
        .ok("WAIT ($tasks | map(select(.task_id.value == \"held\" and .state == \"TASK_RUNNING\")) | length) == 1 timeout=20s\nTEARDOWN")
        .await;
}

/// The reconciliation's answers can trail the master's 202 to the RECONCILE (a busy master,
/// a slow link): a takeover still ends with the framework's running tasks in `$tasks`.
#[tokio::test]
async fn a_takeover_waits_for_reconciliation_answers_that_come_late() {
    let (first, mut second) = two_sessions().await;
    let id = fid(&first);
    let master = first.var("master").unwrap().as_str().unwrap().to_string();
    let proxy = failing_proxy::Proxy::start(master).await;
    proxy.lag(Duration::from_millis(800));
    second.ok(&format!("%master {}", proxy.url())).await;
    second
        .ok(&format!(
            "SUBSCRIBE name=second user=root id={id}\n\
             ASSERT ($tasks | map(select(.task_id.value == \"keeper\" and .name == \"keeper\" and .state == \"TASK_RUNNING\")) | length) == 1"
        ))
        .await;
}
