//! Arbitrary multipart frames through Message::decode with a fixed key. Random bytes are
//! stopped at the signature, so the input also says how to sign: the fuzzer's frames get
//! a correct signature often enough for the JSON paths behind it to be reached.
//!
//! Input: one mode byte, then the frames separated by 0xFF (a byte that valid UTF-8, and
//! so JSON, never contains). Mode % 3: 0 keeps the signature frame as written, 1 replaces
//! it with the correct HMAC of the four frames after it, 2 does so and then flips one bit
//! of it (at mode / 3), like a replayed signature over changed content.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use mesos_kernel::jupyter::wire::{Message, Signer, WireError, DELIMITER};

const KEY: &str = "fuzz-key-0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let signer = Signer::new(KEY);
    let mut frames: Vec<Bytes> = rest
        .split(|b| *b == 0xFF)
        .map(|f| Bytes::copy_from_slice(f))
        .collect();
    if mode % 3 != 0 {
        if let Some(delim) = frames.iter().position(|f| f.as_ref() == DELIMITER) {
            if delim + 1 < frames.len() {
                let parts: Vec<&[u8]> = frames[delim + 2..]
                    .iter()
                    .take(4)
                    .map(|f| f.as_ref())
                    .collect();
                let mut signature = signer.sign(&parts).into_bytes();
                if mode % 3 == 2 {
                    let i = usize::from(mode / 3) % signature.len();
                    signature[i] ^= 1;
                }
                frames[delim + 1] = Bytes::from(signature);
            }
        }
    }

    match Message::decode(frames, &signer) {
        Ok(msg) => {
            // What the kernel does next with a good message: answer it. The message and
            // the answer must decode again, the message to the same header.
            let again = Message::decode(msg.encode(&signer), &signer)
                .unwrap_or_else(|e| panic!("a decoded message does not decode again: {e}"));
            assert_eq!(again.header, msg.header);
            assert_eq!(again.identities, msg.identities);
            assert_eq!(again.buffers, msg.buffers);
            let reply = msg.child("status", serde_json::json!({"execution_state": "idle"}));
            Message::decode(reply.encode(&signer), &signer)
                .unwrap_or_else(|e| panic!("a reply does not decode: {e}"));
        }
        Err(WireError::NoDelimiter)
        | Err(WireError::MissingFrames(_))
        | Err(WireError::BadSignature)
        | Err(WireError::TooLarge(_))
        | Err(WireError::BadJson { .. }) => {}
    }
});
