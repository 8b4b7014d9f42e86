//! The wire in view and on record. Every HTTP exchange the client makes passes through a
//! `Wire`, one hop at a time (a redirect and the request it leads to are two exchanges):
//! `%http on` keeps them for the cell that runs (or for `%http log` when no cell runs),
//! `%record` writes them and every stream record to a cassette, `%replay` answers them from
//! one. Off, a hop costs two atomic loads and streams are not touched.
//!
//! `view` holds what is shown and kept of an exchange (secrets masked), `tap` the exchange
//! under way and a stream's body passed on record by record.

mod tap;
mod view;

pub use tap::Tap;
pub(crate) use tap::{rebuild, OutcomeView};
pub use view::*;

use crate::mesos::cassette::{self, Recorder};
use crate::mesos::client::ClientOptions;
use crate::mesos::replay::Player;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const SHOW: u8 = 1;
const RECORD: u8 = 2;
const REPLAY: u8 = 4;

/// Bytes of a body kept for showing; its size is always the whole.
pub const PREVIEW_BYTES: usize = 64 * 1024;
/// Records of a stream kept for showing.
pub const SHOWN_RECORDS: usize = 5;
/// Exchanges kept for one cell; more are only counted (a flood of acknowledgements).
pub const CELL_EXCHANGES: usize = 200;
/// Exchanges made while no cell ran, kept for `%http log`.
pub const LOG_EXCHANGES: usize = 200;
/// Stream records kept for one cell (those of a stream opened in an earlier cell).
pub const CELL_RECORDS: usize = 50;
/// The longest a recorded cell start waits for the streams' readers.
const SETTLE_RECORDED: std::time::Duration = std::time::Duration::from_millis(500);

/// Whose exchange it is. A cell's own requests are answered in order on replay; the kernel's
/// background ones (acknowledgements) come when events make them; streams are opened by the
/// scheduler session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Cell,
    Background,
    Stream,
}

impl Lane {
    pub fn name(self) -> &'static str {
        match self {
            Lane::Cell => "cell",
            Lane::Background => "background",
            Lane::Stream => "stream",
        }
    }

    pub fn parse(s: &str) -> Option<Lane> {
        match s {
            "cell" => Some(Lane::Cell),
            "background" => Some(Lane::Background),
            "stream" => Some(Lane::Stream),
            _ => None,
        }
    }
}

/// How the client sends: a plain request (its lane is the calling task's) or a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Request,
    Stream,
}

tokio::task_local! {
    static IN_CELL: ();
}

/// Runs a cell's work: the requests made by this task (not by tasks it spawns) are the cell's.
pub async fn in_cell<F: std::future::Future>(f: F) -> F::Output {
    IN_CELL.scope((), f).await
}

fn lane_of(via: Via) -> Lane {
    match via {
        Via::Stream => Lane::Stream,
        Via::Request if IN_CELL.try_with(|_| ()).is_ok() => Lane::Cell,
        Via::Request => Lane::Background,
    }
}

/// A running cell, from `Wire::cell_begins`.
pub struct CellToken {
    id: u64,
}

#[derive(Default)]
struct Shown {
    /// The running cell's exchanges, and how many were left out past the cap.
    cell: Vec<Arc<Mutex<Exchange>>>,
    cell_more: usize,
    records: Vec<StreamRecord>,
    records_more: usize,
    /// Exchanges made while no cell ran.
    log: VecDeque<Arc<Mutex<Exchange>>>,
    log_total: u64,
}

#[derive(Default)]
struct Inner {
    flags: AtomicU8,
    /// The session's order of exchanges, records and cells (a cassette's `n`).
    order: AtomicU64,
    /// The running cell (0: none).
    cell: AtomicU64,
    cells: AtomicU64,
    shown: Mutex<Shown>,
    recorder: Mutex<Option<Recorder>>,
    player: Mutex<Option<Arc<Player>>>,
    /// Recorded streams whose reader has records it has not asked past yet: a cell start
    /// waits for none, so what the cassette has before a cell was applied before it ran.
    unread: tokio::sync::watch::Sender<usize>,
}

