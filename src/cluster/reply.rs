//! HTTP answers shared by the cluster's handlers: Mesos's plain-text errors, JSON bodies,
//! RecordIO event streams with heartbeats, and the request checks both v1 APIs make first.

use super::event_queue;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use std::convert::Infallible;
use std::time::Duration;

/// A plain-text answer, as Mesos gives its errors.
pub fn text(status: u16, message: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.into(),
    )
        .into_response()
}

pub fn json(value: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// A JSON answer written straight from a view, with no `Value` tree in between.
pub fn json_of<T: Serialize + ?Sized>(body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        // Views only fail on non-string map keys, which they never write.
        Err(e) => text(500, format!("Failed to serialize the answer: {e}")),
    }
}

pub fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// libprocess's `MethodNotAllowed({"POST"}, method)`.
pub fn method_not_allowed(method: &Method) -> Response {
    let mut r = text(
        405,
        format!("405 Method Not Allowed. Expecting one of {{ 'POST' }}, but received '{method}'."),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}

/// libprocess's `MethodNotAllowed(allowed, method)` for an endpoint of several methods.
pub fn methods_not_allowed(allowed: &[&str], method: &Method) -> Response {
    let quoted: Vec<String> = allowed.iter().map(|m| format!("'{m}'")).collect();
    let mut r = text(
        405,
        format!(
            "405 Method Not Allowed. Expecting one of {{ {} }}, but received '{method}'.",
            quoted.join(", ")
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
        r.headers_mut().insert(header::ALLOW, v);
    }
    r
}

// The error is a ready answer, built once per refused request; boxing it buys nothing.
#[allow(clippy::result_large_err)]
/// Method, Content-Type and JSON parsing, in Mesos's order; the parsed body on success.
pub fn parse_post(method: &Method, headers: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
    if method != Method::POST {
        return Err(method_not_allowed(method));
    }
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Err(text(400, "Expecting 'Content-Type' to be present"));
    };
    match ct.to_str().unwrap_or("") {
        "application/json" => {}
        // Protobuf is a valid Mesos content type, but this cluster only speaks JSON.
        "application/x-protobuf" => {
            return Err(text(
                415,
                "Expecting 'Content-Type' of application/json (the mesos-kernel embedded cluster does not decode application/x-protobuf)",
            ))
        }
        _ => {
            return Err(text(
                415,
                "Expecting 'Content-Type' of application/json or application/x-protobuf",
            ))
        }
    }
    serde_json::from_slice(body)
        .map_err(|e| text(400, format!("Failed to parse body into JSON: {e}")))
}

/// What the `Accept` header allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    Json,
    /// Only protobuf, which Mesos would stream but this cluster cannot.
    ProtobufOnly,
    Neither,
}

pub fn accept(headers: &HeaderMap) -> Accept {
    if accepts_json(headers) {
        return Accept::Json;
    }
    let protobuf = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/x-protobuf"));
    if protobuf {
        Accept::ProtobufOnly
    } else {
        Accept::Neither
    }
}

/// The `Accept` check: missing, `*/*`, `application/*` or JSON are fine.
fn accepts_json(headers: &HeaderMap) -> bool {
    accepts(headers, header::ACCEPT.as_str(), "application/json")
}

/// libprocess's `Request::acceptsMediaType`: a missing header accepts everything; else an
/// entry naming the type, its family (`application/*`) or `*/*`, with a quality above 0.
pub fn accepts(headers: &HeaderMap, name: &str, media: &str) -> bool {
    let Some(value) = headers.get(name) else {
        return true;
    };
    let family = media.split('/').next().unwrap_or("");
    value.to_str().unwrap_or("").split(',').any(|entry| {
        let mut parts = entry.split(';').map(str::trim);
        let candidate = parts.next().unwrap_or("");
        let quality = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f64>().ok())
            .unwrap_or(1.0);
        let matches = candidate == media
            || candidate == "*/*"
            || candidate.strip_suffix("/*").is_some_and(|f| f == family);
        matches && quality > 0.0
    })
}

