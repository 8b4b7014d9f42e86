//! Arbitrary bytes through the RecordIO decoder in arbitrary chunkings. Besides not
//! panicking, the records must not depend on the chunking: what comes out when the bytes
//! arrive in pieces is what comes out when they arrive at once.
//!
//! Input: one byte n, then n % 8 chunk sizes (bytes; 0 counts as 1, cycled), then the
//! stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_kernel::mesos::recordio::{Decoder, RecordIoError};

/// Records until the first error (after which the stream is unusable) and that error.
fn decode(stream: &[u8], chunks: &[u8]) -> (Vec<Vec<u8>>, Option<RecordIoError>) {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    let mut rest = stream;
    let mut sizes = chunks.iter().cycle();
    loop {
        let n = match sizes.next() {
            Some(n) => usize::from(*n).max(1),
            None => rest.len(),
        };
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        d.push(piece);
        while let Some(r) = d.next_record() {
            match r {
                Ok(record) => out.push(record),
                Err(e) => return (out, Some(e)),
            }
        }
        if rest.is_empty() {
            return (out, None);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 8).min(rest.len());
    let (chunks, stream) = rest.split_at(n);
    let (whole, whole_err) = decode(stream, &[]);
    let (pieces, pieces_err) = decode(stream, chunks);
    assert_eq!(whole, pieces, "records depend on the chunking");
    assert_eq!(
        whole_err.is_some(),
        pieces_err.is_some(),
        "errors depend on the chunking: {whole_err:?} vs {pieces_err:?}"
    );
});
