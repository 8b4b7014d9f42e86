//! What Mesos's event streams have in common, for the scheduler session and the operator
//! stream alike: opening a SUBSCRIBE stream through the kernel's one HTTP client (so
//! redirects to the leader, `503` retries and credentials are the client's), reading its
//! RecordIO records as JSON events under a heartbeat watchdog, and the pause between
//! reconnections, which ends early when the leading master moves.

use crate::mesos::client::Client;
use crate::mesos::error::{error_message, MesosError};
use crate::mesos::recordio::Decoder;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::Value;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Missed heartbeats before a stream is considered lost (Mesos advises about 5).
pub const MISSED_HEARTBEATS: f64 = 5.0;
/// How often a paused reconnection looks whether the leading master changed.
const LEADER_POLL: Duration = Duration::from_millis(50);
/// The first pause after a loss, and the longest one.
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const LONGEST_PAUSE: Duration = Duration::from_secs(10);

/// How reading a stream ended.
#[derive(Debug)]
pub enum StreamEnd {
    /// The kernel stopped it.
    Stopped,
    /// The connection ended or went silent; worth reconnecting.
    Lost(String),
    /// The master did not open the stream (an error status, nothing listening).
    Refused(MesosError),
}

/// `base` + `path` for the master URL a leader watch may move.
pub fn endpoint(master: &Mutex<String>, path: &str) -> String {
    let base = master.lock().map(|m| m.clone()).unwrap_or_default();
    format!("{}{path}", base.trim_end_matches('/'))
}

/// The events of an open stream.
pub struct EventReader {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    decoder: Decoder,
    /// A replayed stream (`%replay`) pauses where the cassette waits for the notebook's
    /// cells: that is no lost master, so its heartbeats are not watched.
    watched: bool,
}

/// An open stream: its `Mesos-Stream-Id` (scheduler streams have one) and its events.
pub struct Opened {
    /// Where the stream opened, after redirects (`http://leader:5050`).
    pub origin: String,
    pub stream_id: Option<String>,
    pub events: EventReader,
}

/// POSTs a SUBSCRIBE `body` to `url` and, when the master answers 200, hands back the
/// stream. Any other answer is `Refused` with the master's own message.
pub async fn open(
    client: &Client,
    url: &str,
    body: Vec<u8>,
    stop: &CancellationToken,
) -> Result<Opened, StreamEnd> {
    let response = tokio::select! {
        r = client.post_stream(url, body) => r,
        _ = stop.cancelled() => return Err(StreamEnd::Stopped),
    };
    let response = response.map_err(StreamEnd::Refused)?;
    let status = response.status().as_u16();
    if status != 200 {
        let bytes = response.bytes().await.unwrap_or_default();
        return Err(StreamEnd::Refused(MesosError::Http {
            method: "POST".into(),
            url: url.to_string(),
            status,
            message: error_message(&bytes, &status.to_string()),
        }));
    }
    let stream_id = response
        .headers()
        .get("Mesos-Stream-Id")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    Ok(Opened {
        origin: response.url().origin().ascii_serialization(),
        stream_id,
        events: EventReader {
            body: Box::pin(response.bytes_stream()),
            decoder: Decoder::new(),
            watched: !client.replaying(),
        },
    })
}

impl EventReader {
    /// The next event. Nothing at all for `patience` (heartbeats included) is a lost
    /// stream; a record that is not JSON is dropped with a warning.
    pub async fn next(
        &mut self,
        patience: Duration,
        stop: &CancellationToken,
    ) -> Result<Value, StreamEnd> {
        loop {
            let record = self.next_record(patience, stop).await?;
            match serde_json::from_slice(&record) {
                Ok(event) => return Ok(event),
                Err(e) => warn!("ignored an event that is not JSON: {e}"),
            }
        }
    }

    /// The next record as it came, unread (a scheduler session reads and logs it itself).
    pub async fn next_record(
        &mut self,
        patience: Duration,
        stop: &CancellationToken,
    ) -> Result<Vec<u8>, StreamEnd> {
        loop {
            if let Some(record) = self.decoder.next_record() {
                return record.map_err(|e| StreamEnd::Lost(format!("bad framing: {e}")));
            }
            let patience = match self.watched {
                true => patience,
                false => Duration::from_secs(24 * 3600),
            };
            let chunk = tokio::select! {
                c = tokio::time::timeout(patience, self.body.next()) => c,
                _ = stop.cancelled() => return Err(StreamEnd::Stopped),
            };
            match chunk {
                Err(_) => {
                    return Err(StreamEnd::Lost(format!(
                        "no heartbeat for {:.1}s",
                        patience.as_secs_f64()
                    )))
                }
                Ok(None) => return Err(StreamEnd::Lost("the master closed the stream".into())),
                Ok(Some(Err(e))) => return Err(StreamEnd::Lost(format!("the stream broke: {e}"))),
                Ok(Some(Ok(c))) => self.decoder.push(&c),
            }
        }
    }
}

