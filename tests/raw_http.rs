//! Raw HTTP requests: bodies are sent as written, JSON or not; a body ends where the
//! language says (JSON where its brackets close, text at a blank line, a `|` line or the
//! end of the cell); `|` lines below a request filter its answer, `| json` and `| table`
//! included. An echo server shows what was sent; the embedded cluster what Mesos answers.

mod common;

use axum::http::HeaderMap;
use common::{stdout, Harness};
use serde_json::{json, Value};

/// A server that answers every request with what it received.
async fn echo_server() -> String {
    async fn echo(
        method: axum::http::Method,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::Json<Value> {
        axum::Json(json!({
            "method": method.as_str(),
            "content_type": headers.get("content-type").and_then(|v| v.to_str().ok()),
            "body": String::from_utf8_lossy(&body),
        }))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(echo)).await;
    });
    url
}

#[tokio::test]
async fn a_text_body_is_sent_as_written_and_runs_to_the_blank_line() {
    let echo = echo_server().await;
    let mut h = Harness::new();
    let (result, published) = h
        .run(&format!(
            "sent = POST {echo}/master/teardown\nContent-Type: application/x-www-form-urlencoded\n\nframeworkId=abc&x=1 # not a comment\nGET_HEALTH\n\nPRINT \"after\""
        ))
        .await;
    assert!(result.is_ok(), "{result:?}");
    let sent = h.var("sent").unwrap();
    assert_eq!(sent["method"], "POST");
    assert_eq!(sent["content_type"], "application/x-www-form-urlencoded");
    // The lines up to the blank line are the body, a statement-looking one included.
    assert_eq!(
        sent["body"],
        "frameworkId=abc&x=1 # not a comment\nGET_HEALTH"
    );
    let out = stdout(&published);
    assert_eq!(
        out, "after\n",
        "nothing else ran (no cluster was started): {out}"
    );
    // A text body takes no Content-Type it was not given.
    h.ok(&format!("sent = PUT {echo}/x\n\nplain words")).await;
    let sent = h.var("sent").unwrap();
    assert_eq!(sent["body"], "plain words");
    assert_eq!(sent["content_type"], Value::Null);
    // A `|` inside a text body is text; a filter's error points at the filter's line.
    h.ok(&format!(
        "b = POST {echo}/x\n\na|b\n| .body\nASSERT $b == \"a|b\""
    ))
    .await;
    let e = h
        .err(&format!("POST {echo}/x\n\na|b\n| .body | 1 + * 2"))
        .await;
    assert!(e.evalue.contains("at line 4"), "{}", e.evalue);
}

#[tokio::test]
async fn a_json_body_is_sent_byte_for_byte_and_a_jq_body_as_its_value() {
    let echo = echo_server().await;
    let mut h = Harness::new();
    let written = "{\"b\": 1.50,\n   \"big\": 123456789012345678901234567890, \"a\": [ ]}";
    h.ok(&format!("sent = POST {echo}/api/v1\n\n{written}\nPRINT 1"))
        .await;
    let sent = h.var("sent").unwrap();
    assert_eq!(sent["body"], written);
    assert_eq!(sent["content_type"], "application/json");
    h.ok(&format!(
        "n = 41\nsent = POST {echo}/api/v1\n\n{{\"n\": ($n + 1), \"s\": \"\\($n)\"}}"
    ))
    .await;
    let sent = h.var("sent").unwrap();
    let body: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"n": 42, "s": "41"}));
    // A jq body that does not compile is an error before anything is sent.
    let e = h
        .err(&format!("POST {echo}/api/v1\n\n{{\"n\": $nope}}"))
        .await;
    assert_eq!(e.ename, "JqError", "{}", e.evalue);
}

#[tokio::test]
async fn a_filter_below_the_request_filters_the_answer() {
    let mut h = Harness::new();
    // The cell of the issue: a header, a blank line, a body, then `| json`.
    let data = h
        .ok("POST /api/v1\nContent-Type: application/json\n\n{\"type\": \"GET_HEALTH\"}\n| json")
        .await;
    assert_eq!(
        data["application/json"]["get_health"]["healthy"], true,
        "{data}"
    );
    let data = h
        .ok("POST /api/v1\nContent-Type: application/json\n\n{\"type\": \"GET_AGENTS\"}\n| table")
        .await;
    assert!(
        data["text/html"].as_str().unwrap().contains("<table"),
        "{data}"
    );
    h.ok("healthy = POST /api/v1\n\n{\"type\": \"GET_HEALTH\"}\n  | .get_health\n  | .healthy\nASSERT $healthy == true")
        .await;
    // On the body's last line and below it, one filter; on the request line as well, an error.
    h.ok("n = POST /api/v1\n\n{\"type\": \"GET_AGENTS\"} | .get_agents.agents\n| length\nASSERT $n == 2")
        .await;
    let e = h
        .err("POST /api/v1 | .a\n\n{\"type\": \"GET_HEALTH\"}\n| .b")
        .await;
    assert_eq!(e.ename, "ParseError", "{}", e.evalue);
    // A GET's filter may sit below it too.
    h.ok("ids = GET /master/state\n| .slaves | map(.id)\nASSERT ($ids | length) == 2")
        .await;
    // A jq error in the filter points into the filter, not into the body.
    let e = h
        .err("POST /api/v1\n\n{\"type\": \"GET_HEALTH\"}\n| .get_health | 1 + * 2")
        .await;
    assert_eq!(e.ename, "JqError", "{}", e.evalue);
    assert!(e.evalue.contains("at line 4"), "{}", e.evalue);
}

#[test]
fn is_complete_waits_for_open_json_bodies_and_filters_only() {
    use mesos_kernel::engine::Engine;
    use mesos_kernel::jupyter::{Completeness, Interpreter};
    let mut e = Engine::new();
    let complete =
        |e: &mut Engine, code: &str| matches!(e.is_complete(code), Completeness::Complete);
    let incomplete =
        |e: &mut Engine, code: &str| matches!(e.is_complete(code), Completeness::Incomplete { .. });
    assert!(incomplete(&mut e, "POST /api/v1\n\n{\"type\":"));
    assert!(incomplete(&mut e, "GET /master/state\n| map("));
    assert!(complete(
        &mut e,
        "POST /api/v1\n\n{\"type\": \"GET_HEALTH\"}\n| json"
    ));
    // A body starting with `{` is JSON (or jq) and waits for its brackets; a text body has
    // none to wait for.
    assert!(incomplete(&mut e, "POST /x\n\n{not json"));
    assert!(complete(&mut e, "POST /x\n\nnot {json"));
    assert!(complete(&mut e, "POST /x\n\nframeworkId=\"abc"));
    assert!(matches!(
        e.is_complete("GET /x | .a\n| .b"),
        Completeness::Invalid
    ));
}
