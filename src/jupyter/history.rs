//! The input history of this session, answering `history_request` (tail, range, search).
//!
//! The cells' text goes to a temporary file (unlinked at once, so nothing is left behind);
//! memory holds 16 bytes per cell. A long session or a 10 MB cell costs disk, not the
//! kernel's RSS. Without a writable temporary directory the text stays in memory.

use serde_json::{json, Value};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;

/// This kernel keeps history for its own session, numbered 1.
pub const SESSION: i64 = 1;

#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u64,
    line: u32,
    len: u32,
}

#[derive(Debug)]
enum Store {
    File { file: File, end: u64 },
    Memory(String),
}

#[derive(Debug)]
pub struct History {
    index: Vec<Entry>,
    store: Store,
}

impl Default for History {
    fn default() -> Self {
        let store = match temp_file() {
            Ok(file) => Store::File { file, end: 0 },
            Err(e) => {
                tracing::warn!("history stays in memory: no temporary file ({e})");
                Store::Memory(String::new())
            }
        };
        History {
            index: Vec::new(),
            store,
        }
    }
}

fn temp_file() -> std::io::Result<File> {
    let path = std::env::temp_dir().join(format!(
        "mesos-kernel-history-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    // Unlinked while open: the file lives as long as the kernel, and no longer.
    std::fs::remove_file(&path)?;
    Ok(file)
}

impl History {
    /// A history whose text stays in memory (tests, and no temporary directory).
    pub fn in_memory() -> Self {
        History {
            index: Vec::new(),
            store: Store::Memory(String::new()),
        }
    }

    pub fn push(&mut self, line: u64, input: &str) {
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        // Wire messages are at most 64 MiB, so a cell's length fits; were it not, the cell
        // is left out of the history rather than cut.
        let Ok(len) = u32::try_from(input.len()) else {
            return;
        };
        let offset = match &mut self.store {
            Store::File { file, end } => match file.write_all(input.as_bytes()) {
                Ok(()) => {
                    *end += u64::from(len);
                    *end - u64::from(len)
                }
                Err(e) => {
                    // A full disk: keep what is written readable, go on in memory.
                    tracing::warn!("history moves to memory: cannot write its file ({e})");
                    self.move_to_memory();
                    return self.push(u64::from(line), input);
                }
            },
            Store::Memory(text) => {
                text.push_str(input);
                (text.len() - input.len()) as u64
            }
        };
        self.index.push(Entry { offset, line, len });
    }

    fn move_to_memory(&mut self) {
        let texts = self.entries(&self.index);
        let mut text = String::new();
        for (entry, (_, t)) in self.index.iter_mut().zip(texts) {
            entry.offset = text.len() as u64;
            entry.len = t.len() as u32;
            text.push_str(&t);
        }
        self.store = Store::Memory(text);
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The text of `selected`, in one read: cells are appended in order, so what a query
    /// selects (a tail, a range of lines, everything) lies in one span of the store.
    fn entries(&self, selected: &[Entry]) -> Vec<(u64, String)> {
        let start = selected.iter().map(|e| e.offset).min().unwrap_or(0);
        let end = selected
            .iter()
            .map(|e| e.offset + u64::from(e.len))
            .max()
            .unwrap_or(0);
        let span: std::borrow::Cow<[u8]> = match &self.store {
            Store::File { file, .. } => {
                let mut buf = vec![0u8; (end - start) as usize];
                if let Err(e) = file.read_exact_at(&mut buf, start) {
                    tracing::warn!("cannot read the history file: {e}");
                    buf.clear();
                }
                buf.into()
            }
            Store::Memory(text) => text
                .as_bytes()
                .get(start as usize..end as usize)
                .unwrap_or(&[])
                .into(),
        };
        selected
            .iter()
            .map(|e| {
                let at = (e.offset - start) as usize;
                let text = span.get(at..at + e.len as usize).unwrap_or(&[]);
                (
                    u64::from(e.line),
                    String::from_utf8_lossy(text).into_owned(),
                )
            })
            .collect()
    }

    /// The `history` array of a history_reply for the request's content.
    pub fn query(&self, content: &Value) -> Vec<Value> {
        let output = content
            .get("output")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let access = content
            .get("hist_access_type")
            .and_then(Value::as_str)
            .unwrap_or("tail");
        let n = content.get("n").and_then(Value::as_u64).map(|n| n as usize);
        let selected: Vec<(u64, String)> = match access {
            "range" => {
                let session = content.get("session").and_then(Value::as_i64).unwrap_or(0);
                // 0 is "this session" and negative numbers count back from it.
                if session != 0 && session != SESSION {
                    Vec::new()
                } else {
                    let start = content.get("start").and_then(Value::as_u64).unwrap_or(0);
                    let stop = content.get("stop").and_then(Value::as_u64);
                    let chosen: Vec<Entry> = self
                        .index
                        .iter()
                        .filter(|e| {
                            let line = u64::from(e.line);
                            line >= start && stop.is_none_or(|s| line < s)
                        })
                        .copied()
                        .collect();
                    self.entries(&chosen)
                }
            }
            "search" => {
                let pattern = content
                    .get("pattern")
                    .and_then(Value::as_str)
                    .unwrap_or("*");
                let unique = content
                    .get("unique")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let matcher = glob::Pattern::new(pattern).ok();
                let mut hits: Vec<(u64, String)> = self
                    .entries(&self.index)
                    .into_iter()
                    .filter(|(_, input)| matcher.as_ref().is_some_and(|m| m.matches(input)))
                    .collect();
                if unique {
                    // Keep the latest occurrence of each input, in order.
                    let mut seen = std::collections::HashSet::new();
                    let mut kept: Vec<(u64, String)> = hits
                        .into_iter()
                        .rev()
                        .filter(|(_, input)| seen.insert(input.clone()))
                        .collect();
                    kept.reverse();
                    hits = kept;
                }
                tail(hits, n)
            }
            _ => {
                let last = tail(self.index.clone(), n.or(Some(10)));
                self.entries(&last)
            }
        };
        selected
            .into_iter()
            .map(|(line, input)| {
                if output {
                    json!([SESSION, line, [input, null]])
                } else {
                    json!([SESSION, line, input])
                }
            })
            .collect()
    }
}

fn tail<T>(mut items: Vec<T>, n: Option<usize>) -> Vec<T> {
    if let Some(n) = n {
        if items.len() > n {
            items.drain(..items.len() - n);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        sample_in(History::default())
    }

    fn sample_in(mut h: History) -> History {
        for (i, code) in ["1+1", "1+2", "PRINT 3", "1+1", "GET_STATE"]
            .iter()
            .enumerate()
        {
            h.push(i as u64 + 1, code);
        }
        h
    }

    #[test]
    fn a_failed_write_moves_the_history_to_memory_and_keeps_it() {
        // A file that takes no writes, holding two cells already: as a full disk would.
        let path = std::env::temp_dir().join(format!("history-test-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, "1+1PRINT \"é\"").unwrap();
        let file = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut h = History {
            index: vec![
                Entry {
                    offset: 0,
                    line: 1,
                    len: 3,
                },
                Entry {
                    offset: 3,
                    line: 2,
                    len: 10,
                },
            ],
            store: Store::File { file, end: 13 },
        };
        h.push(3, "GET_STATE");
        assert!(matches!(h.store, Store::Memory(_)));
        assert_eq!(
            h.query(&json!({"hist_access_type": "tail", "n": 5})),
            vec![
                json!([1, 1, "1+1"]),
                json!([1, 2, "PRINT \"é\""]),
                json!([1, 3, "GET_STATE"])
            ]
        );
    }

    #[test]
    fn text_lives_in_a_file_and_memory_holds_an_index() {
        let h = sample();
        assert!(matches!(h.store, Store::File { .. }));
        let m = sample_in(History::in_memory());
        for q in [
            json!({"hist_access_type": "tail", "n": 3}),
            json!({"hist_access_type": "range", "session": 0, "start": 1}),
            json!({"hist_access_type": "search", "pattern": "*", "unique": true}),
        ] {
            assert_eq!(h.query(&q), m.query(&q), "{q}");
        }
        assert_eq!(std::mem::size_of::<Entry>(), 16);
        // Multibyte text reads back whole.
        let mut u = History::default();
        u.push(1, "PRINT \"é ☃ 🚀\"");
        assert_eq!(
            u.query(&json!({"hist_access_type": "tail", "n": 1})),
            vec![json!([1, 1, "PRINT \"é ☃ 🚀\""])]
        );
    }

    #[test]
    fn tail_gives_the_last_n() {
        let got = sample().query(&json!({"hist_access_type": "tail", "n": 2}));
        assert_eq!(got, vec![json!([1, 4, "1+1"]), json!([1, 5, "GET_STATE"])]);
    }

    #[test]
    fn range_is_half_open() {
        let got = sample()
            .query(&json!({"hist_access_type": "range", "session": 0, "start": 2, "stop": 4}));
        assert_eq!(got, vec![json!([1, 2, "1+2"]), json!([1, 3, "PRINT 3"])]);
        let other = sample().query(&json!({"hist_access_type": "range", "session": 7, "start": 1}));
        assert!(other.is_empty());
    }

    #[test]
    fn search_globs_unique_and_n() {
        let h = sample();
        let all = h.query(&json!({"hist_access_type": "search", "pattern": "1+*"}));
        assert_eq!(all.len(), 3);
        let unique =
            h.query(&json!({"hist_access_type": "search", "pattern": "1+*", "unique": true}));
        assert_eq!(unique, vec![json!([1, 2, "1+2"]), json!([1, 4, "1+1"])]);
        let n = h.query(&json!({"hist_access_type": "search", "pattern": "*", "n": 2}));
        assert_eq!(n.len(), 2);
        let q = h.query(&json!({"hist_access_type": "search", "pattern": "1?2*"}));
        assert_eq!(q, vec![json!([1, 2, "1+2"])]);
    }

    #[test]
    fn output_form_pairs_input_and_output() {
        let got = sample().query(&json!({"hist_access_type": "tail", "n": 1, "output": true}));
        assert_eq!(got, vec![json!([1, 5, ["GET_STATE", null]])]);
    }
}
