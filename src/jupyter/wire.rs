//! Jupyter wire messages: the multipart frames, their HMAC-SHA256 signatures, and the header.

use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

pub const DELIMITER: &[u8] = b"<IDS|MSG>";
pub const PROTOCOL_VERSION: &str = "5.4";
/// Messages bigger than this (all frames together) are dropped before their signature is
/// checked or their JSON parsed: parsing costs several times the text in memory. A 10 MB
/// cell still fits with room to spare.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Signs and verifies messages with the connection file's key. An empty key means the
/// front end asked for no signing, as the protocol allows.
#[derive(Clone)]
pub struct Signer {
    mac: Option<Hmac<Sha256>>,
}

impl std::fmt::Debug for Signer {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.mac.is_some() {
            "Signer(hmac-sha256)"
        } else {
            "Signer(none)"
        })
    }
}

impl Signer {
    pub fn new(key: &str) -> Self {
        let mac = if key.is_empty() {
            None
        } else {
            // HMAC accepts keys of any length, so this cannot fail.
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).ok()
        };
        Signer { mac }
    }

    pub fn sign(&self, parts: &[&[u8]]) -> String {
        match &self.mac {
            None => String::new(),
            Some(mac) => {
                let mut mac = mac.clone();
                for p in parts {
                    mac.update(p);
                }
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }

    /// Constant-time comparison of the signature frame against the parts.
    pub fn verify(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        match &self.mac {
            None => true,
            Some(mac) => {
                let Ok(expected) = hex::decode(signature) else {
                    return false;
                };
                let mut mac = mac.clone();
                for p in parts {
                    mac.update(p);
                }
                mac.verify_slice(&expected).is_ok()
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub msg_id: String,
    #[serde(default)]
    pub session: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub date: String,
    pub msg_type: String,
    #[serde(default)]
    pub version: String,
}

impl Header {
    pub fn new(msg_type: &str, session: &str, username: &str) -> Self {
        Header {
            msg_id: uuid::Uuid::new_v4().to_string(),
            session: session.to_string(),
            username: username.to_string(),
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            msg_type: msg_type.to_string(),
            version: PROTOCOL_VERSION.to_string(),
        }
    }
}

/// The `username` in the header of every message the kernel sends.
pub const USERNAME: &str = "kernel";

/// The kernel's end of the Jupyter session: its own session id, which every message it
/// sends carries in its header (as jupyter_client's `Session` stamps its own), and the
/// connection key that signs and verifies them.
#[derive(Debug, Clone)]
pub struct Session {
    id: std::sync::Arc<str>,
    signer: Signer,
}

impl Session {
    /// A new session (a random id) signing with `key`.
    pub fn new(key: &str) -> Self {
        Session {
            id: uuid::Uuid::new_v4().to_string().into(),
            signer: Signer::new(key),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A message of the kernel's own, with no parent (`status: starting`, `iopub_welcome`).
    pub fn message(&self, msg_type: &str, content: Value) -> Message {
        Message {
            identities: vec![],
            header: Header::new(msg_type, &self.id, USERNAME),
            parent_header: json!({}),
            metadata: json!({}),
            content,
            buffers: vec![],
        }
    }

    /// The frames of `msg` as the kernel sends it: stamped with this session, signed.
    pub fn encode(&self, mut msg: Message) -> Vec<Bytes> {
        if *msg.header.session != *self.id {
            msg.header.session = self.id.to_string();
        }
        msg.encode(&self.signer)
    }

    /// Decodes and verifies a message from a front end.
    pub fn decode(&self, frames: Vec<Bytes>) -> Result<Message, WireError> {
        Message::decode(frames, &self.signer)
    }
}

/// One message on a ROUTER or PUB socket.
#[derive(Debug, Clone)]
pub struct Message {
    pub identities: Vec<Bytes>,
    pub header: Header,
    /// Kept as the front end sent it, so replies echo it unchanged.
    pub parent_header: Value,
    pub metadata: Value,
    pub content: Value,
    pub buffers: Vec<Bytes>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    #[error("no <IDS|MSG> delimiter in the frames")]
    NoDelimiter,
    #[error("message has {0} frames after the delimiter; at least 5 are needed")]
    MissingFrames(usize),
    #[error("signature does not match")]
    BadSignature,
    #[error("message of {0} bytes is larger than the {MAX_MESSAGE_BYTES} bytes allowed")]
    TooLarge(usize),
    #[error("{frame} frame is not valid JSON: {message}")]
    BadJson {
        frame: &'static str,
        message: String,
    },
}

impl Message {
    /// Decodes and verifies a multipart message. Nothing is trusted before the signature
    /// has been checked against the raw frames.
    pub fn decode(frames: Vec<Bytes>, signer: &Signer) -> Result<Message, WireError> {
        let size: usize = frames.iter().map(Bytes::len).sum();
        if size > MAX_MESSAGE_BYTES {
            return Err(WireError::TooLarge(size));
        }
        let delim = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .ok_or(WireError::NoDelimiter)?;
        let rest = &frames[delim + 1..];
        if rest.len() < 5 {
            return Err(WireError::MissingFrames(rest.len()));
        }
        let parts: [&[u8]; 4] = [&rest[1], &rest[2], &rest[3], &rest[4]];
        if !signer.verify(&parts, &rest[0]) {
            return Err(WireError::BadSignature);
        }
        fn parse<T: serde::de::DeserializeOwned>(
            frame: &'static str,
            bytes: &[u8],
        ) -> Result<T, WireError> {
            serde_json::from_slice(bytes).map_err(|e| WireError::BadJson {
                frame,
                message: e.to_string(),
            })
        }
        Ok(Message {
            identities: frames[..delim].to_vec(),
            header: parse("header", &rest[1])?,
            parent_header: parse("parent_header", &rest[2])?,
            metadata: parse("metadata", &rest[3])?,
            content: parse("content", &rest[4])?,
            buffers: rest[5..].to_vec(),
        })
    }

    pub fn encode(&self, signer: &Signer) -> Vec<Bytes> {
        // Serializing serde_json values and derived structs cannot fail.
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let parent = serde_json::to_vec(&self.parent_header).unwrap_or_default();
        let metadata = serde_json::to_vec(&self.metadata).unwrap_or_default();
        let content = serde_json::to_vec(&self.content).unwrap_or_default();
        let signature = signer.sign(&[&header, &parent, &metadata, &content]);
        let mut frames = Vec::with_capacity(self.identities.len() + 6 + self.buffers.len());
        frames.extend(self.identities.iter().cloned());
        frames.push(Bytes::from_static(DELIMITER));
        frames.push(Bytes::from(signature));
        frames.push(Bytes::from(header));
        frames.push(Bytes::from(parent));
        frames.push(Bytes::from(metadata));
        frames.push(Bytes::from(content));
        frames.extend(self.buffers.iter().cloned());
        frames
    }

    /// A message answering (or published on behalf of) `self`. Its header's session is the
    /// kernel's, filled in by `Session::encode` when it is sent (never the front end's: a
    /// reply names its sender's session, the request's is in `parent_header`).
    pub fn child(&self, msg_type: &str, content: Value) -> Message {
        Message {
            identities: self.identities.clone(),
            header: Header::new(msg_type, "", USERNAME),
            parent_header: serde_json::to_value(&self.header).unwrap_or_else(|_| json!({})),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(msg: &Message, signer: &Signer) -> Vec<Bytes> {
        msg.encode(signer)
    }

    fn sample() -> Message {
        Message {
            identities: vec![Bytes::from_static(b"client-1")],
            header: Header::new("execute_request", "s1", "u"),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({"code": "1 + 2"}),
            buffers: vec![],
        }
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let signer = Signer::new("Jefe");
        assert_eq!(
            signer.sign(&[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_1() {
        // Key 0x0b * 20 is not valid UTF-8 text in general, but this one is.
        let signer = Signer::new(std::str::from_utf8(&[0x0b; 20]).unwrap());
        assert_eq!(
            signer.sign(&[b"Hi There"]),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn round_trip_keeps_everything() {
        let signer = Signer::new("secret");
        let msg = sample();
        let back = Message::decode(frames_of(&msg, &signer), &signer).unwrap();
        assert_eq!(back.header, msg.header);
        assert_eq!(back.content, msg.content);
        assert_eq!(back.identities, msg.identities);
    }

    #[test]
    fn no_delimiter_is_refused() {
        let signer = Signer::new("secret");
        let mut frames = frames_of(&sample(), &signer);
        frames.remove(1);
        assert_eq!(
            Message::decode(frames, &signer).unwrap_err(),
            WireError::NoDelimiter
        );
    }

    #[test]
    fn missing_frames_are_refused() {
        let signer = Signer::new("secret");
        let mut frames = frames_of(&sample(), &signer);
        frames.truncate(5);
        assert_eq!(
            Message::decode(frames, &signer).unwrap_err(),
            WireError::MissingFrames(3)
        );
    }

    #[test]
    fn wrong_signature_is_refused() {
        let msg = sample();
        let frames = frames_of(&msg, &Signer::new("other key"));
        assert_eq!(
            Message::decode(frames, &Signer::new("secret")).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn unsigned_is_refused_when_a_key_is_set() {
        let frames = frames_of(&sample(), &Signer::new(""));
        assert_eq!(
            Message::decode(frames, &Signer::new("secret")).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn tampered_content_is_refused() {
        let signer = Signer::new("secret");
        let mut frames = frames_of(&sample(), &signer);
        let last = frames.len() - 1;
        frames[last] = Bytes::from_static(br#"{"code": "rm -rf /"}"#);
        assert_eq!(
            Message::decode(frames, &signer).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn bad_json_is_refused_after_signature() {
        let signer = Signer::new("secret");
        let header = b"{not json".to_vec();
        let sig = signer.sign(&[&header, b"{}", b"{}", b"{}"]);
        let frames = vec![
            Bytes::from_static(DELIMITER),
            Bytes::from(sig),
            Bytes::from(header),
            Bytes::from_static(b"{}"),
            Bytes::from_static(b"{}"),
            Bytes::from_static(b"{}"),
        ];
        assert!(matches!(
            Message::decode(frames, &signer),
            Err(WireError::BadJson {
                frame: "header",
                ..
            })
        ));
    }

    #[test]
    fn huge_messages_are_refused_before_parsing() {
        let signer = Signer::new("secret");
        let mut msg = sample();
        msg.content = json!({ "code": "x".repeat(MAX_MESSAGE_BYTES) });
        let frames = frames_of(&msg, &signer);
        assert!(matches!(
            Message::decode(frames, &signer),
            Err(WireError::TooLarge(n)) if n > MAX_MESSAGE_BYTES
        ));
        msg.content = json!({ "code": "x".repeat(10 * 1024 * 1024) });
        assert!(Message::decode(frames_of(&msg, &signer), &signer).is_ok());
    }

    #[test]
    fn a_reply_carries_the_kernels_session_not_the_requests() {
        let kernel = Session::new("secret");
        let request = sample();
        let reply = request.child("execute_reply", json!({"status": "ok"}));
        let frames = kernel.encode(reply);
        let back = Message::decode(frames, &Signer::new("secret")).unwrap();
        assert_eq!(back.header.session, kernel.id());
        assert_ne!(back.header.session, request.header.session);
        assert_eq!(back.header.username, USERNAME);
        assert_eq!(back.parent_header["session"], json!("s1"));
        assert_eq!(back.parent_header["msg_id"], json!(request.header.msg_id));
    }

    #[test]
    fn sessions_differ() {
        assert_ne!(Session::new("k").id(), Session::new("k").id());
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert!(!format!("{:?}", Session::new("topsecret")).contains("topsecret"));
        let s = format!("{:?}", Signer::new("topsecret"));
        assert!(!s.contains("topsecret"));
    }
}
