//! Helpers for the cluster's integration tests: start a cluster on ephemeral loopback ports,
//! speak to it over real HTTP, and read its RecordIO event streams with deadlines (never
//! sleeps).
#![allow(dead_code)]

use mesos_kernel::cluster::{self, Cluster, ClusterConfig};
use mesos_kernel::mesos::recordio::Decoder as RecordIoDecoder;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::time::Duration;

pub const DEADLINE: Duration = Duration::from_secs(10);

/// Basic-auth credentials every request of this test binary sends, once set.
static CREDENTIALS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// Makes every request of this test binary authenticate as `principal` (for a cluster
/// started with `--credentials`).
pub fn authenticate_as(principal: &str, secret: &str) {
    let _ = CREDENTIALS.set((principal.to_string(), secret.to_string()));
}

/// A request with the credentials, if any were set.
pub fn authed(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match CREDENTIALS.get() {
        Some((principal, secret)) => req.basic_auth(principal, Some(secret)),
        None => req,
    }
}

pub async fn start() -> Cluster {
    start_with(|_| {}).await
}

pub async fn start_with(tune: impl FnOnce(&mut ClusterConfig)) -> Cluster {
    let mut config = ClusterConfig {
        agents: 1,
        heartbeat_interval: Duration::from_millis(300),
        kill_grace: Duration::from_millis(300),
        seed: Some(42),
        ..ClusterConfig::default()
    };
    tune(&mut config);
    match cluster::start(config).await {
        Ok(c) => c,
        Err(e) => panic!("cluster did not start: {e}"),
    }
}

/// A client for calls that answer at once (streams use `stream_client`).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap_or_else(|e| panic!("reqwest client: {e}"))
}

