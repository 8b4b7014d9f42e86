//! Replay: a cassette answers every request, with no master and no network. A cell's own
//! requests must come in the recorded order (else a `ReplayMismatch` naming both); the
//! kernel's background requests (acknowledgements) are matched among those not yet used;
//! streams play their records back with the recorded pauses (divided by `speed`).
//!
//! Events are kept in step with the cells, as they were when recorded: an event waits for
//! the cell requests and cell starts recorded before it (an UPDATE never arrives before the
//! ACCEPT that caused it), and a cell request or cell start first delivers the events
//! recorded before it, at once (time between cells is not worth waiting for twice).

use crate::mesos::cassette::{self, Cassette, ExchangeLine, Item, RequestLine};
use crate::mesos::error::MesosError;
use crate::mesos::exchange::{header, Lane, Sent};
use bytes::Bytes;
use futures::Stream;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// The longest a cell request waits for the events recorded before it to be applied.
const SETTLE: Duration = Duration::from_secs(2);

/// A recorded answer.
pub enum Replayed {
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        ms: f64,
    },
    /// A stream's opening: the body plays its records back.
    Stream {
        status: u16,
        headers: Vec<(String, String)>,
        body: PlayStream,
        ms: f64,
    },
    Failed {
        detail: String,
        ms: f64,
    },
    /// The kernel gave up on it when recording (a timeout or an interrupt): it is not
    /// answered now either, until the caller gives up again.
    Abandoned,
}

struct Open {
    opened_at: Instant,
    /// Items (events and the end) handed out, and those the reader asked past.
    delivered: usize,
    applied: usize,
    last_at: Instant,
    closed: bool,
}

struct Play {
    next_cell: usize,
    cell_at: Vec<Option<Instant>>,
    background_used: Vec<bool>,
    next_stream: usize,
    open: HashMap<u64, Open>,
    /// Events before this item are delivered at once.
    fast_forward: usize,
    problems: Vec<String>,
}

pub struct Player {
    path: PathBuf,
    master: String,
    recorded: String,
    speed: f64,
    items: Vec<Item>,
    /// Item indices of the cell lane (cell requests and cell starts), in order.
    cells: Vec<usize>,
    background: Vec<usize>,
    streams: Vec<usize>,
    /// Per stream (by the `n` of its opening): its opening's index, then its records' and
    /// end's indices.
    stream_open: HashMap<u64, usize>,
    stream_items: HashMap<u64, Vec<usize>>,
    /// Per item: how many cell-lane items come before it.
    cells_before: Vec<usize>,
    state: Mutex<Play>,
    changed: watch::Sender<u64>,
}

fn mismatch(msg: String) -> MesosError {
    MesosError::Replay(msg)
}

/// A request in a message: method, URL and the start of its body.
fn describe(method: &str, url: &str, body: Option<&[u8]>) -> String {
    let mut s = format!("{method} {url}");
    if let Some(b) = body.filter(|b| !b.is_empty()) {
        let text = String::from_utf8_lossy(b);
        let cut: String = text.chars().take(160).collect();
        s.push(' ');
        s.push_str(&cut);
        if cut.len() < text.len() {
            s.push('…');
        }
    }
    s
}

fn describe_recorded(r: &RequestLine) -> String {
    let body = r.body.as_ref().and_then(|b| b.bytes().ok());
    describe(&r.method, &r.url, body.as_deref())
}

fn describe_sent(s: &Sent) -> String {
    describe(&s.method, &s.url, s.body.as_deref())
}

/// What differs between a recorded request and one being sent, if anything. The
/// Authorization header is not compared: the cassette does not keep it.
fn differs(recorded: &RequestLine, sent: &Sent) -> Option<&'static str> {
    if !recorded.method.eq_ignore_ascii_case(&sent.method) {
        return Some("the methods differ");
    }
    if recorded.url != sent.url {
        return Some("the URLs differ");
    }
    let body = recorded
        .body
        .as_ref()
        .and_then(|b| b.bytes().ok())
        .unwrap_or_default();
    if body != sent.body.clone().unwrap_or_default() {
        return Some("the bodies differ");
    }
    let key = |hs: &[(String, String)]| {
        let mut v: Vec<(String, String)> = hs
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect();
        v.sort();
        v
    };
    if key(&recorded.headers) != key(&sent.headers) {
        if header(&recorded.headers, "Mesos-Stream-Id") != sent.header("Mesos-Stream-Id") {
            return Some("the Mesos-Stream-Id headers differ");
        }
        return Some("the headers differ");
    }
    None
}

