//! HTTP to Mesos masters and agents with reqwest (rustls): one request at a time per cell,
//! bounded by the session timeout and cancelled by an interrupt. Bodies are read with a
//! size cap so a runaway server cannot exhaust the kernel.

use crate::mesos::error::{error_message, MesosError};
use crate::mesos::exchange::{Sent, Tap, Via, Wire};
use crate::mesos::replay::Replayed;
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// Larger bodies are refused: a 100k-task state is far below this.
pub const MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

/// At most this much of a body's announced length is reserved before it arrives.
const PREALLOCATE_MAX: u64 = 64 * 1024 * 1024;

/// A response: its status, content type and body as JSON when it is JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as a value: JSON when it parses, else a string, null when empty.
    pub fn value(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(_) => Value::String(String::from_utf8_lossy(&self.body).into_owned()),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How to reach masters: extra CA, certificate checks, HTTP basic credentials, and the
/// wire every exchange passes (shown, recorded or replayed; shared by the clients built
/// from these options).
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// A PEM file of a private CA, trusted besides the system roots.
    pub ca: Option<std::path::PathBuf>,
    /// Accept any certificate (warned about on every use).
    pub insecure: bool,
    pub credentials: Option<Credentials>,
    pub wire: Wire,
}

/// A principal and its secret. The secret is never printed: `Debug` hides it.
#[derive(Clone)]
pub struct Credentials {
    pub principal: String,
    secret: String,
    /// The environment variable the secret came from, so a curl line can name it.
    env: Option<String>,
}

impl Credentials {
    pub fn new(principal: String, secret: String) -> Self {
        Credentials {
            principal,
            secret,
            env: None,
        }
    }

    pub fn from_env(mut self, var: &str) -> Self {
        self.env = Some(var.to_string());
        self
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn env(&self) -> Option<&str> {
        self.env.as_deref()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.principal)
    }
}

/// At most this many redirects (a standby master points at the leader once).
const MAX_REDIRECTS: usize = 5;

#[derive(Clone)]
pub struct Client {
    /// Built at the first request for the default options: it loads the system's root
    /// certificates (a few hundred files), which would otherwise delay the kernel's start.
    http: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    options: ClientOptions,
}

impl Client {
    pub fn new() -> Result<Self, MesosError> {
        Ok(Client {
            http: Default::default(),
            options: ClientOptions::default(),
        })
    }

    /// Builds at once, so a bad `ca=` file is reported when it is given.
    pub fn with_options(options: ClientOptions) -> Result<Self, MesosError> {
        let http = Self::build(&options)?;
        Ok(Client {
            http: std::sync::Arc::new(std::sync::OnceLock::from(http)),
            options,
        })
    }