pub fn not_acceptable(accept: Accept) -> Response {
    match accept {
        Accept::ProtobufOnly => text(
            406,
            "Expecting 'Accept' to allow 'application/json' (the mesos-kernel embedded cluster does not produce application/x-protobuf)",
        ),
        _ => text(
            406,
            "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
        ),
    }
}

/// At most this much of what is queued goes out as one chunk.
const CHUNK: usize = 256 << 10;

/// `first` and the records queued behind it, up to `CHUNK` bytes, as one chunk: a flood
/// (a RECONCILE of 20,000 tasks answers 20,000 UPDATEs at once) then costs the connection
/// a write per chunk instead of one per record.
fn take_queued(rx: &mut event_queue::Receiver, first: Bytes) -> Bytes {
    let Ok(second) = rx.try_recv() else {
        return first;
    };
    let mut chunk = bytes::BytesMut::with_capacity(CHUNK.max(first.len() + second.len()));
    chunk.extend_from_slice(&first);
    chunk.extend_from_slice(&second);
    while chunk.len() < CHUNK {
        match rx.try_recv() {
            Ok(record) => chunk.extend_from_slice(&record),
            Err(_) => break,
        }
    }
    chunk.freeze()
}

/// A chunked RecordIO response fed by `rx`, with a HEARTBEAT record every `heartbeat` (the
/// first one, right after SUBSCRIBED, is queued by the state machine), `on_heartbeat`
/// called for each. `guard` lives as long as the client listens: dropping it tells the
/// cluster the stream closed.
pub fn event_stream<G: Send + 'static, H: Fn() + Send + 'static>(
    rx: event_queue::Receiver,
    heartbeat: Duration,
    heartbeat_record: Bytes,
    guard: G,
    on_heartbeat: H,
    extra_headers: Vec<(&'static str, String)>,
) -> Response {
    struct StreamState<G, H> {
        rx: event_queue::Receiver,
        ticks: tokio::time::Interval,
        heartbeat: Bytes,
        on_heartbeat: H,
        _guard: G,
    }
    let period = heartbeat.max(Duration::from_millis(10));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    // A late heartbeat is not followed by a burst to catch up: Mesos's heartbeater sends
    // the next one an interval after the last.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = StreamState {
        rx,
        ticks,
        heartbeat: heartbeat_record,
        on_heartbeat,
        _guard: guard,
    };
    let stream = futures::stream::unfold(state, |mut st| async move {
        // Queued events first: SUBSCRIBED must precede the first HEARTBEAT.
        tokio::select! {
            biased;
            item = st.rx.recv() => item.map(|first| {
                let records = take_queued(&mut st.rx, first);
                (Ok::<Bytes, Infallible>(records), st)
            }),
            _ = st.ticks.tick() => {
                (st.on_heartbeat)();
                let hb = st.heartbeat.clone();
                Some((Ok(hb), st))
            }
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in extra_headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_records_go_out_together_up_to_a_chunk() {
        let (tx, mut rx) = event_queue::channel(usize::MAX);
        let one = |b: &'static [u8]| Bytes::from_static(b);
        // Nothing behind it: the record as it is.
        assert_eq!(take_queued(&mut rx, one(b"1\na")), one(b"1\na"));
        for _ in 0..3 {
            assert!(tx.send(one(b"1\nb")).is_ok());
        }
        assert_eq!(take_queued(&mut rx, one(b"1\na")), one(b"1\na1\nb1\nb1\nb"));
        let big = Bytes::from(vec![b'x'; CHUNK]);
        assert!(tx.send(big.clone()).is_ok());
        assert!(tx.send(one(b"1\nc")).is_ok());
        assert_eq!(take_queued(&mut rx, one(b"1\na")).len(), 3 + CHUNK);
        assert_eq!(rx.try_recv().ok(), Some(one(b"1\nc")));
    }
}
