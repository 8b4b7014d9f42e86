//! Real-cluster behaviour of the client: redirects from standby masters (scheme-relative
//! Location) with credentials kept, 503 retried, HTTP basic auth, and zk:// leader
//! detection against a real ZooKeeper (when MESOS_KERNEL_ZK names one, as CI does).

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use common::Harness;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Clone)]
struct Fake {
    name: &'static str,
    /// Where to redirect, if this master is a standby.
    leader: Option<String>,
    /// Answer 503 this many times first.
    unavailable: Arc<AtomicUsize>,
    /// Require this Authorization header.
    auth: Option<String>,
}

async fn api(State(f): State<Fake>, headers: HeaderMap) -> axum::response::Response {
    if let Some(want) = &f.auth {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
            return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
        }
    }
    if let Some(leader) = &f.leader {
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [("Location", format!("//{leader}/api/v1"))],
            "",
        )
            .into_response();
    }
    if f.unavailable.load(Ordering::SeqCst) > 0 {
        f.unavailable.fetch_sub(1, Ordering::SeqCst);
        return (StatusCode::SERVICE_UNAVAILABLE, "No leader elected").into_response();
    }
    axum::Json(json!({"type": "GET_HEALTH", "get_health": {"healthy": true}, "served_by": f.name}))
        .into_response()
}

async fn serve(f: Fake) -> String {
    let app = Router::new().route("/api/v1", post(api)).with_state(f);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr.to_string()
}

fn fake(name: &'static str) -> Fake {
    Fake {
        name,
        leader: None,
        unavailable: Arc::new(AtomicUsize::new(0)),
        auth: None,
    }
}

#[tokio::test]
async fn standby_masters_redirect_to_the_leader_and_credentials_follow() {
    let basic = "Basic b3BzOnMzY3JldA=="; // ops:s3cret
    let leader = serve(Fake {
        auth: Some(basic.into()),
        ..fake("leader")
    })
    .await;
    let standby = serve(Fake {
        leader: Some(leader.clone()),
        auth: Some(basic.into()),
        ..fake("standby")
    })
    .await;
    std::env::set_var("TEST_MESOS_SECRET", "s3cret");
    let mut h = Harness::new();
    let e = h
        .err(&format!("%master http://{standby}\nGET_HEALTH"))
        .await;
    assert!(e.evalue.contains("401"), "{}", e.evalue);
    h.ok("%auth principal=ops secret-env=TEST_MESOS_SECRET")
        .await;
    h.ok("GET_HEALTH").await;
    assert_eq!(h.var("_").unwrap()["served_by"], "leader");
    // The secret is in no variable and no output.
    let (_, published) = h.run("%vars").await;
    assert!(!format!("{published:?}").contains("s3cret"));
}

#[tokio::test]
async fn unavailable_masters_are_retried_within_the_timeout() {
    let f = fake("busy");
    f.unavailable.store(3, Ordering::SeqCst);
    let addr = serve(f.clone()).await;
    let mut h = Harness::new();
    h.ok(&format!("%master http://{addr}\nGET_HEALTH")).await;
    assert_eq!(f.unavailable.load(Ordering::SeqCst), 0);
    // Always unavailable: a Timeout, not a hang.
    f.unavailable.store(usize::MAX / 2, Ordering::SeqCst);
    let e = h.err("%timeout 1s\nGET_HEALTH").await;
    assert_eq!(e.ename, "Timeout");
}

#[tokio::test]
async fn auth_needs_its_parts() {
    let mut h = Harness::new();
    let e = h.err("%auth principal=ops").await;
    assert_eq!(e.ename, "InvalidCall");
    let e = h
        .err("%auth principal=ops secret-env=SURELY_NOT_SET_ANYWHERE")
        .await;
    assert!(e.evalue.contains("SURELY_NOT_SET_ANYWHERE"));
}

#[tokio::test]
async fn zk_leader_detection_follows_the_election() {
    let Ok(zk) = std::env::var("MESOS_KERNEL_ZK") else {
        assert!(
            std::env::var_os("MESOS_KERNEL_REQUIRE_ZK").is_none(),
            "MESOS_KERNEL_REQUIRE_ZK is set but MESOS_KERNEL_ZK is not"
        );
        eprintln!("skipped: set MESOS_KERNEL_ZK=127.0.0.1:PORT to run against a real ZooKeeper (.ci/run does)");
        return;
    };
    let first = serve(fake("first")).await;
    let second = serve(fake("second")).await;
    let client = zookeeper_client::Client::connect(&zk)
        .await
        .expect("ZooKeeper");
    let path = format!("/mesos-kernel-test-{}", uuid::Uuid::new_v4());
    let persistent =
        zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    client.create(&path, b"", &persistent).await.unwrap();
    let ephemeral = zookeeper_client::CreateMode::EphemeralSequential
        .with_acls(zookeeper_client::Acls::anyone_all());
    let info = |addr: &str| {
        let (ip, port) = addr.split_once(':').unwrap();
        json!({"address": {"hostname": "localhost", "ip": ip, "port": port.parse::<u16>().unwrap()}, "hostname": "localhost"})
            .to_string()
    };
    let (_, seq) = client
        .create(
            &format!("{path}/json.info_"),
            info(&first).as_bytes(),
            &ephemeral,
        )
        .await
        .unwrap();
    client
        .create(
            &format!("{path}/json.info_"),
            info(&second).as_bytes(),
            &ephemeral,
        )
        .await
        .unwrap();
    client
        .create(&format!("{path}/log_replicas"), b"", &persistent)
        .await
        .unwrap();

    let mut h = Harness::new();
    h.ok(&format!("%master zk://{zk}{path}\nGET_HEALTH")).await;
    assert_eq!(h.var("_").unwrap()["served_by"], "first");
    // The leader's znode goes away: the next calls go to the new leader.
    client
        .delete(&format!("{path}/json.info_{seq}"), None)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        h.ok("GET_HEALTH").await;
        if h.var("_").unwrap()["served_by"] == "second" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the kernel never moved to the new leader"
        );
        tokio::task::yield_now().await;
    }
    let e = h
        .err(&format!("%master zk://{zk}/no-such-path\nGET_HEALTH"))
        .await;
    assert!(
        e.evalue
            .contains("no master registered under /no-such-path"),
        "{}",
        e.evalue
    );
}

#[tokio::test]
async fn unreachable_zookeeper_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut h = Harness::new();
    let e = h
        .err(&format!(
            "%timeout 3s\n%master zk://127.0.0.1:{port}/mesos\nGET_HEALTH"
        ))
        .await;
    assert_eq!(e.ename, "ConnectionError");
    assert!(e.evalue.contains("ZooKeeper"), "{}", e.evalue);
}
