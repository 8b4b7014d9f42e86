//! An exchange under way (`Tap`), finished by its answer, and a live stream's body passed on
//! to the scheduler session record by record, each shown and recorded as it goes by.

use super::{
    cassette, header_pairs, Answer, AuthHint, Exchange, Lane, Preview, Sent, StreamRecord, TlsHint,
    Wire, RECORD, SHOWN_RECORDS,
};
use crate::mesos::cassette::Recorder;
use crate::mesos::recordio::Decoder;
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How an exchange ended, with the whole body for the cassette.
enum Outcome<'a> {
    Head(u16, Vec<(String, String)>),
    Body(u16, Vec<(String, String)>, &'a [u8]),
    StreamOpened(u16, Vec<(String, String)>),
    Failed(String),
    Abandoned,
}

/// An exchange under way. Finished by its answer; dropped before that, it is abandoned.
pub struct Tap {
    pub(super) wire: Wire,
    pub(super) n: u64,
    pub(super) lane: Lane,
    pub(super) started: Instant,
    pub(super) t: f64,
    pub(super) sent: Sent,
    pub(super) auth: Option<AuthHint>,
    pub(super) tls: TlsHint,
    pub(super) show: bool,
    /// The recording this exchange belongs to (a new `%record` starts another).
    pub(super) epoch: Option<u64>,
    pub(super) recorded: Option<Duration>,
    pub(super) finished: bool,
}

impl Tap {
    pub fn sent(&self) -> &Sent {
        &self.sent
    }

    /// The answer came from a cassette, where it took `ms`.
    pub fn replayed(&mut self, ms: f64) {
        self.recorded = Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }

    /// A hop whose body is not read (a redirect, a 503 retried).
    pub fn head(mut self, status: u16, headers: &reqwest::header::HeaderMap) {
        self.finish(Outcome::Head(status, header_pairs(headers)));
    }

    pub fn answered(mut self, status: u16, headers: Vec<(String, String)>, body: &[u8]) {
        self.finish(Outcome::Body(status, headers, body));
    }

    pub fn failed(mut self, detail: &str) {
        self.finish(Outcome::Failed(detail.to_string()));
    }

    /// A stream's answer: a 200 is passed on record by record (each shown and recorded as
    /// it goes by); any other status is read whole, as an ordinary answer.
    pub async fn stream(mut self, response: reqwest::Response) -> reqwest::Response {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let url = response.url().clone();
        let pairs = header_pairs(&headers);
        if status != 200 {
            let body = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    self.finish(Outcome::Failed(format!("the answer broke off: {e}")));
                    Bytes::new()
                }
            };
            if !self.finished {
                self.finish(Outcome::Body(status, pairs, &body));
            }
            return rebuild(status, headers, url, reqwest::Body::from(body));
        }
        let shown = self.finish(Outcome::StreamOpened(status, pairs));
        let tapped = Tapped {
            inner: Box::pin(response.bytes_stream()),
            wire: self.wire.clone(),
            stream: self.n,
            url: self.sent.url.clone(),
            opened_in: self.wire.running(),
            shown,
            epoch: self.epoch,
            decoder: Some(Decoder::new()),
            ended: false,
            unread: false,
        };
        rebuild(status, headers, url, reqwest::Body::wrap_stream(tapped))
    }

    fn finish(&mut self, outcome: Outcome<'_>) -> Option<Arc<Mutex<Exchange>>> {
        self.finished = true;
        let elapsed = self.started.elapsed();
        if let Some(epoch) = self.epoch {
            let line = cassette::exchange_line(
                self.n,
                self.t,
                self.lane,
                &self.sent,
                &outcome_view(&outcome),
                elapsed,
            );
            self.wire.with_recorder(|r| {
                if r.epoch() == epoch {
                    r.write(&line);
                }
            });
        }
        if !self.show {
            return None;
        }
        let answer = match outcome {
            Outcome::Head(status, headers) => Answer::Head { status, headers },
            Outcome::Body(status, headers, body) => Answer::Reply {
                status,
                headers,
                body: Preview::of(body),
            },
            Outcome::StreamOpened(status, headers) => Answer::Stream {
                status,
                headers,
                records: Vec::new(),
                count: 0,
                end: None,
            },
            Outcome::Failed(detail) => Answer::Failed(detail),
            Outcome::Abandoned => Answer::Abandoned,
        };
        let exchange = Arc::new(Mutex::new(Exchange {
            n: self.n,
            lane: self.lane,
            sent: self.sent.clone(),
            answer,
            elapsed,
            recorded: self.recorded,
            auth: self.auth.clone(),
            tls: self.tls.clone(),
        }));
        self.wire.keep(exchange.clone());
        Some(exchange)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(Outcome::Abandoned);
        }
    }
}

/// How an outcome reads in a cassette.
pub(crate) enum OutcomeView<'a> {
    Response {
        status: u16,
        headers: &'a [(String, String)],
        body: Option<&'a [u8]>,
    },
    Failed(&'a str),
    Abandoned,
}