    fn http(&self) -> Result<&reqwest::Client, MesosError> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let built = Self::build(&self.options)?;
        Ok(self.http.get_or_init(|| built))
    }

    fn build(options: &ClientOptions) -> Result<reqwest::Client, MesosError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("mesos-kernel/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            // Redirects are followed here, not by reqwest, so credentials survive the move
            // to the leading master (reqwest drops them across hosts).
            .redirect(reqwest::redirect::Policy::none());
        if let Some(ca) = &options.ca {
            let pem = std::fs::read(ca).map_err(|e| {
                MesosError::InvalidRequest(format!("cannot read the CA file {}: {e}", ca.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                MesosError::InvalidRequest(format!(
                    "{} is not a PEM certificate: {e}",
                    ca.display()
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if options.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        builder
            .build()
            .map_err(|e| MesosError::InvalidRequest(format!("cannot set up HTTP: {e}")))
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    pub fn wire(&self) -> &Wire {
        &self.options.wire
    }

    /// Whether answers come from a cassette (`%replay`), not from a master.
    pub fn replaying(&self) -> bool {
        self.options.wire.player().is_some()
    }

    fn prepare(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
        headers: &[(String, String)],
        body: Option<&Vec<u8>>,
    ) -> Result<reqwest::RequestBuilder, MesosError> {
        let mut req = self.http()?.request(method, url);
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        if let Some(c) = &self.options.credentials {
            req = req.basic_auth(&c.principal, Some(c.secret()));
        }
        if let Some(body) = body {
            req = req.body(body.clone());
        }
        Ok(req)
    }

    /// One hop: sent on the network, or answered from the cassette being replayed. With
    /// the wire tapped, the exchange under way comes back with the response.
    async fn hop(
        &self,
        via: Via,
        method: &reqwest::Method,
        url: &reqwest::Url,
        headers: &[(String, String)],
        body: Option<&Vec<u8>>,
    ) -> Result<(reqwest::Response, Option<Tap>), MesosError> {
        let wire = &self.options.wire;
        let body_bytes = body.map(Vec::as_slice);
        let tap = wire.tap(
            via,
            method.as_str(),
            url.as_str(),
            headers,
            body_bytes,
            &self.options,
        );
        if let Some(player) = wire.player() {
            let sent = match &tap {
                Some(t) => t.sent().clone(),
                None => Sent::new(
                    method.as_str(),
                    url.as_str(),
                    headers,
                    body_bytes,
                    &self.options,
                ),
            };
            return replayed_hop(&player, via, url, &sent, tap).await;
        }
        match self
            .prepare(method.clone(), url.clone(), headers, body)?
            .send()
            .await
        {
            Ok(response) => Ok((response, tap)),
            Err(e) => {
                let e = connection_error(url.as_str(), &e);
                if let (Some(t), MesosError::Connection { detail, .. }) = (tap, &e) {
                    t.failed(detail);
                }
                Err(e)
            }
        }
    }

    /// Sends, following redirects (scheme-relative `Location`s included) and retrying
    /// `503` with a growing pause; the caller bounds the whole with its timeout. Each hop
    /// is its own exchange on the wire.
    async fn send(
        &self,
        via: Via,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Result<(reqwest::Response, Option<Tap>), MesosError> {
        let mut m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| MesosError::InvalidRequest(format!("'{method}' is not an HTTP method")))?;
        let mut current = reqwest::Url::parse(url)
            .map_err(|e| MesosError::InvalidRequest(format!("'{url}' is not a URL: {e}")))?;
        let mut body = body;
        let mut redirects = 0;
        let mut pause = Duration::from_millis(100);
        loop {
            if current.scheme() == "https" && self.options.insecure {
                warn!("TLS certificates are NOT checked for {current} (insecure=true)");
            }
            let (resp, tap) = self.hop(via, &m, &current, headers, body.as_ref()).await?;
            let status = resp.status();
            if status.is_redirection() && redirects < MAX_REDIRECTS {
                if let Some(next) = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| current.join(l).ok())
                {
                    debug!("{current} redirects to {next}");
                    if let Some(t) = tap {
                        t.head(status.as_u16(), resp.headers());
                    }
                    if status == reqwest::StatusCode::SEE_OTHER {
                        m = reqwest::Method::GET;
                        body = None;
                    }
                    current = next;
                    redirects += 1;
                    continue;
                }
            }
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                // A master electing or recovering: try again shortly.
                debug!("{current} answered 503; retrying in {pause:?}");
                if let Some(t) = tap {
                    t.head(status.as_u16(), resp.headers());
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
                continue;
            }
            return Ok((resp, tap));
        }
    }

    /// Sends one request and reads the whole answer, whatever its status.
    pub async fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Reply, MesosError> {
        let work = async {
            let (resp, mut tap) = self.send(Via::Request, method, url, headers, body).await?;
            let status = resp.status().as_u16();
            let headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            // Room for the announced length up front (a big state is tens of MB, read in
            // small chunks), within a bound a lying server cannot push us past.
            let announced = resp.content_length().unwrap_or(0).min(PREALLOCATE_MAX);
            let mut body = Vec::with_capacity(announced as usize);
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        let detail = format!("the answer broke off: {e}");
                        if let Some(t) = tap.take() {
                            t.failed(&detail);
                        }
                        return Err(MesosError::BadResponse {
                            url: url.to_string(),
                            detail,
                        });
                    }
                };
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    let detail = format!("the answer is larger than {} MiB", MAX_BODY_BYTES >> 20);
                    if let Some(t) = tap.take() {
                        t.failed(&detail);
                    }
                    return Err(MesosError::BadResponse {
                        url: url.to_string(),
                        detail,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            if let Some(t) = tap {
                t.answered(status, headers.clone(), &body);
            }
            Ok(Reply {
                status,
                content_type,
                headers,
                body,
            })
        };
        tokio::select! {
            r = tokio::time::timeout(timeout, work) => r.unwrap_or_else(|_| Err(MesosError::Timeout {
                method: method.to_string(),
                url: url.to_string(),
                after: timeout,
            })),
            _ = cancel.cancelled() => Err(MesosError::Interrupted),
        }
    }

    /// Opens a streaming POST (the scheduler's SUBSCRIBE); the caller reads the body.
    pub async fn post_stream(
        &self,
        url: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, MesosError> {
        let (response, tap) = self
            .send(Via::Stream, "POST", url, &json_headers(), Some(body))
            .await?;
        Ok(match tap {
            Some(t) => t.stream(response).await,
            None => response,
        })
    }

    /// A v1 operator call (`POST base/api/v1`), answered with its JSON or a MesosHttpError.
    pub async fn operator(
        &self,
        base: &str,
        call: &Value,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Value, MesosError> {
        self.operator_answer(base, call, timeout, cancel)
            .await
            .map(|(_, value)| value)
    }

    /// An operator call's answer with its status (an empty 2xx body is `Value::Null`:
    /// Mesos answers most calls that change something so).
    pub async fn operator_answer(
        &self,
        base: &str,
        call: &Value,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(u16, Value), MesosError> {
        let reply = self.operator_reply(base, call, timeout, cancel).await?;
        if reply.body.is_empty() {
            return Ok((reply.status, Value::Null));
        }
        let value = parse_answer(
            &operator_url(base),
            &reply.body,
            reply.content_type.as_deref(),
        )?;
        Ok((reply.status, value))
    }

    /// An operator call's 2xx answer as it came (its JSON unparsed), or a MesosHttpError.
    pub async fn operator_reply(
        &self,
        base: &str,
        call: &Value,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Reply, MesosError> {
        let url = operator_url(base);
        let body = serde_json::to_vec(call).unwrap_or_default();
        let reply = self
            .request("POST", &url, &json_headers(), Some(body), timeout, cancel)
            .await?;
        check_status("POST", &url, &reply)?;
        Ok(reply)
    }

    /// A legacy GET endpoint (`/master/state`, `/files/read?...`) answered with its JSON.
    pub async fn get_json(
        &self,
        url: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Value, MesosError> {
        let reply = self.request("GET", url, &[], None, timeout, cancel).await?;
        check("GET", url, reply)
    }
}

/// A hop answered from the cassette being replayed (and shown, when tapped).
async fn replayed_hop(
    player: &std::sync::Arc<crate::mesos::replay::Player>,
    via: Via,
    url: &reqwest::Url,
    sent: &Sent,
    mut tap: Option<Tap>,
) -> Result<(reqwest::Response, Option<Tap>), MesosError> {
    let replayed = match player.answer(Wire::lane(via), sent).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(t) = tap {
                t.failed(&e.to_string());
            }
            return Err(e);
        }
    };
    let (response, ms) = match replayed {
        Replayed::Reply {
            status,
            headers,
            body,
            ms,
        } => (canned(status, &headers, url, reqwest::Body::from(body)), ms),
        Replayed::Stream {
            status,
            headers,
            body,
            ms,
        } => (
            canned(status, &headers, url, reqwest::Body::wrap_stream(body)),
            ms,
        ),
        Replayed::Failed { detail, ms } => {
            if let Some(mut t) = tap {
                t.replayed(ms);
                t.failed(&detail);
            }
            return Err(MesosError::Connection {
                url: url.to_string(),
                detail,
            });
        }
        // Recorded as given up on: it is not answered now either.
        Replayed::Abandoned => std::future::pending().await,
    };
    if let Some(t) = &mut tap {
        t.replayed(ms);
    }
    Ok((response, tap))
}

/// A response made from a cassette's answer to a request to `url` (headers that do not
/// parse are left out).
fn canned(
    status: u16,
    headers: &[(String, String)],
    url: &reqwest::Url,
    body: reqwest::Body,
) -> reqwest::Response {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
    }
    crate::mesos::exchange::rebuild(status, map, url.clone(), body)
}

/// Where a master's or agent's operator API is: `base/api/v1`.
pub fn operator_url(base: &str) -> String {
    format!("{}/api/v1", base.trim_end_matches('/'))
}

pub fn json_headers() -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("Accept".into(), "application/json".into()),
    ]
}

/// 2xx gives the body's value; anything else is an error with the server's message.
pub fn check(method: &str, url: &str, reply: Reply) -> Result<Value, MesosError> {
    check_status(method, url, &reply)?;
    if reply.body.is_empty() {
        return Ok(Value::Null);
    }
    parse_answer(url, &reply.body, reply.content_type.as_deref())
}

/// A 2xx answer's body as JSON, or an error saying what came instead.
pub fn parse_answer(
    url: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Value, MesosError> {
    serde_json::from_slice(body).map_err(|e| not_json(url, body, content_type, &e))
}

/// The error for a 2xx answer whose body did not parse as JSON.
pub fn not_json(
    url: &str,
    body: &[u8],
    content_type: Option<&str>,
    e: &serde_json::Error,
) -> MesosError {
    MesosError::BadResponse {
        url: url.to_string(),
        detail: format!(
            "the answer ({} bytes{}) is not JSON: {e}",
            body.len(),
            content_type.map(|c| format!(", {c}")).unwrap_or_default()
        ),
    }
}

/// Anything but 2xx is an error with the server's message.
pub fn check_status(method: &str, url: &str, reply: &Reply) -> Result<(), MesosError> {
    if (200..300).contains(&reply.status) {
        return Ok(());
    }
    let status_text = reqwest::StatusCode::from_u16(reply.status)
        .ok()
        .and_then(|s| {
            s.canonical_reason()
                .map(|r| format!("{} {r}", reply.status))
        })
        .unwrap_or_else(|| reply.status.to_string());
    Err(MesosError::Http {
        method: method.to_string(),
        url: url.to_string(),
        status: reply.status,
        message: error_message(&reply.body, &status_text),
    })
}

fn connection_error(url: &str, e: &reqwest::Error) -> MesosError {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    MesosError::Connection {
        url: url.to_string(),
        // A refused certificate means the master is there but not trusted; say what helps.
        detail: if detail.contains("certificate") {
            format!("{detail}; the master's TLS certificate is not trusted (%master URL ca=PATH adds a CA, insecure=true skips the check)")
        } else {
            format!("{detail}; is the master running there? (%master sets it)")
        },
    }
}