/// Whether the master at `master` says it is the elected leader (its own metrics, asked
/// without following redirects); None when it does not answer.
pub async fn elected(master: &str) -> Option<bool> {
    let m: Value = reqwest::Client::builder()
        .timeout(DEADLINE)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()?
        .get(format!("{master}/metrics/snapshot"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    Some(m["master/elected"] == 1.0)
}

/// Polls until `f` is true, failing the test when `within` passes first.
pub async fn until<F, Fut>(what: &str, within: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + within;
    while !f().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn stream_client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs a JSON body; answers status, headers and body text.
pub async fn post(url: &str, body: &Value, stream_id: Option<&str>) -> (u16, String) {
    let mut req = authed(client().post(url))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(s) = stream_id {
        req = req.header("Mesos-Stream-Id", s);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

pub async fn get_json(url: &str) -> Value {
    let resp = authed(client().get(url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status().as_u16(), 200, "GET {url}");
    resp.json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

pub async fn operator(url: &str, call: Value) -> Value {
    let (status, body) = post(&format!("{url}/api/v1"), &call, None).await;
    assert_eq!(status, 200, "{call} -> {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}"))
}

/// An open event stream (scheduler or operator SUBSCRIBE).
pub struct Events {
    resp: reqwest::Response,
    decoder: RecordIoDecoder,
    queue: VecDeque<Value>,
    /// Offers seen while waiting for something else, still outstanding.
    offers: VecDeque<Value>,
    pub stream_id: Option<String>,
}

impl Events {
    pub async fn open(url: &str, body: &Value) -> Events {
        let resp = authed(stream_client().post(url))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("SUBSCRIBE: {e}"));
        assert_eq!(resp.status().as_u16(), 200, "SUBSCRIBE status");
        let stream_id = resp
            .headers()
            .get("Mesos-Stream-Id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Events {
            resp,
            decoder: RecordIoDecoder::new(),
            queue: VecDeque::new(),
            offers: VecDeque::new(),
            stream_id,
        }
    }

    /// The next event, or `None` when the stream ended.
    pub async fn next(&mut self) -> Option<Value> {
        let fut = async {
            loop {
                if let Some(v) = self.queue.pop_front() {
                    return Some(v);
                }
                while let Some(r) = self.decoder.next_record() {
                    let bytes = r.unwrap_or_else(|e| panic!("bad RecordIO: {e}"));
                    let v: Value = serde_json::from_slice(&bytes)
                        .unwrap_or_else(|e| panic!("bad event JSON: {e}"));
                    self.queue.push_back(v);
                }
                if !self.queue.is_empty() {
                    continue;
                }
                match self.resp.chunk().await {
                    Ok(Some(chunk)) => self.decoder.push(&chunk),
                    _ => return None,
                }
            }
        };
        match tokio::time::timeout(DEADLINE, fut).await {
            Ok(v) => v,
            Err(_) => panic!("no event within {DEADLINE:?}"),
        }
    }

    /// The next event of one type, skipping others (heartbeats ...).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "no {kind} event within {DEADLINE:?}"
            );
            match self.next().await {
                Some(e) if e["type"] == kind => return e,
                Some(e) if e["type"] == "OFFERS" => {
                    let offers = e["offers"]["offers"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    self.offers.extend(offers);
                }
                Some(e) if e["type"] == "RESCIND" => {
                    let gone = e["rescind"]["offer_id"].clone();
                    self.offers.retain(|o| o["id"] != gone);
                }
                Some(_) => continue,
                None => panic!("stream ended while waiting for {kind}"),
            }
        }
    }

    /// An outstanding offer: one seen earlier, or the next to come.
    pub async fn offer(&mut self) -> Value {
        if let Some(o) = self.offers.pop_front() {
            return o;
        }
        let e = self.next_of("OFFERS").await;
        let offers = e["offers"]["offers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        self.offers.extend(offers);
        self.offers.pop_front().unwrap_or_default()
    }

    /// The next UPDATE for a task, acknowledged when it carries a uuid.
    pub async fn update_for(&mut self, fw: &Framework, task_id: &str) -> Value {
        loop {
            let e = self.next_of("UPDATE").await;
            let status = e["update"]["status"].clone();
            if status["task_id"]["value"] != task_id {
                continue;
            }
            if status.get("uuid").is_some() {
                fw.ack(&status).await;
            }
            return status;
        }
    }
}

/// A subscribed framework: its ids and its stream.
pub struct Framework {
    pub master: String,
    pub id: String,
    pub stream_id: String,
}

impl Framework {
    pub async fn subscribe(master: &str, info: Value) -> (Framework, Events) {
        let mut call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}});
        // Mesos wants the framework id twice when re-subscribing.
        if let Some(id) = call.pointer("/subscribe/framework_info/id").cloned() {
            call["framework_id"] = id;
        }
        let mut events = Events::open(&format!("{master}/api/v1/scheduler"), &call).await;
        let subscribed = events.next_of("SUBSCRIBED").await;
        let id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let stream_id = events.stream_id.clone().unwrap_or_default();
        (
            Framework {
                master: master.to_string(),
                id,
                stream_id,
            },
            events,
        )
    }

    /// Sends a scheduler call with this framework's id and stream id.
    pub async fn call(&self, mut call: Value) -> (u16, String) {
        call["framework_id"] = json!({"value": self.id});
        post(
            &format!("{}/api/v1/scheduler", self.master),
            &call,
            Some(&self.stream_id),
        )
        .await
    }

    pub async fn ack(&self, status: &Value) {
        let (code, body) = self
            .call(json!({"type": "ACKNOWLEDGE", "acknowledge": {
                "agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": status["uuid"]}}))
            .await;
        assert_eq!(code, 202, "ACKNOWLEDGE: {body}");
    }
}

pub fn scalar(name: &str, v: f64) -> Value {
    json!({"name": name, "type": "SCALAR", "scalar": {"value": v}})
}

pub fn command_task(id: &str, agent_id: &Value, cmd: &str) -> Value {
    json!({
        "name": id, "task_id": {"value": id}, "agent_id": agent_id,
        "command": {"value": cmd, "shell": true},
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]
    })
}

pub fn launch(offer: &Value, tasks: Vec<Value>) -> Value {
    json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
        "filters": {"refuse_seconds": 0}
    }})
}

/// Waits until a task reaches `state` (acknowledging updates on the way).
pub async fn until_state(events: &mut Events, fw: &Framework, task_id: &str, state: &str) -> Value {
    loop {
        let s = events.update_for(fw, task_id).await;
        if s["state"] == state {
            return s;
        }
        assert!(
            !matches!(
                s["state"].as_str(),
                Some("TASK_FINISHED" | "TASK_FAILED" | "TASK_KILLED" | "TASK_ERROR" | "TASK_LOST")
            ),
            "task {task_id} ended in {s} while waiting for {state}"
        );
    }
}

pub fn info() -> Value {
    json!({"user": "tester", "name": "cluster tests"})
}