fn outcome_view<'a>(o: &'a Outcome<'a>) -> OutcomeView<'a> {
    match o {
        Outcome::Head(status, headers) | Outcome::StreamOpened(status, headers) => {
            OutcomeView::Response {
                status: *status,
                headers,
                body: None,
            }
        }
        Outcome::Body(status, headers, body) => OutcomeView::Response {
            status: *status,
            headers,
            body: Some(body),
        },
        Outcome::Failed(d) => OutcomeView::Failed(d),
        Outcome::Abandoned => OutcomeView::Abandoned,
    }
}

/// A response with the same status, headers and URL (where it came from, after
/// redirects) and another body.
pub(crate) fn rebuild(
    status: u16,
    headers: reqwest::header::HeaderMap,
    url: reqwest::Url,
    body: reqwest::Body,
) -> reqwest::Response {
    use reqwest::ResponseBuilderExt as _;
    let mut builder = http::Response::builder().status(status).url(url);
    if let Some(h) = builder.headers_mut() {
        *h = headers;
    }
    match builder.body(body) {
        Ok(r) => reqwest::Response::from(r),
        // Only an invalid status fails, and the status came from a response.
        Err(_) => reqwest::Response::from(http::Response::new(reqwest::Body::from(Vec::new()))),
    }
}

/// A live stream's body on its way to the scheduler session: each record is shown and
/// recorded as it passes; the bytes pass unchanged.
struct Tapped {
    inner: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    wire: Wire,
    /// The `n` of the exchange that opened the stream.
    stream: u64,
    url: String,
    /// The cell that ran when it opened: its records show in the opening exchange; those
    /// of later cells show among those cells' exchanges.
    opened_in: u64,
    shown: Option<Arc<Mutex<Exchange>>>,
    epoch: Option<u64>,
    /// None after a framing error: the session reports it; the rest is not decoded here.
    decoder: Option<Decoder>,
    ended: bool,
    /// Records were recorded and handed to the reader, which has not asked for more yet.
    unread: bool,
}

impl Tapped {
    fn set_unread(&mut self, unread: bool) {
        if self.unread != unread {
            self.unread = unread;
            self.wire.stream_unread(unread);
        }
    }

    /// Shows and records the chunk's complete records; answers how many there were.
    fn observe(&mut self, chunk: &[u8]) -> usize {
        let Some(decoder) = self.decoder.as_mut() else {
            return 0;
        };
        decoder.push(chunk);
        let mut records = Vec::new();
        loop {
            match decoder.next_record() {
                Some(Ok(r)) => records.push(r),
                Some(Err(_)) => {
                    self.decoder = None;
                    break;
                }
                None => break,
            }
        }
        let count = records.len();
        for record in records {
            let n = self.wire.next_n();
            self.write(|r| cassette::event_line(n, r.t(), self.stream, &record));
            if let Some(ex) = &self.shown {
                if let Ok(mut ex) = ex.lock() {
                    if let Answer::Stream { records, count, .. } = &mut ex.answer {
                        if records.len() < SHOWN_RECORDS && self.wire.running() == self.opened_in {
                            records.push(Preview::of(&record));
                        }
                        *count += 1;
                    }
                }
                if self.wire.running() != self.opened_in {
                    self.wire.keep_record(StreamRecord {
                        n,
                        url: self.url.clone(),
                        record: Preview::of(&record),
                    });
                }
            }
        }
        count
    }

    fn write(&self, line: impl FnOnce(&Recorder) -> cassette::Line) {
        let Some(epoch) = self.epoch else { return };
        if self.wire.flags() & RECORD == 0 {
            return;
        }
        self.wire.with_recorder(|r| {
            if r.epoch() == epoch {
                let l = line(r);
                r.write(&l);
            }
        });
    }

    fn end(&mut self, why: &str) {
        if self.ended {
            return;
        }
        self.ended = true;
        let n = self.wire.next_n();
        self.write(|r| cassette::end_line(n, r.t(), self.stream, why));
        if let Some(ex) = &self.shown {
            if let Ok(mut ex) = ex.lock() {
                if let Answer::Stream { end, .. } = &mut ex.answer {
                    *end = Some(why.to_string());
                }
            }
        }
    }
}

impl Stream for Tapped {
    type Item = reqwest::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        // Asked again: what it was handed is applied.
        this.set_unread(false);
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                if this.observe(&chunk) > 0
                    && this.epoch.is_some()
                    && this.wire.flags() & RECORD != 0
                {
                    this.set_unread(true);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.end(&format!("{}{e}", cassette::BROKE));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.end(cassette::CLOSED_BY_MASTER);
                Poll::Ready(None)
            }
        }
    }
}

impl Drop for Tapped {
    fn drop(&mut self) {
        self.set_unread(false);
        if !self.ended {
            self.end(cassette::CLOSED_BY_KERNEL);
        }
    }
}