impl Player {
    pub fn load(path: &Path, speed: f64) -> Result<Player, String> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(format!(
                "speed={speed}: give a number above 0 (10 plays ten times faster)"
            ));
        }
        let Cassette { header, items } = cassette::load(path)?;
        let mut cells = Vec::new();
        let mut background = Vec::new();
        let mut streams = Vec::new();
        let mut stream_open = HashMap::new();
        let mut stream_items: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut cells_before = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            cells_before.push(cells.len());
            match item {
                Item::Cell(_) => cells.push(i),
                Item::Exchange(x) => match Lane::parse(&x.lane) {
                    Some(Lane::Cell) => cells.push(i),
                    Some(Lane::Background) => background.push(i),
                    Some(Lane::Stream) => {
                        streams.push(i);
                        if x.kind == "stream" {
                            stream_open.insert(x.n, i);
                            stream_items.entry(x.n).or_default();
                        }
                    }
                    None => {}
                },
                Item::Event(e) => stream_items.entry(e.stream).or_default().push(i),
                Item::End(e) => stream_items.entry(e.stream).or_default().push(i),
            }
        }
        if let Some(orphan) = stream_items.keys().find(|s| !stream_open.contains_key(s)) {
            return Err(format!(
                "{}: records of stream {orphan} but no line opening it",
                path.display()
            ));
        }
        let state = Play {
            next_cell: 0,
            cell_at: vec![None; cells.len()],
            background_used: vec![false; background.len()],
            next_stream: 0,
            open: HashMap::new(),
            fast_forward: 0,
            problems: Vec::new(),
        };
        Ok(Player {
            path: path.to_path_buf(),
            master: header.master,
            recorded: header.recorded,
            speed,
            items,
            cells,
            background,
            streams,
            stream_open,
            stream_items,
            cells_before,
            state: Mutex::new(state),
            changed: watch::channel(0).0,
        })
    }

    pub fn master(&self) -> &str {
        &self.master
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// One line about the cassette: when and against what it was recorded, what it holds.
    pub fn describe(&self) -> String {
        let exchanges = self
            .items
            .iter()
            .filter(|i| matches!(i, Item::Exchange(_)))
            .count();
        let records = self
            .items
            .iter()
            .filter(|i| matches!(i, Item::Event(_)))
            .count();
        format!(
            "recorded {} against {}: {exchanges} exchanges, {records} stream records",
            self.recorded, self.master
        )
    }

    /// Cell requests answered so far, of how many.
    pub fn progress(&self) -> (usize, usize) {
        let requests = |upto: usize| {
            self.cells[..upto]
                .iter()
                .filter(|&&i| matches!(self.items[i], Item::Exchange(_)))
                .count()
        };
        let done = self.state.lock().map(|s| s.next_cell).unwrap_or(0);
        (requests(done), requests(self.cells.len()))
    }

    pub fn take_problems(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|mut s| std::mem::take(&mut s.problems))
            .unwrap_or_default()
    }

    fn notify(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    fn exchange(&self, i: usize) -> Option<&ExchangeLine> {
        match &self.items[i] {
            Item::Exchange(x) => Some(x),
            _ => None,
        }
    }

    /// Answers a request from the cassette (see the module's comment for the rules).
    pub async fn answer(self: &Arc<Self>, lane: Lane, sent: &Sent) -> Result<Replayed, MesosError> {
        match lane {
            Lane::Cell => self.answer_cell(sent).await,
            Lane::Background => self.answer_background(sent),
            Lane::Stream => self.answer_stream(sent),
        }
    }

    async fn answer_cell(&self, sent: &Sent) -> Result<Replayed, MesosError> {
        let (k, i) = {
            let mut play = self.lock();
            let k = play.next_cell;
            let Some(&i) = self.cells.get(k) else {
                return Err(mismatch(format!(
                    "{} was not recorded: the cassette {} has no more requests",
                    describe_sent(sent),
                    self.path.display()
                )));
            };
            match self.exchange(i) {
                None => {
                    let next = self.cells[k..]
                        .iter()
                        .find_map(|&j| self.exchange(j))
                        .map(|x| {
                            format!(
                                "; its next one, in a later cell, is {}",
                                describe_recorded(&x.request)
                            )
                        })
                        .unwrap_or_else(|| "; it has no more requests".into());
                    return Err(mismatch(format!(
                        "{} does not match the cassette: the recorded cell made no more requests{next}",
                        describe_sent(sent)
                    )));
                }
                Some(x) => {
                    if let Some(what) = differs(&x.request, sent) {
                        return Err(mismatch(format!(
                            "{} does not match the cassette's next request, {} ({what})",
                            describe_sent(sent),
                            describe_recorded(&x.request)
                        )));
                    }
                }
            }
            play.fast_forward = play.fast_forward.max(i);
            (k, i)
        };
        self.notify();
        self.settle(i).await;
        {
            let mut play = self.lock();
            play.next_cell = k + 1;
            play.cell_at[k] = Some(Instant::now());
        }
        self.notify();
        Ok(self.recorded_answer(i))
    }

    fn answer_background(&self, sent: &Sent) -> Result<Replayed, MesosError> {
        let mut play = self.lock();
        let found = self.background.iter().enumerate().find(|(j, &i)| {
            !play.background_used[*j]
                && self
                    .exchange(i)
                    .is_some_and(|x| differs(&x.request, sent).is_none())
        });
        if let Some((j, &i)) = found {
            play.background_used[j] = true;
            drop(play);
            return Ok(self.recorded_answer(i));
        }
        let next = self
            .background
            .iter()
            .enumerate()
            .find(|(j, _)| !play.background_used[*j])
            .and_then(|(_, &i)| self.exchange(i))
            .map(|x| format!("; the next unused one is {}", describe_recorded(&x.request)))
            .unwrap_or_else(|| "; none is left".into());
        let msg = format!(
            "replay: the kernel's own request {} is not in the cassette{next}",
            describe_sent(sent)
        );
        play.problems.push(msg.clone());
        Err(mismatch(msg))
    }

    fn answer_stream(self: &Arc<Self>, sent: &Sent) -> Result<Replayed, MesosError> {
        let mut play = self.lock();
        let k = play.next_stream;
        let Some(&i) = self.streams.get(k) else {
            return Err(mismatch(format!(
                "{} opens a stream the cassette does not have",
                describe_sent(sent)
            )));
        };
        let Some(x) = self.exchange(i) else {
            return Err(mismatch("the cassette's stream lane is broken".into()));
        };
        if let Some(what) = differs(&x.request, sent) {
            return Err(mismatch(format!(
                "{} does not match the cassette's next stream request, {} ({what})",
                describe_sent(sent),
                describe_recorded(&x.request)
            )));
        }
        play.next_stream += 1;
        if x.kind == "stream" {
            let now = Instant::now();
            play.open.insert(
                x.n,
                Open {
                    opened_at: now,
                    delivered: 0,
                    applied: 0,
                    last_at: now,
                    closed: false,
                },
            );
            drop(play);
            self.notify();
            let response = x.response.as_ref();
            return Ok(Replayed::Stream {
                status: response.map_or(200, |r| r.status),
                headers: response.map(|r| r.headers.clone()).unwrap_or_default(),
                body: PlayStream::new(self.clone(), x.n),
                ms: x.ms,
            });
        }
        drop(play);
        Ok(self.recorded_answer(i))
    }

    fn recorded_answer(&self, i: usize) -> Replayed {
        let Some(x) = self.exchange(i) else {
            return Replayed::Abandoned;
        };
        if let Some(r) = &x.response {
            return Replayed::Reply {
                status: r.status,
                headers: r.headers.clone(),
                body: r
                    .body
                    .as_ref()
                    .and_then(|b| b.bytes().ok())
                    .unwrap_or_default(),
                ms: x.ms,
            };
        }
        match &x.error {
            Some(e) if e.kind == "failed" => Replayed::Failed {
                detail: e.detail.clone(),
                ms: x.ms,
            },
            _ => Replayed::Abandoned,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Play> {
        // A panic while holding the lock would be a bug here; the state stays usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A cell starts: when the cassette's next cell-lane item is a cell start, the events
    /// recorded before it are delivered first. (A cell the recording did not have consumes
    /// nothing it needs: its requests would not match.)
    pub async fn cell_begins(&self) {
        let (k, i) = {
            let mut play = self.lock();
            let k = play.next_cell;
            match self.cells.get(k) {
                Some(&i) if matches!(self.items[i], Item::Cell(_)) => {
                    play.fast_forward = play.fast_forward.max(i);
                    (k, i)
                }
                _ => return,
            }
        };
        self.notify();
        self.settle(i).await;
        {
            let mut play = self.lock();
            play.next_cell = k + 1;
            play.cell_at[k] = Some(Instant::now());
        }
        self.notify();
    }

    /// Waits (a bounded while) until every open stream's events recorded before item `i`
    /// were applied by their reader.
    async fn settle(&self, i: usize) {
        let deadline = Instant::now() + SETTLE;
        let mut rx = self.changed.subscribe();
        loop {
            let done = {
                let play = self.lock();
                play.open.iter().all(|(s, o)| {
                    let before = self
                        .stream_items
                        .get(s)
                        .map_or(0, |items| items.partition_point(|&e| e < i));
                    o.closed || o.applied >= before
                })
            };
            if done {
                return;
            }
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep_until(deadline) => {
                    tracing::debug!("replay: events before item {i} were not all applied in time");
                    return;
                }
            }
        }
    }

    /// Waits until the `j`th item of `stream` (item `i`) is due, and marks it delivered.
    async fn release(&self, stream: u64, j: usize, i: usize) {
        let mut rx = self.changed.subscribe();
        loop {
            let due = {
                let mut play = self.lock();
                let need = self.cells_before[i];
                if play.next_cell < need {
                    None
                } else {
                    let now = Instant::now();
                    let ready_at = if i < play.fast_forward {
                        now
                    } else {
                        self.due(&play, stream, j, i, need, now)
                    };
                    if ready_at <= now {
                        if let Some(o) = play.open.get_mut(&stream) {
                            o.delivered = j + 1;
                            o.last_at = now;
                        }
                        return;
                    }
                    Some(ready_at)
                }
            };
            match due {
                Some(at) => tokio::select! {
                    _ = rx.changed() => {}
                    _ = tokio::time::sleep_until(at) => {}
                },
                None => {
                    let _ = rx.changed().await;
                }
            }
        }
    }

    /// When item `i` is due: its recorded pause after the latest thing it follows (the
    /// stream's previous item, or the last cell-lane item before it), divided by the speed.
    fn due(
        &self,
        play: &Play,
        stream: u64,
        j: usize,
        i: usize,
        need: usize,
        now: Instant,
    ) -> Instant {
        let Some(open) = play.open.get(&stream) else {
            return now;
        };
        let (mut anchor, mut t, mut at) = if j == 0 {
            let o = self.stream_open.get(&stream).copied().unwrap_or(0);
            (o, self.items[o].t(), open.opened_at)
        } else {
            let prev = self.stream_items[&stream][j - 1];
            (prev, self.items[prev].t(), open.last_at)
        };
        if need > 0 {
            let c = self.cells[need - 1];
            if c > anchor {
                anchor = c;
                t = self.items[c].t();
                at = play.cell_at[need - 1].unwrap_or(now);
            }
        }
        let _ = anchor;
        let pause = (self.items[i].t() - t).max(0.0) / self.speed;
        at + Duration::from_secs_f64(pause)
    }

    fn applied(&self, stream: u64, j: usize) {
        if let Some(o) = self.lock().open.get_mut(&stream) {
            o.applied = o.applied.max(j);
        }
        self.notify();
    }

    fn close(&self, stream: u64) {
        if let Some(o) = self.lock().open.get_mut(&stream) {
            o.closed = true;
        }
        self.notify();
    }
}

/// Closes the stream's play when its reader drops it.
struct Closer {
    player: Arc<Player>,
    stream: u64,
}

impl Drop for Closer {
    fn drop(&mut self) {
        self.player.close(self.stream);
    }
}

/// A replayed stream's body: its records, framed as RecordIO again, when they are due.
pub struct PlayStream {
    inner: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>,
}

impl PlayStream {
    fn new(player: Arc<Player>, stream: u64) -> PlayStream {
        let closer = Closer { player, stream };
        let inner = futures::stream::unfold((closer, 0usize), |(closer, j)| async move {
            let player = closer.player.clone();
            let stream = closer.stream;
            if j > 0 {
                // The reader asked for more: what it had is applied.
                player.applied(stream, j);
            }
            let Some(&i) = player
                .stream_items
                .get(&stream)
                .and_then(|items| items.get(j))
            else {
                // Recording stopped with the stream still open: it stays open and quiet.
                return std::future::pending().await;
            };
            player.release(stream, j, i).await;
            match &player.items[i] {
                Item::Event(e) => {
                    let record = e.record.bytes().unwrap_or_default();
                    let mut framed = format!("{}\n", record.len()).into_bytes();
                    framed.extend_from_slice(&record);
                    Some((Ok(Bytes::from(framed)), (closer, j + 1)))
                }
                Item::End(end) if end.why == cassette::CLOSED_BY_MASTER => None,
                Item::End(end) if end.why.starts_with(cassette::BROKE) => {
                    let why = end.why.trim_start_matches(cassette::BROKE).to_string();
                    Some((Err(std::io::Error::other(why)), (closer, j + 1)))
                }
                // Closed by the kernel when recorded: this kernel closes it again.
                _ => std::future::pending().await,
            }
        });
        PlayStream {
            inner: Box::pin(inner),
        }
    }
}

impl Stream for PlayStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
