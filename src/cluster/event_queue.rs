//! A subscriber's queue of event records (a framework's or an operator's stream), bounded
//! in bytes. The master writes events as they happen and never waits for a reader; a
//! reader that stops reading would otherwise make it keep every event since, without end
//! (a 10,000-task cluster's operator SUBSCRIBED alone is 15 MB), as Mesos does: libprocess's
//! `http::Pipe::Writer::write` queues without a bound. Here, when the backlog passes the
//! bound the stream is closed: what was queued is dropped at once, the client sees its
//! stream end and subscribes again (the kernel does), and a framework is disconnected,
//! with its failover timeout, as when its connection breaks.

use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

pub use mpsc::error::TryRecvError;

/// What a subscriber may fall behind by unless told otherwise (`--subscriber-backlog`).
pub const DEFAULT_BACKLOG: usize = 64 << 20;

/// The bytes queued for one subscriber, and whether it fell too far behind.
#[derive(Debug)]
struct Backlog {
    bytes: AtomicUsize,
    limit: usize,
    overflowed: AtomicBool,
}

/// A queue whose reader may fall `limit` bytes behind. A record is always taken while the
/// queue is empty (a SUBSCRIBED bigger than the bound is still delivered).
pub fn channel(limit: usize) -> (Sender, Receiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let backlog = Arc::new(Backlog {
        bytes: AtomicUsize::new(0),
        limit,
        overflowed: AtomicBool::new(false),
    });
    (
        Sender {
            tx,
            backlog: Arc::clone(&backlog),
        },
        Receiver { rx, backlog },
    )
}

/// Why a record was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The stream's connection is gone.
    Gone,
    /// The reader fell too far behind; its stream is closed now.
    SlowReader,
}

#[derive(Debug, Clone)]
pub struct Sender {
    tx: mpsc::UnboundedSender<Bytes>,
    backlog: Arc<Backlog>,
}

impl Sender {
    /// The reader is gone, or was closed for falling behind.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed() || self.backlog.overflowed.load(Ordering::Acquire)
    }

    pub fn send(&self, record: Bytes) -> Result<(), Closed> {
        let b = &self.backlog;
        if b.overflowed.load(Ordering::Acquire) {
            return Err(Closed::SlowReader);
        }
        let queued = b.bytes.load(Ordering::Acquire);
        if queued > 0 && queued.saturating_add(record.len()) > b.limit {
            b.overflowed.store(true, Ordering::Release);
            tracing::warn!(
                queued,
                limit = b.limit,
                "closing an event stream whose reader fell too far behind"
            );
            // Wakes a reader waiting on an empty queue (it then sees the overflow).
            let _ = self.tx.send(Bytes::new());
            return Err(Closed::SlowReader);
        }
        b.bytes.fetch_add(record.len(), Ordering::AcqRel);
        self.tx.send(record).map_err(|_| Closed::Gone)
    }
}

#[derive(Debug)]
pub struct Receiver {
    rx: mpsc::UnboundedReceiver<Bytes>,
    backlog: Arc<Backlog>,
}

impl Receiver {
    /// The next record; `None` once every sender is gone or the reader fell behind.
    pub async fn recv(&mut self) -> Option<Bytes> {
        let record = self.rx.recv().await?;
        self.take(record)
    }

    pub fn try_recv(&mut self) -> Result<Bytes, TryRecvError> {
        let record = self.rx.try_recv()?;
        self.take(record).ok_or(TryRecvError::Disconnected)
    }

    fn take(&mut self, record: Bytes) -> Option<Bytes> {
        if self.backlog.overflowed.load(Ordering::Acquire) {
            self.rx.close();
            return None;
        }
        self.backlog.bytes.fetch_sub(record.len(), Ordering::AcqRel);
        Some(record)
    }
}

/// Mesos's Bytes form (`64MB`, `512KB`, `1GB`, `4096B`), for `--subscriber-backlog`.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size (expected e.g. 64MB)"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{text}' (B, KB, MB or GB)"
            ))
        }
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("'{text}' is too big"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_keeps_up_gets_every_record() {
        let (tx, mut rx) = channel(10);
        for i in 0..100u8 {
            tx.send(Bytes::from(vec![i; 8])).unwrap();
            assert_eq!(rx.try_recv().unwrap()[0], i);
        }
    }

    #[test]
    fn a_reader_that_falls_behind_is_closed_and_its_backlog_dropped() {
        let (tx, mut rx) = channel(10);
        // Bigger than the bound, but the queue is empty: taken.
        tx.send(Bytes::from(vec![1; 20])).unwrap();
        assert_eq!(tx.send(Bytes::from_static(b"x")), Err(Closed::SlowReader));
        assert_eq!(tx.send(Bytes::from_static(b"y")), Err(Closed::SlowReader));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn the_bound_counts_what_is_still_queued() {
        let (tx, mut rx) = channel(10);
        tx.send(Bytes::from_static(b"12345")).unwrap();
        tx.send(Bytes::from_static(b"12345")).unwrap();
        assert_eq!(rx.try_recv().unwrap().len(), 5);
        tx.send(Bytes::from_static(b"12345")).unwrap();
        assert_eq!(tx.send(Bytes::from_static(b"1")), Err(Closed::SlowReader));
    }

    #[tokio::test]
    async fn a_waiting_reader_sees_the_close() {
        let (tx, mut rx) = channel(4);
        tx.send(Bytes::from_static(b"1234")).unwrap();
        assert!(tx.send(Bytes::from_static(b"5")).is_err());
        assert_eq!(rx.recv().await, None);
    }

    #[test]
    fn sizes_are_read_as_mesos_writes_them() {
        assert_eq!(parse_bytes("64MB"), Ok(64 << 20));
        assert_eq!(parse_bytes("512KB"), Ok(512 << 10));
        assert_eq!(parse_bytes("1GB"), Ok(1 << 30));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("10B"), Ok(10));
        assert!(parse_bytes("10XB").is_err());
        assert!(parse_bytes("MB").is_err());
    }
}
