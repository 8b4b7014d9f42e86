//! What `%http` shows and a cassette keeps of an exchange: the request with its secrets
//! masked, the answer (or why there is none), the time, and what a curl line needs.

use super::{Lane, PREVIEW_BYTES};
use crate::mesos::client::ClientOptions;
use std::time::Duration;

/// The credentials as they may be shown: who, and where the secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHint {
    pub principal: String,
    /// The environment variable holding the secret (`%auth secret-env=VAR`), if any.
    pub env: Option<String>,
}

/// How TLS was set up, so a curl line can repeat it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsHint {
    pub ca: Option<String>,
    pub insecure: bool,
}

/// A request as it may be shown and kept: the URL without a password, the Authorization
/// header masked (`Basic ****`), the body as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Sent {
    pub fn new(
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
        options: &ClientOptions,
    ) -> Sent {
        let mut shown: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("authorization") {
                    (n.clone(), mask_authorization(v))
                } else {
                    (n.clone(), v.clone())
                }
            })
            .collect();
        if options.credentials.is_some() {
            shown.push(("Authorization".into(), "Basic ****".into()));
        }
        Sent {
            method: method.to_string(),
            url: mask_url(url),
            headers: shown,
            body: body.map(<[u8]>::to_vec),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// `Basic dXNlcjpwdw==` becomes `Basic ****`: the scheme stays, the secret never.
pub fn mask_authorization(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} ****"),
        None => "****".into(),
    }
}

/// `http://user:pw@host/` becomes `http://user:****@host/`.
pub fn mask_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub fn header_pairs(map: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The start of a body, and its whole size.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub bytes: Vec<u8>,
    pub size: usize,
}

impl Preview {
    pub fn of(bytes: &[u8]) -> Preview {
        Preview {
            bytes: bytes[..bytes.len().min(PREVIEW_BYTES)].to_vec(),
            size: bytes.len(),
        }
    }

    pub fn is_whole(&self) -> bool {
        self.bytes.len() == self.size
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A hop whose body is not read: a redirect followed, a 503 retried.
    Head {
        status: u16,
        headers: Vec<(String, String)>,
    },
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Preview,
    },
    /// A RecordIO event stream: its first records (with their lengths) and how many came.
    Stream {
        status: u16,
        headers: Vec<(String, String)>,
        records: Vec<Preview>,
        count: u64,
        end: Option<String>,
    },
    Failed(String),
    /// Given up before the answer came (a timeout or an interrupt).
    Abandoned,
}

/// One exchange, as `%http` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub n: u64,
    pub lane: Lane,
    pub sent: Sent,
    pub answer: Answer,
    pub elapsed: Duration,
    /// When the answer came from a cassette: how long it took when it was recorded.
    pub recorded: Option<Duration>,
    pub auth: Option<AuthHint>,
    pub tls: TlsHint,
}

/// What a cell shows at its end: its exchanges, how many more there were, and what went
/// wrong on replay in the background.
#[derive(Debug, Default)]
pub struct CellExchanges {
    pub exchanges: Vec<Exchange>,
    pub more: usize,
    /// Records that arrived while the cell ran on a stream opened before it (the UPDATE
    /// an ACCEPT caused), and how many more came.
    pub records: Vec<StreamRecord>,
    pub more_records: usize,
    pub problems: Vec<String>,
}

/// A record of an event stream, as `%http` shows it among a cell's exchanges.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// Its place in the session's order (exchanges have theirs).
    pub n: u64,
    /// The URL of the stream it came on.
    pub url: String,
    pub record: Preview,
}
