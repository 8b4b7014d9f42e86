//! The Mesos client and cells against a server that misbehaves: error statuses, HTML,
//! empty and broken bodies, huge and slow answers. Every case is one clear error, never a
//! panic, never a hang past the timeout.

mod common;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use common::Harness;
use std::time::{Duration, Instant};

async fn serve() -> String {
    let app = Router::new()
        .route("/api/v1", post(|| async { (StatusCode::BAD_REQUEST, "Failed to validate master::Call: Expecting 'type' to be present") }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/boom", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "internal trouble") }))
        .route(
            "/html",
            get(|| async {
                (
                    StatusCode::BAD_GATEWAY,
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>",
                )
            }),
        )
        .route("/badjson", get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{\"slaves\": [1, 2") }))
        .route("/empty", get(|| async { ([(header::CONTENT_TYPE, "application/json")], "") }))
        .route("/text", get(|| async { "plain words" }))
        .route(
            "/huge",
            get(|| async {
                let items: Vec<String> = (0..200_000).map(|i| format!("{{\"id\":{i},\"name\":\"task-{i}\"}}")).collect();
                ([(header::CONTENT_TYPE, "application/json")], format!("[{}]", items.join(",")))
            }),
        )
        .route(
            "/slow",
            get(|| async {
                // A body that trickles one byte at a time, forever.
                let stream = futures::stream::unfold(0u64, |n| async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from_static(b" ")), n + 1))
                });
                Response::builder()
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from_stream(stream))
                    .map(IntoResponse::into_response)
                    .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn error_statuses_are_mesos_http_errors_with_the_message() {
    let base = serve().await;
    let mut h = Harness::new();
    h.ok(&format!("%master {base}")).await;
    let e = h.err("GET /missing").await;
    assert_eq!(e.ename, "MesosHttpError");
    assert!(e.evalue.contains("404"), "{}", e.evalue);
    let e = h.err("GET /boom").await;
    assert!(
        e.evalue.contains("500") && e.evalue.contains("internal trouble"),
        "{}",
        e.evalue
    );
    let e = h.err("GET /html").await;
    assert!(
        e.evalue.contains("502 Bad Gateway (an HTML page)"),
        "{}",
        e.evalue
    );
    assert!(!e.evalue.contains("<h1>"));
    let e = h.err("GET_HEALTH").await;
    assert!(
        e.evalue.contains("Expecting 'type' to be present"),
        "{}",
        e.evalue
    );
}

#[tokio::test]
async fn broken_bodies_are_clear_errors() {
    let base = serve().await;
    let mut h = Harness::new();
    h.ok(&format!("%master {base}")).await;
    let e = h.err("GET /badjson").await;
    assert_eq!(e.ename, "MesosHttpError");
    assert!(e.evalue.contains("not JSON"), "{}", e.evalue);
    // An empty 200 is null, and plain text is a string: both are values, not errors.
    h.ok("GET /empty").await;
    assert_eq!(h.var("_"), Some(serde_json::Value::Null));
    h.ok("GET /text").await;
    assert_eq!(h.var("_"), Some(serde_json::json!("plain words")));
}

#[tokio::test]
async fn huge_bodies_stay_usable() {
    let base = serve().await;
    let mut h = Harness::new();
    h.ok(&format!("%master {base}")).await;
    let data = h.ok("big = GET /huge\n$big | length").await;
    assert_eq!(data["text/plain"], "200000");
    let (_, published) = h.run("GET /huge").await;
    let size: usize = published.iter().map(|(_, c)| c.to_string().len()).sum();
    assert!(size < 1_000_000, "sent {size} bytes to the front end");
}

#[tokio::test]
async fn slow_bodies_time_out_on_time() {
    let base = serve().await;
    let mut h = Harness::new();
    h.ok(&format!("%master {base}\n%timeout 500ms")).await;
    let started = Instant::now();
    let e = h.err("GET /slow").await;
    assert_eq!(e.ename, "Timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn unreachable_masters_are_connection_errors() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut h = Harness::new();
    let e = h
        .err(&format!("%master http://127.0.0.1:{port}\nGET_VERSION"))
        .await;
    assert_eq!(e.ename, "ConnectionError");
    assert!(
        e.evalue.contains(&format!("127.0.0.1:{port}")),
        "{}",
        e.evalue
    );
}

#[tokio::test]
async fn unknown_json_call_types_send_nothing() {
    let mut h = Harness::new();
    // No master is configured and none is needed: the type is refused first.
    let e = h.err("{\"type\": \"GET_STAET\"}").await;
    assert_eq!(e.ename, "UnknownCall");
    assert!(e.evalue.contains("GET_STATE"), "{}", e.evalue);
}

#[tokio::test]
async fn interrupts_cancel_requests() {
    let base = serve().await;
    let mut h = Harness::new();
    h.ok(&format!("%master {base}")).await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        c2.cancel();
    });
    let started = Instant::now();
    let (result, _) = h.run_with("GET /slow", cancel).await;
    assert_eq!(result.unwrap_err().ename, "Interrupted");
    assert!(started.elapsed() < Duration::from_secs(2));
}
