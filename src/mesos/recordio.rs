//! RecordIO, the framing of Mesos event streams: `<decimal length>\n<record>`, repeated.
//! Chunk boundaries of the HTTP body have nothing to do with records, so the decoder takes
//! bytes in any pieces and hands out whole records.

/// Records larger than this are refused rather than buffered (big clusters' SUBSCRIBED
/// events reach tens of MiB; this leaves room without letting a bad length eat memory).
pub const MAX_RECORD_BYTES: usize = 256 * 1024 * 1024;
/// A length line is at most this long (u64::MAX has 20 digits). Longer lines are refused
/// whether or not their newline has arrived yet, so the chunking never changes the answer.
const MAX_LENGTH_LINE: usize = 20;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordIoError {
    #[error("bad record length {0:?}")]
    BadLength(String),
    #[error("record of {0} bytes is larger than the {MAX_RECORD_BYTES} bytes allowed")]
    TooLarge(usize),
}

#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Where unread bytes start in `buf`; compacted lazily to avoid quadratic copying.
    start: usize,
    /// The length of the record being read, once its header line has arrived.
    want: Option<usize>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole record, if one has arrived. After an error the stream is unusable.
    pub fn next_record(&mut self) -> Option<Result<Vec<u8>, RecordIoError>> {
        loop {
            let pending = &self.buf[self.start..];
            match self.want {
                None => {
                    let nl = pending.iter().position(|b| *b == b'\n');
                    if nl.unwrap_or(pending.len()) > MAX_LENGTH_LINE {
                        let shown = String::from_utf8_lossy(&pending[..MAX_LENGTH_LINE]);
                        return Some(Err(RecordIoError::BadLength(shown.into_owned())));
                    }
                    // No newline yet: the length line is still arriving.
                    let nl = nl?;
                    // Read in place: a flood is hundreds of thousands of these lines.
                    let header = pending[..nl].trim_ascii();
                    if header.is_empty() {
                        // Tolerate stray newlines between records.
                        self.start += nl + 1;
                        continue;
                    }
                    let len = match std::str::from_utf8(header).map(str::parse::<usize>) {
                        Ok(Ok(n)) => n,
                        _ => {
                            let shown = String::from_utf8_lossy(header).into_owned();
                            return Some(Err(RecordIoError::BadLength(shown)));
                        }
                    };
                    if len > MAX_RECORD_BYTES {
                        return Some(Err(RecordIoError::TooLarge(len)));
                    }
                    self.start += nl + 1;
                    self.want = Some(len);
                }
                Some(len) => {
                    if pending.len() < len {
                        return None;
                    }
                    let record = pending[..len].to_vec();
                    self.start += len;
                    self.want = None;
                    return Some(Ok(record));
                }
            }
        }
    }
}

/// Frames one record.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 8);
    encode_into(record, &mut out);
    out
}

/// Appends `record` to `out` as a RecordIO record.
pub fn encode_into(record: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = writeln!(out, "{}", record.len());
    out.extend_from_slice(record);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<Vec<u8>> {
        vec![
            br#"{"type":"SUBSCRIBED"}"#.to_vec(),
            br#"{"type":"HEARTBEAT"}"#.to_vec(),
            "{\"type\":\"UPDATE\",\"message\":\"héllo\"}"
                .as_bytes()
                .to_vec(),
            Vec::new(),
            vec![b'x'; 5000],
        ]
    }

    fn decode_in_chunks(stream: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for piece in stream.chunks(chunk) {
            d.push(piece);
            while let Some(r) = d.next_record() {
                out.push(r.unwrap());
            }
        }
        out
    }

    #[test]
    fn any_chunking_gives_the_same_records() {
        let stream: Vec<u8> = records().iter().flat_map(|r| encode(r)).collect();
        for chunk in [1, 2, 3, 7, 13, 64, 1000, stream.len()] {
            assert_eq!(
                decode_in_chunks(&stream, chunk),
                records(),
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn bad_lengths_are_errors_not_panics() {
        for bad in [
            &b"abc\n{}"[..],
            b"-1\n",
            b"99999999999999999999999\n",
            b"123456789012345678901234567",
        ] {
            let mut d = Decoder::new();
            d.push(bad);
            assert!(
                matches!(d.next_record(), Some(Err(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn long_length_lines_are_refused_whatever_the_chunking() {
        // Found by fuzzing (fuzz/ recordio): 65 zeros and a newline were a record of length
        // 0 when they arrived at once, and an error when they arrived byte by byte.
        let mut stream = vec![b'0'; 65];
        stream.extend_from_slice(b"\nhello");
        for chunk in [1, 7, stream.len()] {
            let mut d = Decoder::new();
            let mut first = None;
            for piece in stream.chunks(chunk) {
                d.push(piece);
                if first.is_none() {
                    first = d.next_record();
                }
            }
            assert!(
                matches!(first, Some(Err(RecordIoError::BadLength(_)))),
                "chunk size {chunk}: {first:?}"
            );
        }
    }

    #[test]
    fn partial_records_wait() {
        let mut d = Decoder::new();
        d.push(b"10\n12345");
        assert_eq!(d.next_record(), None);
        d.push(b"67890");
        assert_eq!(d.next_record(), Some(Ok(b"1234567890".to_vec())));
    }
}
