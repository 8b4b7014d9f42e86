//! Cassettes: a session's HTTP exchanges, stream records and cell starts as JSON Lines, one
//! line each, with the session's order `n` and the time `t` in seconds since recording
//! began. Secrets are left out: the Authorization header is kept as `Basic ****` and a
//! password in a URL as `****`. The format is documented in `docs/cassette.md`.

use crate::mesos::exchange::{Lane, OutcomeView, Sent};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const VERSION: u32 = 1;
/// How a stream ended, in an `end` line.
pub const CLOSED_BY_MASTER: &str = "closed by the master";
pub const CLOSED_BY_KERNEL: &str = "closed by the kernel";
pub const BROKE: &str = "broke: ";

/// A body as it was on the wire: JSON embedded as it came (when it is JSON on one line),
/// else text, else base64.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Body {
    Json(Box<RawValue>),
    Text(String),
    Base64(String),
}

impl Body {
    pub fn of(bytes: &[u8]) -> Body {
        use base64::Engine as _;
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                // Line breaks would end the cassette's line; such JSON is kept as text.
                if !text.contains(['\n', '\r']) && !text.trim().is_empty() {
                    if let Ok(raw) = RawValue::from_string(text.to_string()) {
                        return Body::Json(raw);
                    }
                }
                Body::Text(text.to_string())
            }
            Err(_) => Body::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        use base64::Engine as _;
        match self {
            Body::Json(raw) => Ok(raw.get().as_bytes().to_vec()),
            Body::Text(t) => Ok(t.as_bytes().to_vec()),
            Body::Base64(b) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|e| format!("a base64 body does not decode: {e}")),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HeaderLine {
    pub kind: String,
    pub version: u32,
    pub kernel: String,
    /// When recording began (RFC 3339).
    pub recorded: String,
    /// The master the session used when recording began.
    pub master: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RequestLine {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ResponseLine {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorLine {
    /// `failed` (nothing answered, or the answer broke off) or `abandoned` (the kernel gave
    /// up first: a timeout or an interrupt).
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// One exchange (`kind: exchange`), or the opening of a stream (`kind: stream`).
#[derive(Debug, Serialize, Deserialize)]
pub struct ExchangeLine {
    pub kind: String,
    pub n: u64,
    pub t: f64,
    pub lane: String,
    pub request: RequestLine,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorLine>,
    pub ms: f64,
}

/// One RecordIO record of a stream, with its length.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventLine {
    pub kind: String,
    pub n: u64,
    pub t: f64,
    pub stream: u64,
    pub length: usize,
    pub record: Body,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EndLine {
    pub kind: String,
    pub n: u64,
    pub t: f64,
    pub stream: u64,
    pub why: String,
}

/// A cell began (a point the replay keeps events in step with).
#[derive(Debug, Serialize, Deserialize)]
pub struct CellLine {
    pub kind: String,
    pub n: u64,
    pub t: f64,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Line {
    Header(HeaderLine),
    Exchange(ExchangeLine),
    Event(EventLine),
    End(EndLine),
    Cell(CellLine),
}

fn seconds(t: f64) -> f64 {
    (t * 1e6).round() / 1e6
}

pub(crate) fn exchange_line(
    n: u64,
    t: f64,
    lane: Lane,
    sent: &Sent,
    outcome: &OutcomeView<'_>,
    elapsed: Duration,
) -> Line {
    let request = RequestLine {
        method: sent.method.clone(),
        url: sent.url.clone(),
        headers: sent.headers.clone(),
        body: sent.body.as_deref().map(Body::of),
    };
    let (kind, response, error) = match outcome {
        OutcomeView::Response {
            status,
            headers,
            body,
        } => {
            let opens = lane == Lane::Stream && *status == 200 && body.is_none();
            (
                if opens { "stream" } else { "exchange" },
                Some(ResponseLine {
                    status: *status,
                    headers: headers.to_vec(),
                    body: body.filter(|b| !b.is_empty()).map(Body::of),
                }),
                None,
            )
        }
        OutcomeView::Failed(detail) => (
            "exchange",
            None,
            Some(ErrorLine {
                kind: "failed".into(),
                detail: detail.to_string(),
            }),
        ),
        OutcomeView::Abandoned => (
            "exchange",
            None,
            Some(ErrorLine {
                kind: "abandoned".into(),
                detail: String::new(),
            }),
        ),
    };
    Line::Exchange(ExchangeLine {
        kind: kind.into(),
        n,
        t: seconds(t),
        lane: lane.name().into(),
        request,
        response,
        error,
        ms: (elapsed.as_secs_f64() * 1e6).round() / 1e3,
    })
}

pub(crate) fn event_line(n: u64, t: f64, stream: u64, record: &[u8]) -> Line {
    Line::Event(EventLine {
        kind: "event".into(),
        n,
        t: seconds(t),
        stream,
        length: record.len(),
        record: Body::of(record),
    })
}

pub(crate) fn end_line(n: u64, t: f64, stream: u64, why: &str) -> Line {
    Line::End(EndLine {
        kind: "end".into(),
        n,
        t: seconds(t),
        stream,
        why: why.to_string(),
    })
}

/// What a recording wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub path: PathBuf,
    pub exchanges: u64,
    pub records: u64,
    pub cells: u64,
    pub problem: Option<String>,
}

/// Writes a cassette, a line at a time (flushed, so a crash keeps what came before).
pub struct Recorder {
    out: BufWriter<std::fs::File>,
    path: PathBuf,
    started: Instant,
    epoch: u64,
    exchanges: u64,
    records: u64,
    cells: u64,
    problem: Option<String>,
    failed: bool,
}

static EPOCHS: AtomicU64 = AtomicU64::new(0);

impl Recorder {
    pub fn create(path: &Path, master: &str) -> Result<Recorder, String> {
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let mut r = Recorder {
            out: BufWriter::new(file),
            path: path.to_path_buf(),
            started: Instant::now(),
            epoch: EPOCHS.fetch_add(1, Ordering::Relaxed) + 1,
            exchanges: 0,
            records: 0,
            cells: 0,
            problem: None,
            failed: false,
        };
        r.write(&Line::Header(HeaderLine {
            kind: "cassette".into(),
            version: VERSION,
            kernel: format!("mesos-kernel {}", env!("CARGO_PKG_VERSION")),
            recorded: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            master: master.to_string(),
        }));
        match r.problem.take() {
            Some(p) => Err(p),
            None => Ok(r),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Each recording has its own number: a stream opened under an earlier one is not
    /// written into a later one.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Seconds since recording began.
    pub fn t(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn cell(&mut self, n: u64) {
        let line = Line::Cell(CellLine {
            kind: "cell".into(),
            n,
            t: seconds(self.t()),
        });
        self.write(&line);
    }

    pub fn write(&mut self, line: &Line) {
        if self.failed {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, line)
            .map_err(std::io::Error::from)
            .and_then(|_| self.out.write_all(b"\n"))
            .and_then(|_| self.out.flush());
        match written {
            Ok(()) => match line {
                Line::Exchange(_) => self.exchanges += 1,
                Line::Event(_) => self.records += 1,
                Line::Cell(_) => self.cells += 1,
                Line::Header(_) | Line::End(_) => {}
            },
            Err(e) => {
                self.failed = true;
                let p = format!(
                    "%record: writing {} failed ({e}); the recording stopped there",
                    self.path.display()
                );
                tracing::warn!("{p}");
                self.problem = Some(p);
            }
        }
    }

    pub fn take_problem(&mut self) -> Option<String> {
        self.problem.take()
    }

    pub fn finish(mut self) -> Summary {
        let _ = self.out.flush();
        Summary {
            path: self.path.clone(),
            exchanges: self.exchanges,
            records: self.records,
            cells: self.cells,
            problem: self.problem.take(),
        }
    }
}

/// A cassette's lines after the header, in the session's order.
#[derive(Debug)]
pub enum Item {
    Exchange(ExchangeLine),
    Event(EventLine),
    End(EndLine),
    Cell(CellLine),
}

impl Item {
    pub fn n(&self) -> u64 {
        match self {
            Item::Exchange(x) => x.n,
            Item::Event(e) => e.n,
            Item::End(e) => e.n,
            Item::Cell(c) => c.n,
        }
    }

    pub fn t(&self) -> f64 {
        match self {
            Item::Exchange(x) => x.t,
            Item::Event(e) => e.t,
            Item::End(e) => e.t,
            Item::Cell(c) => c.t,
        }
    }
}

#[derive(Debug)]
pub struct Cassette {
    pub header: HeaderLine,
    /// Sorted by `n`: exchanges are written when they end, so overlapping ones may be out
    /// of order in the file.
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
struct KindOnly {
    kind: String,
}

/// Reads a cassette; a line that is not one names its number.
pub fn load(path: &Path) -> Result<Cassette, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut header = None;
    let mut items = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let at = || format!("{} line {}", path.display(), i + 1);
        let line = line.map_err(|e| format!("{}: {e}", at()))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |e: serde_json::Error| format!("{}: not a cassette line ({e})", at());
        let kind: KindOnly = serde_json::from_str(&line).map_err(bad)?;
        if header.is_none() {
            if kind.kind != "cassette" {
                return Err(format!(
                    "{} is not a cassette: its first line should say \"kind\": \"cassette\"",
                    path.display()
                ));
            }
            let h: HeaderLine = serde_json::from_str(&line).map_err(bad)?;
            if h.version > VERSION {
                return Err(format!(
                    "{} is a version {} cassette; this kernel reads version {VERSION}",
                    path.display(),
                    h.version
                ));
            }
            header = Some(h);
            continue;
        }
        items.push(match kind.kind.as_str() {
            "exchange" | "stream" => {
                let x: ExchangeLine = serde_json::from_str(&line).map_err(bad)?;
                if Lane::parse(&x.lane).is_none() {
                    return Err(format!("{}: unknown lane {:?}", at(), x.lane));
                }
                Item::Exchange(x)
            }
            "event" => Item::Event(serde_json::from_str(&line).map_err(bad)?),
            "end" => Item::End(serde_json::from_str(&line).map_err(bad)?),
            "cell" => Item::Cell(serde_json::from_str(&line).map_err(bad)?),
            other => return Err(format!("{}: unknown kind {other:?}", at())),
        });
    }
    let header = header.ok_or_else(|| format!("{} is empty", path.display()))?;
    items.sort_by_key(Item::n);
    Ok(Cassette { header, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_keep_their_bytes() {
        for bytes in [
            &br#"{"b":1,"a":[1.50,2e3]}"#[..],
            b"{\n  \"pretty\": true\n}",
            b"plain text",
            b"",
            &[0xff, 0x00, 0x10][..],
        ] {
            let body = Body::of(bytes);
            let line = serde_json::to_string(&body).unwrap();
            assert!(!line.contains('\n'));
            let back: Body = serde_json::from_str(&line).unwrap();
            assert_eq!(back.bytes().unwrap(), bytes, "{line}");
        }
        // Compact JSON is embedded as it came, readable with jq.
        let line = serde_json::to_string(&Body::of(br#"{"b":1,"a":[1.50,2e3]}"#)).unwrap();
        assert_eq!(line, r#"{"json":{"b":1,"a":[1.50,2e3]}}"#);
    }

    #[test]
    fn a_cassette_reads_back_in_order() {
        let dir = std::env::temp_dir().join(format!("cassette-{}", uuid::Uuid::new_v4()));
        let mut r = Recorder::create(&dir, "http://m:5050").unwrap();
        r.cell(1);
        let sent = Sent {
            method: "POST".into(),
            url: "http://m:5050/api/v1".into(),
            headers: vec![("Authorization".into(), "Basic ****".into())],
            body: Some(br#"{"type":"GET_HEALTH"}"#.to_vec()),
        };
        let ok = OutcomeView::Response {
            status: 200,
            headers: &[],
            body: Some(br#"{"healthy":true}"#),
        };
        // Written out of order, as overlapping exchanges are.
        r.write(&exchange_line(
            3,
            0.5,
            Lane::Cell,
            &sent,
            &ok,
            Duration::from_millis(2),
        ));
        r.write(&event_line(2, 0.25, 9, br#"{"type":"HEARTBEAT"}"#));
        let summary = r.finish();
        assert_eq!(
            (summary.exchanges, summary.records, summary.cells),
            (1, 1, 1)
        );
        let c = load(&dir).unwrap();
        assert_eq!(c.header.master, "http://m:5050");
        let ns: Vec<u64> = c.items.iter().map(Item::n).collect();
        assert_eq!(ns, vec![1, 2, 3]);
        let Item::Exchange(x) = &c.items[2] else {
            panic!()
        };
        assert_eq!(x.kind, "exchange");
        assert_eq!(x.ms, 2.0);
        let text = std::fs::read_to_string(&dir).unwrap();
        assert!(
            text.contains(r#""body":{"json":{"type":"GET_HEALTH"}}"#),
            "{text}"
        );
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn bad_cassettes_say_where() {
        let dir = std::env::temp_dir().join(format!("cassette-{}", uuid::Uuid::new_v4()));
        std::fs::write(&dir, "{\"kind\": \"exchange\"}\n").unwrap();
        assert!(load(&dir).unwrap_err().contains("is not a cassette"));
        std::fs::write(
            &dir,
            "{\"kind\":\"cassette\",\"version\":1,\"kernel\":\"k\",\"recorded\":\"r\",\"master\":\"m\"}\nnot json\n",
        )
        .unwrap();
        assert!(load(&dir).unwrap_err().contains("line 2"));
        std::fs::remove_file(&dir).unwrap();
    }
}