/// How long a stream may stay silent: `MISSED_HEARTBEATS` heartbeat intervals.
pub fn patience(heartbeat_interval_seconds: f64) -> Duration {
    Duration::from_secs_f64(heartbeat_interval_seconds.max(0.01) * MISSED_HEARTBEATS)
}

/// The pauses between reconnections: doubling up to a bound, and short again once the
/// leading master moved.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST_PAUSE }
    }
}

impl Backoff {
    /// Waits out the next pause; `false` when the stream was stopped meanwhile. A new
    /// leader (the leader watch moved `master`) ends the pause at once: waiting out a
    /// pause grown against the dead leader would only delay the failover. While `hold()`
    /// is true the pause lasts however long it takes (the scheduler session holds while
    /// this kernel moves its framework to a new stream).
    pub async fn pause(
        &mut self,
        master: &Mutex<String>,
        path: &str,
        stop: &CancellationToken,
        hold: impl Fn() -> bool,
    ) -> bool {
        let tried = endpoint(master, path);
        let resume = tokio::time::Instant::now() + self.next;
        let mut moved = false;
        loop {
            let now = tokio::time::Instant::now();
            let holding = hold();
            if now >= resume && !holding {
                break;
            }
            let wake = if now < resume {
                resume.min(now + LEADER_POLL)
            } else {
                now + LEADER_POLL
            };
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = stop.cancelled() => return false,
            }
            if !holding && endpoint(master, path) != tried {
                moved = true;
                break;
            }
        }
        self.advance(moved);
        true
    }

    fn advance(&mut self, moved: bool) {
        self.next = if moved {
            FIRST_PAUSE
        } else {
            (self.next * 2).min(LONGEST_PAUSE)
        };
    }

    /// After a stream that worked: the next loss starts from the first pause again.
    pub fn reset(&mut self) {
        self.next = FIRST_PAUSE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_bound() {
        let mut b = Backoff::default();
        let mut pauses = Vec::new();
        for _ in 0..8 {
            pauses.push(b.next.as_millis());
            b.advance(false);
        }
        assert_eq!(pauses[..4], [250, 500, 1000, 2000]);
        assert_eq!(*pauses.last().unwrap(), 10_000);
        b.advance(true);
        assert_eq!(b.next, FIRST_PAUSE);
    }

    #[tokio::test]
    async fn a_moved_leader_ends_the_pause() {
        let master = Mutex::new("http://a:5050".to_string());
        let stop = CancellationToken::new();
        let mut b = Backoff {
            next: Duration::from_secs(10),
        };
        let moving = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            *master.lock().unwrap() = "http://b:5050".into();
        };
        let began = tokio::time::Instant::now();
        let (paused, ()) = tokio::join!(b.pause(&master, "/api/v1", &stop, || false), moving);
        assert!(paused);
        assert!(began.elapsed() < Duration::from_secs(5));
        assert_eq!(b.next, FIRST_PAUSE);
        // Held, the pause outlasts its time and a moved leader, until the hold ends.
        let held = std::sync::atomic::AtomicBool::new(true);
        let mut short = Backoff {
            next: Duration::from_millis(10),
        };
        let release = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            *master.lock().unwrap() = "http://c:5050".into();
            tokio::time::sleep(Duration::from_millis(100)).await;
            held.store(false, std::sync::atomic::Ordering::SeqCst);
        };
        let began = tokio::time::Instant::now();
        let hold = || held.load(std::sync::atomic::Ordering::SeqCst);
        let (paused, ()) = tokio::join!(short.pause(&master, "/api/v1", &stop, hold), release);
        assert!(paused);
        assert!(began.elapsed() >= Duration::from_millis(300));
        stop.cancel();
        assert!(!b.pause(&master, "/api/v1", &stop, || false).await);
    }

    #[test]
    fn endpoints_join_without_double_slashes() {
        let m = Mutex::new("http://m:5050/".to_string());
        assert_eq!(endpoint(&m, "/api/v1"), "http://m:5050/api/v1");
        assert_eq!(patience(2.0), Duration::from_secs(10));
    }
}
