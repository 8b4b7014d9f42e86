//! RecordIO framing of Mesos event streams: each record is `<decimal length>\n<bytes>`.
//! The encoder is used by the cluster's streams; the decoder is shared with the kernel's
//! client, and accepts records split across chunks anywhere.

use std::collections::VecDeque;

/// Records longer than this are refused: a corrupt or hostile length must not make a client
/// allocate gigabytes. (mesos-go caps at 4 MiB, which big clusters exceed; we allow more.)
pub const MAX_RECORD_LEN: usize = 256 * 1024 * 1024;

/// Frames one record.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\n", record.len()).into_bytes();
    out.extend_from_slice(record);
    out
}

/// Why a stream cannot be decoded; once an error is returned the decoder stays failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    #[error("invalid RecordIO length header {0:?}")]
    BadLength(String),
    #[error("RecordIO record of {0} bytes exceeds the limit of {1} bytes")]
    TooLong(usize, usize),
}

/// Incremental decoder: `push` bytes as they arrive, then take records with `next_record`.
#[derive(Debug)]
pub struct RecordIoDecoder {
    buf: VecDeque<u8>,
    pending_len: Option<usize>,
    max_len: usize,
    failed: Option<RecordIoError>,
}

impl Default for RecordIoDecoder {
    fn default() -> Self {
        RecordIoDecoder::new()
    }
}

impl RecordIoDecoder {
    pub fn new() -> RecordIoDecoder {
        RecordIoDecoder::with_max_len(MAX_RECORD_LEN)
    }

    pub fn with_max_len(max_len: usize) -> RecordIoDecoder {
        RecordIoDecoder {
            buf: VecDeque::new(),
            pending_len: None,
            max_len,
            failed: None,
        }
    }

    /// Appends bytes received from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend(bytes);
    }

    /// The next complete record, `None` when more bytes are needed, or an error (then always
    /// the same error).
    pub fn next_record(&mut self) -> Option<Result<Vec<u8>, RecordIoError>> {
        if let Some(e) = &self.failed {
            return Some(Err(e.clone()));
        }
        if self.pending_len.is_none() {
            let newline = self.buf.iter().position(|&b| b == b'\n');
            let Some(pos) = newline else {
                // A length has at most 20 digits; more without a newline is garbage.
                if self.buf.len() > 20 {
                    let shown: Vec<u8> = self.buf.iter().take(20).copied().collect();
                    return Some(Err(self.fail(RecordIoError::BadLength(
                        String::from_utf8_lossy(&shown).into_owned(),
                    ))));
                }
                return None;
            };
            let header: Vec<u8> = self.buf.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&header[..header.len() - 1]).into_owned();
            let trimmed = text.trim_end_matches('\r');
            let len = match trimmed.parse::<usize>() {
                Ok(n) if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Some(Err(self.fail(RecordIoError::BadLength(text)))),
            };
            if len > self.max_len {
                return Some(Err(self.fail(RecordIoError::TooLong(len, self.max_len))));
            }
            self.pending_len = Some(len);
        }
        let len = self.pending_len?;
        if self.buf.len() < len {
            return None;
        }
        self.pending_len = None;
        Some(Ok(self.buf.drain(..len).collect()))
    }

    fn fail(&mut self, e: RecordIoError) -> RecordIoError {
        self.failed = Some(e.clone());
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_records_split_anywhere() {
        let records: Vec<&[u8]> = vec![b"{\"type\":\"HEARTBEAT\"}", b"", b"x\ny", b"0123456789"];
        let mut stream = Vec::new();
        for r in &records {
            stream.extend(encode(r));
        }
        for split in 1..stream.len() {
            let mut d = RecordIoDecoder::new();
            let mut got = Vec::new();
            for chunk in stream.chunks(split) {
                d.push(chunk);
                while let Some(r) = d.next_record() {
                    got.push(r.unwrap_or_default());
                }
            }
            let want: Vec<Vec<u8>> = records.iter().map(|r| r.to_vec()).collect();
            assert_eq!(got, want, "chunk size {split}");
        }
    }

    #[test]
    fn refuses_absurd_lengths_and_garbage() {
        let mut d = RecordIoDecoder::with_max_len(10);
        d.push(b"11\nhello world");
        assert_eq!(d.next_record(), Some(Err(RecordIoError::TooLong(11, 10))));
        let mut d = RecordIoDecoder::new();
        d.push(b"abc\n");
        assert!(matches!(
            d.next_record(),
            Some(Err(RecordIoError::BadLength(_)))
        ));
        let mut d = RecordIoDecoder::new();
        d.push(&[b'9'; 30]);
        assert!(matches!(
            d.next_record(),
            Some(Err(RecordIoError::BadLength(_)))
        ));
    }
}