/// The one tap every exchange passes. Clones share it (the client, its copies in the
/// scheduler session and its acknowledgement tasks).
#[derive(Clone, Default)]
pub struct Wire(Arc<Inner>);

impl Wire {
    fn flags(&self) -> u8 {
        self.0.flags.load(Ordering::Relaxed)
    }

    fn set_flag(&self, flag: u8, on: bool) {
        if on {
            self.0.flags.fetch_or(flag, Ordering::Relaxed);
        } else {
            self.0.flags.fetch_and(!flag, Ordering::Relaxed);
        }
    }

    fn next_n(&self) -> u64 {
        self.0.order.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// `%http on` / `%http off`.
    pub fn show(&self, on: bool) {
        self.set_flag(SHOW, on);
    }

    pub fn showing(&self) -> bool {
        self.flags() & SHOW != 0
    }

    pub fn recording(&self) -> Option<String> {
        let r = self.0.recorder.lock().ok()?;
        r.as_ref().map(|r| r.path().display().to_string())
    }

    /// `%record PATH`: from now on every exchange and stream record goes to the file.
    pub fn record(&self, path: &std::path::Path, master: &str) -> Result<(), String> {
        if self.flags() & REPLAY != 0 {
            return Err("the session is replaying a cassette (%replay off first)".into());
        }
        let recorder = Recorder::create(path, master)?;
        if let Ok(mut r) = self.0.recorder.lock() {
            if let Some(old) = r.take() {
                old.finish();
            }
            *r = Some(recorder);
        }
        self.set_flag(RECORD, true);
        Ok(())
    }

    /// `%record off`: what was written, or None when nothing was recording.
    pub fn stop_recording(&self) -> Option<cassette::Summary> {
        self.set_flag(RECORD, false);
        let old = self.0.recorder.lock().ok()?.take()?;
        Some(old.finish())
    }

    /// `%replay PATH`: every request is answered from the cassette from now on.
    pub fn replay(&self, player: Arc<Player>) -> Result<(), String> {
        if self.flags() & RECORD != 0 {
            return Err("the session is recording (%record off first)".into());
        }
        if let Ok(mut p) = self.0.player.lock() {
            *p = Some(player);
        }
        self.set_flag(REPLAY, true);
        Ok(())
    }

    pub fn stop_replay(&self) -> Option<Arc<Player>> {
        self.set_flag(REPLAY, false);
        self.0.player.lock().ok()?.take()
    }

    /// The cassette answering requests, when replaying.
    pub fn player(&self) -> Option<Arc<Player>> {
        if self.flags() & REPLAY == 0 {
            return None;
        }
        self.0.player.lock().ok()?.clone()
    }

    /// A cell starts: its exchanges are kept for it. Recording, the cassette marks where
    /// it starts; replaying, the stream events recorded before it are delivered first.
    pub async fn cell_begins(&self) -> CellToken {
        let id = self.0.cells.fetch_add(1, Ordering::Relaxed) + 1;
        self.0.cell.store(id, Ordering::Relaxed);
        let flags = self.flags();
        if flags & RECORD != 0 {
            self.settle_recorded().await;
            let n = self.next_n();
            self.with_recorder(|r| r.cell(n));
        }
        if flags & REPLAY != 0 {
            if let Some(p) = self.player() {
                p.cell_begins().await;
            }
        }
        CellToken { id }
    }

    /// Waits (a bounded while) until the readers of recorded streams asked past the records
    /// they were handed. Without it a record written just before a cell's start could be
    /// applied only after the cell looked (a live OFFERS display when recorded), while a
    /// replay delivers it first (a plain result): the two runs would differ.
    async fn settle_recorded(&self) {
        let mut rx = self.0.unread.subscribe();
        let _ = tokio::time::timeout(SETTLE_RECORDED, rx.wait_for(|&n| n == 0)).await;
    }

    /// A recorded stream's reader was handed records (`true`) or asked for more (`false`).
    pub(crate) fn stream_unread(&self, unread: bool) {
        self.0.unread.send_modify(|n| {
            *n = if unread { *n + 1 } else { n.saturating_sub(1) };
        });
    }

    /// The cell ended: what it showed, taken out of the wire.
    pub fn cell_ends(&self, token: CellToken) -> CellExchanges {
        let _ = self
            .0
            .cell
            .compare_exchange(token.id, 0, Ordering::Relaxed, Ordering::Relaxed);
        let mut out = CellExchanges::default();
        if let Ok(mut shown) = self.0.shown.lock() {
            out.exchanges = shown
                .cell
                .drain(..)
                .filter_map(|e| e.lock().ok().map(|e| e.clone()))
                .collect();
            out.more = std::mem::take(&mut shown.cell_more);
            out.records = std::mem::take(&mut shown.records);
            out.more_records = std::mem::take(&mut shown.records_more);
        }
        if let Some(p) = self.0.player.lock().ok().and_then(|p| p.clone()) {
            out.problems = p.take_problems();
        }
        if let Some(problem) = self.with_recorder(|r| r.take_problem()).flatten() {
            out.problems.push(problem);
        }
        out
    }

    /// The exchanges made while no cell ran (`%http log`), the oldest first, and how many
    /// there were in all.
    pub fn log(&self) -> (Vec<Exchange>, u64) {
        match self.0.shown.lock() {
            Ok(shown) => (
                shown
                    .log
                    .iter()
                    .filter_map(|e| e.lock().ok().map(|e| e.clone()))
                    .collect(),
                shown.log_total,
            ),
            Err(_) => (Vec::new(), 0),
        }
    }

    fn with_recorder<R>(&self, f: impl FnOnce(&mut Recorder) -> R) -> Option<R> {
        let mut r = self.0.recorder.lock().ok()?;
        r.as_mut().map(f)
    }

    /// Starts an exchange, or None when nothing shows or records it (the fast path).
    pub fn tap(
        &self,
        via: Via,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
        options: &ClientOptions,
    ) -> Option<Tap> {
        let flags = self.flags();
        if flags & (SHOW | RECORD) == 0 {
            return None;
        }
        let n = self.next_n();
        let (t, epoch) = if flags & RECORD != 0 {
            self.with_recorder(|r| (r.t(), r.epoch()))
                .map_or((0.0, None), |(t, e)| (t, Some(e)))
        } else {
            (0.0, None)
        };
        Some(Tap {
            wire: self.clone(),
            n,
            lane: lane_of(via),
            started: Instant::now(),
            t,
            sent: Sent::new(method, url, headers, body, options),
            auth: options.credentials.as_ref().map(|c| AuthHint {
                principal: c.principal.clone(),
                env: c.env().map(str::to_string),
            }),
            tls: TlsHint {
                ca: options.ca.as_ref().map(|p| p.display().to_string()),
                insecure: options.insecure,
            },
            show: flags & SHOW != 0,
            epoch,
            recorded: None,
            finished: false,
        })
    }

    /// The lane a request made here belongs to (for replay).
    pub fn lane(via: Via) -> Lane {
        lane_of(via)
    }

    /// The running cell, 0 when none.
    fn running(&self) -> u64 {
        self.0.cell.load(Ordering::Relaxed)
    }

    fn keep_record(&self, record: StreamRecord) {
        if !self.showing() || self.running() == 0 {
            return;
        }
        if let Ok(mut shown) = self.0.shown.lock() {
            if shown.records.len() < CELL_RECORDS {
                shown.records.push(record);
            } else {
                shown.records_more += 1;
            }
        }
    }

    fn keep(&self, exchange: Arc<Mutex<Exchange>>) {
        // Begun before `%http off` and ended after: not shown.
        if !self.showing() {
            return;
        }
        let Ok(mut shown) = self.0.shown.lock() else {
            return;
        };
        if self.0.cell.load(Ordering::Relaxed) != 0 {
            if shown.cell.len() < CELL_EXCHANGES {
                shown.cell.push(exchange);
            } else {
                shown.cell_more += 1;
            }
        } else {
            if shown.log.len() >= LOG_EXCHANGES {
                shown.log.pop_front();
            }
            shown.log.push_back(exchange);
            shown.log_total += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::client::Credentials;
    use std::time::Duration;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(mask_authorization("Basic dXNlcjpwdw=="), "Basic ****");
        assert_eq!(mask_authorization("token"), "****");
        assert_eq!(
            mask_url("http://ops:hunter2@m:5050/api/v1"),
            "http://ops:****@m:5050/api/v1"
        );
        assert_eq!(mask_url("http://m:5050/x"), "http://m:5050/x");
        let options = ClientOptions {
            credentials: Some(Credentials::new("ops".into(), "hunter2".into())),
            ..ClientOptions::default()
        };
        let sent = Sent::new(
            "POST",
            "http://m/api/v1",
            &[("authorization".into(), "Basic aHVudGVyMg==".into())],
            None,
            &options,
        );
        assert_eq!(sent.header("Authorization"), Some("Basic ****"));
        assert!(!format!("{sent:?}").contains("hunter2"));
        assert!(!format!("{sent:?}").contains("aHVudGVyMg"));
    }

    #[tokio::test]
    async fn off_means_no_tap_and_lanes_follow_the_task() {
        let wire = Wire::default();
        let options = ClientOptions::default();
        assert!(wire
            .tap(Via::Request, "GET", "http://m/", &[], None, &options)
            .is_none());
        wire.show(true);
        let tap = wire
            .tap(Via::Request, "GET", "http://m/", &[], None, &options)
            .unwrap();
        assert_eq!(tap.lane, Lane::Background);
        drop(tap);
        let lane = in_cell(async { lane_of(Via::Request) }).await;
        assert_eq!(lane, Lane::Cell);
        // Spawned work is not the cell's.
        let spawned = in_cell(async { tokio::spawn(async { lane_of(Via::Request) }).await })
            .await
            .unwrap();
        assert_eq!(spawned, Lane::Background);
        // The abandoned tap went to the log: no cell was running.
        let (log, total) = wire.log();
        assert_eq!(total, 1);
        assert_eq!(log[0].answer, Answer::Abandoned);
    }

    /// Recorded, a cell starts only once the stream's reader has asked past the records
    /// it was handed (so a replay, which applies them before the cell, sees what the
    /// recorded cell saw).
    #[tokio::test]
    async fn a_recorded_cell_waits_for_the_stream_reader() {
        use futures::{FutureExt, StreamExt};
        let path = std::env::temp_dir().join(format!("wire-settle-{}.jsonl", std::process::id()));
        let wire = Wire::default();
        wire.record(&path, "http://m:5050").unwrap();
        let options = ClientOptions::default();
        let tap = wire
            .tap(
                Via::Stream,
                "POST",
                "http://m:5050/api/v1/scheduler",
                &[],
                None,
                &options,
            )
            .unwrap();
        let record = br#"{"type":"HEARTBEAT"}"#;
        let mut framed = format!("{}\n", record.len()).into_bytes();
        framed.extend_from_slice(record);
        let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(framed))])
            .chain(futures::stream::pending());
        let answer = http::Response::builder()
            .status(200)
            .body(reqwest::Body::wrap_stream(chunks))
            .unwrap();
        let mut body = tap
            .stream(reqwest::Response::from(answer))
            .await
            .bytes_stream();
        assert!(body.next().await.is_some_and(|c| c.is_ok()));
        // Handed a record, not asked again: the cell start waits.
        let waited = tokio::time::timeout(Duration::from_millis(100), wire.cell_begins()).await;
        assert!(
            waited.is_err(),
            "the cell started before the record was applied"
        );
        // The reader asks for more (nothing comes yet): the cell starts at once.
        assert!(body.next().now_or_never().is_none());
        let started = tokio::time::timeout(Duration::from_millis(100), wire.cell_begins()).await;
        assert!(started.is_ok());
        drop(body);
        wire.stop_recording();
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn a_cell_takes_what_happened_while_it_ran() {
        let wire = Wire::default();
        wire.show(true);
        let options = ClientOptions::default();
        let token = wire.cell_begins().await;
        let tap = wire
            .tap(Via::Request, "GET", "http://m/health", &[], None, &options)
            .unwrap();
        tap.answered(200, vec![], b"");
        let got = wire.cell_ends(token);
        assert_eq!(got.exchanges.len(), 1);
        assert_eq!(got.exchanges[0].sent.url, "http://m/health");
        // The next cell starts empty.
        let token = wire.cell_begins().await;
        assert!(wire.cell_ends(token).exchanges.is_empty());
    }
}
