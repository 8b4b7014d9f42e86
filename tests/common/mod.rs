//! Test helpers: run cells on an `Engine` directly and collect what it publishes, and a
//! misbehaving HTTP server for error paths.
#![allow(dead_code)]

use mesos_kernel::engine::jq_worker::JqWorker;
use mesos_kernel::engine::Engine;
use mesos_kernel::jupyter::publisher::{Outgoing, Publisher};
use mesos_kernel::jupyter::stdin::StdinHandle;
use mesos_kernel::jupyter::wire::{Header, Message};
use mesos_kernel::jupyter::{CellError, ExecuteContext, Interpreter};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The jq worker the kernel binary provides (`mesos-kernel jq-worker`).
pub fn jq_worker() -> JqWorker {
    JqWorker::new(Some(env!("CARGO_BIN_EXE_mesos-kernel").into()))
}

/// What one cell published, in order: (msg_type, content).
pub type Published = Vec<(String, Value)>;

pub struct Harness {
    pub engine: Engine,
    count: u64,
}

impl Harness {
    /// An engine whose jq runs in a worker process, as in the kernel.
    pub fn new() -> Self {
        Self::with_engine(Engine::new().with_jq(jq_worker()))
    }

    pub fn with_engine(engine: Engine) -> Self {
        Harness { engine, count: 0 }
    }

    pub async fn run(&mut self, code: &str) -> (Result<(), CellError>, Published) {
        self.run_with(code, CancellationToken::new()).await
    }

    /// The context of the next cell (an execute_request of `code`) and the receiver of what
    /// it publishes.
    pub fn context(
        &mut self,
        code: &str,
        cancel: CancellationToken,
    ) -> (ExecuteContext, mpsc::UnboundedReceiver<Outgoing>) {
        self.count += 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let parent = Message {
            identities: vec![],
            header: Header::new("execute_request", "test", "test"),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({ "code": code }),
            buffers: vec![],
        };
        let ctx = ExecuteContext {
            publisher: Publisher::new(tx, parent),
            cancel,
            stdin: StdinHandle::disabled(),
            execution_count: self.count,
            silent: false,
        };
        (ctx, rx)
    }

    pub async fn run_with(
        &mut self,
        code: &str,
        cancel: CancellationToken,
    ) -> (Result<(), CellError>, Published) {
        let (ctx, mut rx) = self.context(code, cancel);
        let result = self.engine.execute(code, ctx).await;
        let mut published = Vec::new();
        while let Ok(out) = rx.try_recv() {
            if let Outgoing::Message(m) = out {
                published.push((m.header.msg_type.clone(), m.content.clone()));
            }
        }
        (result, published)
    }

    /// Runs a cell and keeps listening: what the kernel publishes for it later (the
    /// redraws of a live view) arrives in the returned `Live`.
    pub async fn run_live(&mut self, code: &str) -> (Result<(), CellError>, Live) {
        let (ctx, rx) = self.context(code, CancellationToken::new());
        let result = self.engine.execute(code, ctx).await;
        (
            result,
            Live {
                rx,
                seen: Vec::new(),
                dates: Vec::new(),
            },
        )
    }

    /// Runs a cell that must succeed; returns its execute_result's data.
    pub async fn ok(&mut self, code: &str) -> Value {
        let (result, published) = self.run(code).await;
        if let Err(e) = result {
            panic!("{code}: {} {}\n{:?}", e.ename, e.evalue, e.traceback);
        }
        published
            .iter()
            .rev()
            .find(|(t, _)| t == "execute_result")
            .map(|(_, c)| c["data"].clone())
            .unwrap_or(Value::Null)
    }

    /// Runs a cell that must fail; returns the error.
    pub async fn err(&mut self, code: &str) -> CellError {
        match self.run(code).await.0 {
            Ok(()) => panic!("{code}: expected an error"),
            Err(e) => e,
        }
    }

    pub fn var(&self, name: &str) -> Option<Value> {
        self.engine.variables().get(name).cloned()
    }
}

/// Streams of `text/plain` from published stream messages.
pub fn stdout(published: &Published) -> String {
    published
        .iter()
        .filter(|(t, c)| t == "stream" && c["name"] == "stdout")
        .map(|(_, c)| c["text"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The messages of one cell, as they keep coming.
pub struct Live {
    rx: mpsc::UnboundedReceiver<Outgoing>,
    /// Everything received so far, in order.
    pub seen: Published,
    /// When the kernel made each of them (the header's date).
    pub dates: Vec<String>,
}

impl Live {
    /// Waits until a message satisfies `want` (earlier ones count), or panics after
    /// `within`.
    pub async fn until(
        &mut self,
        within: std::time::Duration,
        what: &str,
        want: impl Fn(&str, &Value) -> bool,
    ) -> Value {
        if let Some((_, c)) = self.seen.iter().find(|(t, c)| want(t, c)) {
            return c.clone();
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(Outgoing::Message(m))) => {
                    let (t, c) = (m.header.msg_type.clone(), m.content.clone());
                    self.seen.push((t.clone(), c.clone()));
                    self.dates.push(m.header.date.clone());
                    if want(&t, &c) {
                        return c;
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => {
                    let last = self.seen.last().map(|(t, c)| {
                        let text = c["data"]["text/plain"].as_str().or(c["text"].as_str());
                        format!("{t}: {}", text.unwrap_or_default())
                    });
                    panic!(
                        "no {what} within {within:?}; {} messages, the last: {last:?}",
                        self.seen.len()
                    )
                }
            }
        }
    }
}

/// Serves `app` on a free loopback port; its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
