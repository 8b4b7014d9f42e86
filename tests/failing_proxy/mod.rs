//! A proxy in front of a master that fails on demand: it answers new requests with an
//! error status, holds them, stalls the event streams flowing through it (open, silent), ends
//! them, or goes away altogether. Streams opened before a failure keep flowing, as they
//! would from a master that fails new requests.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the proxy does with a new request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Pass,
    Answer(u16),
    /// Held until `release`, then answered with this status.
    Hold(u16),
}

#[derive(Clone)]
struct Shared {
    mode: Arc<Mutex<Mode>>,
    upstream: String,
    client: reqwest::Client,
    release: Arc<tokio::sync::Notify>,
    held: Arc<AtomicUsize>,
    /// Ends the event streams flowing now (as a master closing them would).
    streams: Arc<Mutex<CancellationToken>>,
    /// Answers so far, numbered; those numbered below `stalled_below` pass no more bytes.
    answers: Arc<AtomicU64>,
    stalled_below: Arc<AtomicU64>,
    /// Milliseconds every chunk of an answer but its first is held back (a slow link).
    lag_ms: Arc<AtomicU64>,
}

pub struct Proxy {
    port: u16,
    shared: Shared,
    stop: CancellationToken,
}

const SKIPPED_HEADERS: &[&str] = &["host", "connection", "content-length", "transfer-encoding"];

async fn forward(State(st): State<Shared>, req: Request) -> Response {
    let mode = *st.mode.lock().unwrap();
    if let Mode::Hold(_) = mode {
        st.held.fetch_add(1, Ordering::SeqCst);
        st.release.notified().await;
    }
    if let Mode::Answer(code) | Mode::Hold(code) = mode {
        let status = axum::http::StatusCode::from_u16(code).unwrap();
        return (status, "injected failure").into_response();
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = st
        .client
        .request(parts.method, format!("{}{path}", st.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if !SKIPPED_HEADERS.contains(&name.as_str()) {
            out = out.header(name, value);
        }
    }
    let answer = match out.send().await {
        Ok(a) => a,
        Err(e) => return (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !SKIPPED_HEADERS.contains(&name.as_str()) {
            response = response.header(name, value);
        }
    }
    // Streamed, so event streams flow through as they arrive.
    let ends = st.streams.lock().unwrap().clone();
    let number = st.answers.fetch_add(1, Ordering::SeqCst);
    let stalled_below = st.stalled_below.clone();
    let body = futures::StreamExt::filter(answer.bytes_stream(), move |_| {
        std::future::ready(number >= stalled_below.load(Ordering::SeqCst))
    });
    let lag = Duration::from_millis(st.lag_ms.load(Ordering::SeqCst));
    let body = futures::StreamExt::enumerate(body);
    let body = futures::StreamExt::then(body, move |(i, chunk)| async move {
        if i > 0 && !lag.is_zero() {
            tokio::time::sleep(lag).await;
        }
        chunk
    });
    let body = futures::StreamExt::take_until(body, ends.cancelled_owned());
    response.body(Body::from_stream(body)).unwrap()
}

impl Proxy {
    pub async fn start(upstream: String) -> Proxy {
        let shared = Shared {
            mode: Arc::new(Mutex::new(Mode::Pass)),
            upstream,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            release: Default::default(),
            held: Default::default(),
            streams: Default::default(),
            answers: Default::default(),
            stalled_below: Default::default(),
            lag_ms: Default::default(),
        };
        let mut proxy = Proxy {
            port: 0,
            shared,
            stop: CancellationToken::new(),
        };
        proxy.listen().await;
        proxy
    }

    /// Listens (again) on the proxy's port; every connection ends with `stop`.
    pub async fn listen(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        self.port = listener.local_addr().unwrap().port();
        self.stop = CancellationToken::new();
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(self.shared.clone());
        let stop = self.stop.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = tokio::select! {
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                    _ = stop.cancelled() => return,
                };
                let (app, stop) = (app.clone(), stop.clone());
                tokio::spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app));
                    tokio::select! {
                        _ = conn => {}
                        _ = stop.cancelled() => {}
                    }
                });
            }
        });
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Ends the streams flowing now, cleanly, as a master closing them does.
    pub fn end_streams(&self) {
        let mut streams = self.shared.streams.lock().unwrap();
        streams.cancel();
        *streams = CancellationToken::new();
    }

    /// The streams flowing now stay open but pass nothing more (heartbeats included), as
    /// over a connection that died without closing; later answers flow.
    pub fn stall_streams(&self) {
        let next = self.shared.answers.load(Ordering::SeqCst);
        self.shared.stalled_below.store(next, Ordering::SeqCst);
    }

    /// Answers opened from now on pass each chunk after their first `lag` late (in order).
    pub fn lag(&self, lag: Duration) {
        self.shared
            .lag_ms
            .store(lag.as_millis() as u64, Ordering::SeqCst);
    }

    /// Answers the held requests.
    pub fn release(&self) {
        self.shared.release.notify_waiters();
    }

    pub fn held(&self) -> usize {
        self.shared.held.load(Ordering::SeqCst)
    }

    /// As if the master went away: the port closes and open connections drop.
    pub fn shut_down(&self) {
        self.stop.cancel();
    }
}
